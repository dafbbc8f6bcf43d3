import { beforeAll, describe, expect, it } from 'vitest';
import type { Template } from 'aws-cdk-lib/assertions';
import { Stack, Validations, type App, type CfnElement } from 'aws-cdk-lib';
import { Role } from 'aws-cdk-lib/aws-iam';
import { EVERY_ACCESS_SYSTEM, describeRef, permissionsByRole, sampleApp } from '../support/cdk.ts';
import { WILDCARD_ACTIONS_MARK } from '#infra/constructs/killswitch-function.ts';

const via = (service: string) => ` if {"StringEquals":{"kms:ViaService":"${service}.eu-west-1.amazonaws.com"}}`;
const keyVia = (service: string) => [`kms:Decrypt -> DataKey${via(service)}`, `kms:GenerateDataKey -> DataKey${via(service)}`];

/** What every function role has for its own logs (encrypted with the key), tracing and DLQ. */
const baseline = (fn: string) => [
  ...keyVia('sqs'),
  ...keyVia('logs'),
  `logs:CreateLogStream -> ${fn}Logs`,
  `logs:PutLogEvents -> ${fn}Logs`,
  `sqs:SendMessage -> ${fn}Dlq`,
  'xray:PutTelemetryRecords -> *',
  'xray:PutTraceSegments -> *',
];
/** killswitch's own events go on the domain bus, which only these roles may write (its policy denies everyone else). */
const publishes = ['events:PutEvents -> DomainBus', 'sns:Publish -> OperatorAlerts', ...keyVia('sns')];
const dynamoKey = (write: boolean) => [
  `kms:Decrypt -> DataKey${via('dynamodb')}`,
  `kms:DescribeKey -> DataKey${via('dynamodb')}`,
  ...(write ? [`kms:Encrypt -> DataKey${via('dynamodb')}`, `kms:GenerateDataKey -> DataKey${via('dynamodb')}`] : []),
];
/** An SQS event source: receive, delete, extend visibility on that queue, and its key through SQS only. */
const consumes = (queue: string) => [
  ...keyVia('sqs'),
  ...['ChangeMessageVisibility', 'DeleteMessage', 'GetQueueAttributes', 'ReceiveMessage'].map((a) => `sqs:${a} -> ${queue}`),
];
const killSwitch = [
  'dynamodb:GetItem -> ProgramState',
  'dynamodb:UpdateItem -> ProgramState',
  'dynamodb:GetItem -> Ledger',
  'dynamodb:PutItem -> Ledger',
  'dynamodb:UpdateItem -> Ledger',
];

const bucketPolicy = (bucket: string) =>
  ['s3:DeleteBucketPolicy', 's3:GetBucketPolicy', 's3:PutBucketPolicy'].map(
    (a) => `${a} -> arn:AWS::Partition:s3:::${bucket} if {"StringEquals":{"s3:ResourceAccount":"111111111111"}}`,
  );

const anchors = 'arn:AWS::Partition:s3:::killswitch-anchors-111111111111-eu-west-1';
const inAccount = ' if {"StringEquals":{"s3:ResourceAccount":"111111111111"}}';
/**
 * Sealing the ledger's hash chains (every writer of timeline or audit entries): read the chain's
 * partition, an UpdateItem limited to the chain's own attributes (unless the role updates the ledger
 * anyway), and PutObject of chain heads under chains/ in the anchors bucket.
 */
const seals = (updatesLedger: boolean) => [
  'dynamodb:GetItem -> Ledger',
  'dynamodb:Query -> Ledger',
  ...(updatesLedger
    ? []
    : [
        'dynamodb:UpdateItem -> Ledger if {"ForAllValues:StringEquals":{"dynamodb:Attributes":["pk","sk","chain","chainId","seq","hash","prev","headSk"]},"StringEqualsIfExists":{"dynamodb:ReturnValues":"NONE"}}',
      ]),
  `s3:PutObject -> ${anchors}/chains/*${inAccount}`,
];

/** The expected permissions of every role, written out by hand: any drift fails this test. */
const EXPECTED: Record<string, string[]> = {
  AnomalyTriggerRole: [
    ...baseline('AnomalyTrigger'),
    ...publishes,
    ...dynamoKey(true),
    ...killSwitch,
    ...consumes('AnomalyTriggerIntake'),
    'sqs:SendMessage -> AnomalyTriggerIntakeDlq',
    ...seals(true),
  ],
  // The finding trigger acts on the kill switch like the anomaly trigger, and keeps malformed findings.
  FindingTriggersTriggerRole: [
    ...baseline('FindingTriggersTrigger'),
    ...publishes,
    ...dynamoKey(true),
    ...killSwitch,
    ...consumes('FindingTriggersIntake'),
    'sqs:SendMessage -> FindingTriggersRejectedFindings',
    ...seals(true),
  ],
  // The sweep: the same, plus read-only finding APIs in this account and region.
  FindingTriggersSweepRole: [
    ...baseline('FindingTriggersSweep'),
    ...publishes,
    ...dynamoKey(true),
    ...killSwitch,
    'sqs:SendMessage -> FindingTriggersRejectedFindings',
    // Macie's finding actions have no resource types; GuardDuty's ListDetectors neither.
    'macie2:ListFindings -> *',
    'macie2:GetFindings -> *',
    'guardduty:ListDetectors -> *',
    'guardduty:ListFindings -> arn:AWS::Partition:guardduty:eu-west-1:111111111111:detector/*',
    'guardduty:GetFindings -> arn:AWS::Partition:guardduty:eu-west-1:111111111111:detector/*',
    'securityhub:GetFindings -> arn:AWS::Partition:securityhub:eu-west-1:111111111111:hub/default',
    ...seals(true),
  ],
  OperatorControlOperatorRole: [
    ...baseline('OperatorControlOperator'),
    ...publishes,
    ...dynamoKey(true),
    ...killSwitch,
    'dynamodb:Query -> ProgramState',
    'dynamodb:Query -> Ledger',
    'dynamodb:Query -> Ledger/index/byKind',
    // A dry-run pause counts the grants a revocation would remove.
    'dynamodb:Query -> Grants',
    // status and incident show count the agents' acknowledgements: the counters only, not the per-agent records.
    'dynamodb:Query -> Acknowledgements if {"ForAllValues:StringLike":{"dynamodb:LeadingKeys":["acked#*","seen#*"]}}',
    'sqs:SendMessage -> GrantRevocationWork',
    'sqs:SendMessage -> ExposureNoticesPlanWork',
    // A notice's delivery record (notices show): the entry and its bucket's claim, in one batch read of the delivery ledger's items only.
    'dynamodb:BatchGetItem -> Ledger if {"ForAllValues:StringLike":{"dynamodb:LeadingKeys":["NOTICES#*"]}}',
    ...seals(true),
    // verify: the exported heads, and whether Object Lock keeps them.
    `s3:ListBucket -> ${anchors} if {"StringLike":{"s3:prefix":["chains/*"]},"StringEquals":{"s3:ResourceAccount":"111111111111"}}`,
    `s3:GetBucketObjectLockConfiguration -> ${anchors}${inAccount}`,
  ],
  OperatorControlBreakGlassRole: [
    ...baseline('OperatorControlBreakGlass'),
    ...publishes,
    ...dynamoKey(true),
    'dynamodb:GetItem -> ProgramState',
    'dynamodb:UpdateItem -> ProgramState',
    'dynamodb:GetItem -> Ledger',
    'dynamodb:PutItem -> Ledger',
    ...seals(false),
  ],
  GrantRevocationWorkerRole: [
    ...baseline('GrantRevocationWorker'),
    ...publishes,
    ...dynamoKey(true),
    ...consumes('GrantRevocationWork'),
    'dynamodb:GetItem -> Grants',
    'dynamodb:Query -> Grants',
    'dynamodb:UpdateItem -> Grants',
    'dynamodb:GetItem -> Ledger',
    'dynamodb:PutItem -> Ledger',
    // The incident's timeline: restores waiting for its revocation (strongly consistent, no index).
    'dynamodb:Query -> Ledger',
    'sqs:SendMessage -> GrantRevocationWork',
    'sqs:SendMessage -> GrantRevocationWorkDlq',
    // The quarantine of the sample's transcripts (datasets[].access.bucketPolicy): its policy only, in this account only.
    ...bucketPolicy('mci-transcripts'),
    ...seals(false),
  ],
  ExposureNoticesPlannerRole: [
    ...baseline('ExposureNoticesPlanner'),
    ...dynamoKey(true),
    ...consumes('ExposureNoticesPlanWork'),
    'events:PutEvents -> DomainBus',
    'dynamodb:Query -> DataSubjects',
    'dynamodb:GetItem -> Ledger',
    'dynamodb:PutItem -> Ledger',
    'dynamodb:Query -> Ledger',
    'dynamodb:UpdateItem -> Ledger',
    // Under a bucket's claim, new PENDING entries in batches: the delivery ledger's items only.
    'dynamodb:BatchGetItem -> Ledger if {"ForAllValues:StringLike":{"dynamodb:LeadingKeys":["NOTICES#*"]}}',
    'dynamodb:BatchWriteItem -> Ledger if {"ForAllValues:StringLike":{"dynamodb:LeadingKeys":["NOTICES#*"]}}',
    'sqs:SendMessage -> ExposureNoticesPlanWork',
    'sqs:SendMessage -> ExposureNoticesPlanDlq',
    'sqs:SendMessage -> ExposureNoticesSendWork',
    ...seals(true),
  ],
  // The sender reads the incident, claims buckets and writes their entries; it can publish notices and nothing else.
  ExposureNoticesSenderRole: [
    ...baseline('ExposureNoticesSender'),
    ...dynamoKey(true),
    ...consumes('ExposureNoticesSendWork'),
    ...keyVia('sns'),
    'sns:Publish -> ExposureNotices',
    'dynamodb:Query -> Ledger',
    'dynamodb:UpdateItem -> Ledger',
    'dynamodb:BatchGetItem -> Ledger if {"ForAllValues:StringLike":{"dynamodb:LeadingKeys":["NOTICES#*"]}}',
    'dynamodb:BatchWriteItem -> Ledger if {"ForAllValues:StringLike":{"dynamodb:LeadingKeys":["NOTICES#*"]}}',
    'sqs:SendMessage -> ExposureNoticesSendDlq',
  ],
  // The state feed's publisher reads the program states, signs with the feed's key (ES256 on raw
  // messages only) and writes the program's document and the key set: nothing else.
  // The acknowledgement intake reads the enrolment secret and queues what it accepts: nothing else.
  HaltAcknowledgementsIntakeRole: [
    ...baseline('HaltAcknowledgementsIntake'),
    'secretsmanager:GetSecretValue -> AgentEnrolmentSecret',
    `kms:Decrypt -> DataKey${via('secretsmanager')}`,
    ...keyVia('sqs'),
    'sqs:SendMessage -> HaltAcknowledgementsAckQueue',
  ],
  // The aggregator counts acknowledgements and records HALT_CONFIRMED (a new timeline entry, never an update).
  HaltAcknowledgementsAggregatorRole: [
    ...baseline('HaltAcknowledgementsAggregator'),
    ...dynamoKey(true),
    ...consumes('HaltAcknowledgementsAckQueue'),
    'dynamodb:Query -> Acknowledgements',
    'dynamodb:UpdateItem -> Acknowledgements',
    'dynamodb:Query -> ProgramState',
    'dynamodb:PutItem -> Ledger',
    'sqs:SendMessage -> HaltAcknowledgementsAckDlq',
    ...seals(false),
  ],
  // The Art. 33 deadline watch reads incidents and their timelines, records its alerts (chained), alerts the operators, and seals what writers left unsealed.
  BreachDeadlinesWatchRole: [
    ...baseline('BreachDeadlinesWatch'),
    ...dynamoKey(true),
    ...keyVia('sns'),
    'sns:Publish -> OperatorAlerts',
    'dynamodb:PutItem -> Ledger',
    'dynamodb:Query -> Ledger/index/byKind',
    ...seals(false),
  ],
  StateFeedPublisherRole: [
    ...baseline('StateFeedPublisher'),
    ...dynamoKey(false),
    'dynamodb:Query -> ProgramState',
    'kms:Sign -> StateFeedSigningKey if {"StringEquals":{"kms:SigningAlgorithm":"ECDSA_SHA_256","kms:MessageType":"RAW"}}',
    'kms:GetPublicKey -> StateFeedSigningKey',
    's3:PutObject -> StateFeedOrigin/state/mci.jws if {"StringEquals":{"s3:ResourceAccount":"111111111111"}}',
    's3:PutObject -> StateFeedOrigin/keys.json if {"StringEquals":{"s3:ResourceAccount":"111111111111"}}',
  ],
};

/** Resource-based permissions on the functions: who may invoke what, and how. */
const EXPECTED_INVOKERS = [
  'events.amazonaws.com: lambda:InvokeFunction on BreachDeadlinesWatchFunction (from BreachDeadlinesSchedule)',
  // Anyone may call the acknowledgement URL (agents hold no AWS credentials): each acknowledgement carries its agent's HMAC.
  '*: lambda:InvokeFunctionUrl on HaltAcknowledgementsIntakeFunction (NONE)',
  '*: lambda:InvokeFunction on HaltAcknowledgementsIntakeFunction (via URL only)',
  'events.amazonaws.com: lambda:InvokeFunction on StateFeedPublisherFunction (from StateFeedResignSchedule)',
  'events.amazonaws.com: lambda:InvokeFunction on StateFeedPublisherFunction (from StateFeedStateChangedRule)',
  'events.amazonaws.com: lambda:InvokeFunction on FindingTriggersSweepFunction (from FindingTriggersSweepSchedule)',
  'events.amazonaws.com: lambda:InvokeFunction on HaltAcknowledgementsAggregatorFunction (from HaltAcknowledgementsExpirySchedule)',
  'OperatorControlOperatorsRole: lambda:InvokeFunction on OperatorControlBreakGlassFunction',
  'OperatorControlOperatorsRole: lambda:InvokeFunction on OperatorControlOperatorFunction (via URL only)',
  'OperatorControlOperatorsRole: lambda:InvokeFunctionUrl on OperatorControlOperatorFunction (AWS_IAM)',
];

describe('Least privilege', () => {
  let stateless: Template;
  let stateful: Template;
  let app: App;
  beforeAll(() => {
    ({ stateless, stateful, app } = sampleApp());
  });

  it('gives every role exactly the permissions in the expected table', () => {
    const actual = permissionsByRole(stateless);
    expect(Object.keys(actual).sort()).toEqual(Object.keys(EXPECTED).sort());
    for (const [role, perms] of Object.entries(EXPECTED)) expect(actual[role], role).toEqual([...new Set(perms)].sort());
  });

  it('gives the grant worker exactly the actions of each access system on exactly the mapped resources', () => {
    const { stateless: every } = sampleApp(EVERY_ACCESS_SYSTEM);
    const instance = (account: string) => `arn:AWS::Partition:s3:eu-west-1:${account}:access-grants/default`;
    expect(permissionsByRole(every).GrantRevocationWorkerRole).toEqual(
      [
        ...new Set([
          ...EXPECTED.GrantRevocationWorkerRole!.filter((p) => !p.startsWith('s3:') || p.includes('/chains/*')),
          ...bucketPolicy('mci-keystrokes'),
          ...bucketPolicy('mci-transcripts'),
          'lakeformation:BatchGrantPermissions -> *',
          'lakeformation:BatchRevokePermissions -> *',
          'lakeformation:ListPermissions -> *',
          `s3:ListAccessGrants -> ${instance('222222222222')}`,
          `s3:CreateAccessGrant -> ${instance('222222222222')}`,
          `s3:CreateAccessGrant -> ${instance('222222222222')}/grant/*`,
          `s3:CreateAccessGrant -> ${instance('222222222222')}/location/*`,
          `s3:DeleteAccessGrant -> ${instance('222222222222')}/grant/*`,
          `s3:DeleteAccessGrant -> ${instance('222222222222')}/location/*`,
        ]),
      ].sort(),
    );
  });

  it("gives each program's collectors GetItem/Query on that program's items of ProgramState and Decrypt on its key through DynamoDB, nothing else", () => {
    const policies = Object.values(stateless.findResources('AWS::IAM::ManagedPolicy'));
    expect(policies).toHaveLength(1); // the sample configuration has one program
    const statements = policies[0]!.Properties.PolicyDocument.Statement as Record<string, unknown>[];
    // Condition values that are references (the table's name) are shown by what they refer to.
    const conditionOf = (c: unknown) =>
      JSON.stringify(c, (_k, v: unknown) =>
        v && typeof v === 'object' && !Array.isArray(v) && ('Fn::ImportValue' in v || 'Ref' in v) ? describeRef(v) : v,
      );
    const flat = statements.flatMap((s) =>
      ([] as unknown[])
        .concat(s.Action)
        .map(
          (a) =>
            `${String(a)} -> ${describeRef(([] as unknown[]).concat(s.Resource)[0])}${s.Condition ? ` if ${conditionOf(s.Condition)}` : ''}`,
        ),
    );
    expect(flat.sort()).toEqual(
      [
        'dynamodb:GetItem -> ProgramState if {"ForAllValues:StringEquals":{"dynamodb:LeadingKeys":["mci"]}}',
        'dynamodb:Query -> ProgramState if {"ForAllValues:StringEquals":{"dynamodb:LeadingKeys":["mci"]}}',
        // Decrypt only for the ProgramState table (the key also encrypts the ledger, grants and data subjects).
        'kms:Decrypt -> DataKey if {"StringEquals":{"kms:ViaService":"dynamodb.eu-west-1.amazonaws.com","kms:EncryptionContext:aws:dynamodb:tableName":"ProgramState","kms:EncryptionContext:aws:dynamodb:subscriberId":"111111111111"}}',
      ].sort(),
    );
  });

  it('grants no use of the key except through the service that holds the data (kms:ViaService), in every role and policy', () => {
    const unconditioned: string[] = [];
    for (const [id, r] of Object.entries(
      stateless.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>,
    )) {
      if (r.Type !== 'AWS::IAM::Policy' && r.Type !== 'AWS::IAM::ManagedPolicy') continue;
      for (const st of (r.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement) {
        const kms = ([] as unknown[]).concat(st.Action).filter((a) => String(a).startsWith('kms:'));
        // The state feed's signing key is not a data key: it signs (kms:Sign, kms:GetPublicKey), it never decrypts.
        const signing =
          kms.every((a) => a === 'kms:Sign' || a === 'kms:GetPublicKey') &&
          describeRef(([] as unknown[]).concat(st.Resource)[0]) === 'StateFeedSigningKey';
        if (kms.length && !signing && !JSON.stringify(st.Condition ?? {}).includes('kms:ViaService'))
          unconditioned.push(`${id}: ${kms.join(', ')}`);
      }
    }
    expect(unconditioned).toEqual([]);
  });

  it('acknowledges wildcard resources only with a reason that names exactly the actions granted on "*"', () => {
    const actual = permissionsByRole(stateless);
    // Acknowledgements live on the constructs (cdk-nag reads them there), not in the template.
    const roles = app.node.findAll().filter((c): c is Role => c instanceof Role && Stack.of(c).stackName.endsWith('Stateless'));
    for (const [role, perms] of Object.entries(actual)) {
      const onStar = perms
        .filter((p) => p.endsWith(' -> *'))
        .map((p) => p.split(' -> ')[0]!)
        .sort();
      const construct = roles.find((r) =>
        Stack.of(r)
          .getLogicalId(r.node.defaultChild as CfnElement)
          .startsWith(role),
      );
      const reasons = (construct?.node.metadata ?? [])
        .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .map((m) => JSON.stringify(m.data));
      const named = reasons
        .flatMap((r) => [...r.matchAll(new RegExp(`${WILDCARD_ACTIONS_MARK} ([^.]+)\\.`, 'g'))].flatMap((m) => m[1]!.split(', ')))
        .sort();
      expect(named, role).toEqual(onStar);
    }
  });

  it('lets AWS services send to a queue only for the one rule that targets it (aws:SourceArn), and use the key only for this account (CloudWatch Logs: only for its log groups)', () => {
    const loose: string[] = [];
    for (const template of [stateless, stateful]) {
      for (const [id, r] of Object.entries(
        template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>,
      )) {
        const doc = (
          r.Type === 'AWS::SQS::QueuePolicy' ? r.Properties.PolicyDocument : r.Type === 'AWS::KMS::Key' ? r.Properties.KeyPolicy : undefined
        ) as { Statement: Record<string, unknown>[] } | undefined;
        for (const st of doc?.Statement ?? []) {
          if (st.Effect !== 'Allow' || !JSON.stringify(st.Principal ?? {}).includes('"Service"')) continue;
          const condition = JSON.stringify(st.Condition ?? {});
          // CloudWatch Logs names the log group in the encryption context: only this account's, in this region.
          const logsOfThisAccount =
            JSON.stringify(st.Principal) === '{"Service":"logs.eu-west-1.amazonaws.com"}' &&
            condition.includes('"ArnLike":{"kms:EncryptionContext:aws:logs:arn"') &&
            condition.includes(':logs:eu-west-1:111111111111:log-group:*"');
          const ok =
            r.Type === 'AWS::SQS::QueuePolicy'
              ? condition.includes('aws:SourceArn')
              : condition.includes('aws:SourceAccount') || condition.includes('aws:SourceArn') || logsOfThisAccount;
          if (!ok) loose.push(`${id}: ${JSON.stringify(st.Principal)} ${JSON.stringify(st.Action)}`);
        }
      }
    }
    expect(loose).toEqual([]);
  });

  it('denies sqs:SendMessage on every queue a function consumes to all but the roles granted it and the rules that target it', () => {
    const resources = stateless.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
    const consumed = Object.values(resources)
      .filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping')
      .map((r) => describeRef(r.Properties.EventSourceArn));
    expect(consumed.length).toBeGreaterThanOrEqual(5); // two intakes, grant work, plan work, send work
    const perms = permissionsByRole(stateless);
    for (const queue of consumed) {
      const policy = Object.values(resources).find(
        (r) => r.Type === 'AWS::SQS::QueuePolicy' && (r.Properties.Queues as unknown[]).some((q) => describeRef(q) === queue),
      );
      const deny = ((policy?.Properties.PolicyDocument as { Statement: Record<string, unknown>[] } | undefined)?.Statement ?? []).find(
        (st) => st.Effect === 'Deny' && st.Action === 'sqs:SendMessage',
      );
      expect(deny, `${queue} has no deny for other senders`).toMatchObject({ Principal: { AWS: '*' } });
      const not = (deny!.Condition as Record<string, Record<string, unknown[]>>).ArnNotEquals!;
      const roles = (not['aws:PrincipalArn'] ?? []).map((r) => describeRef(r).replace(/Role$/, 'Role')).sort();
      const senders = Object.entries(perms)
        .filter(([, p]) => p.includes(`sqs:SendMessage -> ${queue}`))
        .map(([role]) => role)
        .sort();
      expect(roles, `roles let through to ${queue}`).toEqual(senders);
      const rules = (not['aws:SourceArn'] ?? []).map(describeRef).sort();
      const targeting = Object.entries(resources)
        .filter(
          ([, r]) =>
            r.Type === 'AWS::Events::Rule' && (r.Properties.Targets as { Arn: unknown }[]).some((t) => describeRef(t.Arn) === queue),
        )
        .map(([id]) => id.replace(/[0-9A-F]{8}$/, ''))
        .sort();
      expect(rules, `rules let through to ${queue}`).toEqual(targeting);
    }
  });

  it('denies events:PutEvents on the domain bus to every principal but the functions that publish killswitch events', () => {
    const policies = Object.values(stateless.findResources('AWS::Events::EventBusPolicy'));
    expect(policies).toHaveLength(1);
    const statement = policies[0]!.Properties.Statement as Record<string, unknown>;
    expect(statement).toMatchObject({ Effect: 'Deny', Principal: { AWS: '*' }, Action: 'events:PutEvents' });
    const allowed = ((statement.Condition as Record<string, Record<string, unknown[]>>).ArnNotEquals!['aws:PrincipalArn'] ?? [])
      .map(describeRef)
      .sort();
    const publishers = Object.entries(permissionsByRole(stateless))
      .filter(([, perms]) => perms.includes('events:PutEvents -> DomainBus'))
      .map(([role]) => `${role}Arn`.replace(/RoleArn$/, 'Role'));
    expect(allowed).toEqual(publishers.map((r) => r).sort());
  });

  it('binds the operators role session name to the person: the IAM user name, or the source identity of the configured federation roles only', () => {
    const trustOf = (t: Template) =>
      (
        Object.values(t.findResources('AWS::IAM::Role', { Properties: { RoleName: 'KillswitchOperators' } }))[0]!.Properties
          .AssumeRolePolicyDocument as { Statement: Record<string, unknown>[] }
      ).Statement;
    const sessionNames = (trust: Record<string, unknown>[]) =>
      trust.map((s) => [s.Sid, (s.Condition as Record<string, Record<string, string>>).StringEquals!['sts:RoleSessionName']]);
    // The sample configuration federates nobody: IAM users only (Identity Center users use their permission set's role).
    expect(sessionNames(trustOf(stateless))).toEqual([['IamUsersUnderTheirOwnName', '${aws:username}']]);
    const saml = 'arn:aws:iam::111111111111:role/OktaOncall';
    const federated = trustOf(sampleApp({ operators: { identityCenterRoleArns: [], sourceIdentityRoleArns: [saml] } }).stateless);
    expect(sessionNames(federated)).toEqual([
      ['IamUsersUnderTheirOwnName', '${aws:username}'],
      ['FederatedSessionsUnderTheirSourceIdentity', '${aws:SourceIdentity}'],
    ]);
    // A source identity counts only from the federation roles, never from a role whose callers could set any.
    expect(federated[1]!.Condition).toMatchObject({ ArnEquals: { 'aws:PrincipalArn': [saml] } });
    // No statement lets a caller assume it under a name of their choosing.
    for (const s of federated) expect(JSON.stringify(s.Condition)).toContain('sts:RoleSessionName');
  });

  it('lets no principal delete anything: no Delete action, no wildcard service actions', () => {
    for (const template of [stateless, stateful]) {
      const docs = JSON.stringify(template.toJSON());
      expect(docs).not.toMatch(/dynamodb:(Delete\w*|\*)|"dynamodb:\*"|sqs:DeleteQueue|sns:DeleteTopic|"\*"\s*:\s*"\*"/);
    }
  });

  it('allows invoking the operator function only through its AWS_IAM URL, and only by the operators role; the acknowledgement intake only through its URL', () => {
    const invokers = Object.values(stateless.findResources('AWS::Lambda::Permission')).map(({ Properties: p }) => {
      const principal = typeof p.Principal === 'string' ? p.Principal : describeRef(p.Principal).replace(/Arn$/, '');
      const how = p.InvokedViaFunctionUrl ? ' (via URL only)' : p.FunctionUrlAuthType ? ` (${p.FunctionUrlAuthType})` : '';
      const from = p.SourceArn ? ` (from ${describeRef(p.SourceArn)})` : '';
      return `${principal}: ${p.Action} on ${describeRef(p.FunctionName)}${how}${from}`;
    });
    expect(invokers.sort()).toEqual([...EXPECTED_INVOKERS].sort());
  });
});
