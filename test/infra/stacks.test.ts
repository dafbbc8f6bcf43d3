import { beforeAll, describe, expect, it } from 'vitest';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { TableDefinitions } from '#shared/adapters/dynamodb/table-definitions.ts';
import { loadDeploymentConfig, parseDeploymentConfig } from '#infra/config.ts';
import { sampleApp } from '../support/cdk.ts';

describe('Stacks: killswitch on AWS', () => {
  let stateful: Template;
  let stateless: Template;
  beforeAll(() => {
    ({ stateful, stateless } = sampleApp());
  });

  describe('Stack: Stateful', () => {
    it('has a rotating customer-managed key, retained', () => {
      stateful.hasResource('AWS::KMS::Key', { Properties: { EnableKeyRotation: true }, DeletionPolicy: 'Retain' });
    });

    it.each(Object.entries(TableDefinitions))(
      'builds the %s table from its definition: on demand, PITR, deletion protection, CMK',
      (_, def) => {
        stateful.hasResource('AWS::DynamoDB::Table', {
          DeletionPolicy: 'Retain',
          Properties: Match.objectLike({
            BillingMode: 'PAY_PER_REQUEST',
            DeletionProtectionEnabled: true,
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
            SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() },
            KeySchema: [
              { AttributeName: def.partitionKey.name, KeyType: 'HASH' },
              { AttributeName: def.sortKey.name, KeyType: 'RANGE' },
            ],
          }),
        });
      },
    );

    it('encrypts the alert topic with the key and refuses non-TLS publishing', () => {
      stateful.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
      stateful.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
        },
      });
    });

    it("lets only this account's AWS services use the key for queues and topics", () => {
      stateful.hasResourceProperties('AWS::KMS::Key', {
        KeyPolicy: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Sid: 'AllowAwsServicesToUseKeyForThisAccount',
              Condition: { StringEquals: { 'aws:SourceAccount': '111111111111' } },
            }),
          ]),
        },
      });
    });
  });

  describe('Stack: Stateless', () => {
    it('runs every function on a current Node.js runtime, arm64, traced by Lambda (no tracing SDK that could put responses or errors in traces), JSON logs, with a DLQ', () => {
      const fns = stateless.findResources('AWS::Lambda::Function');
      expect(Object.keys(fns).length).toBeGreaterThanOrEqual(3);
      for (const fn of Object.values(fns)) {
        expect(fn.Properties).toMatchObject({
          Runtime: 'nodejs24.x',
          Architectures: ['arm64'],
          TracingConfig: { Mode: 'Active' },
          LoggingConfig: { LogFormat: 'JSON' },
          DeadLetterConfig: { TargetArn: expect.anything() },
        });
        expect(Object.keys((fn.Properties as { Environment: { Variables: object } }).Environment.Variables).join()).not.toMatch(
          /POWERTOOLS_TRACE/,
        );
      }
    });

    it('keeps every holder of a notice claim well inside the stale window, and the send queue beyond it', () => {
      const holders = Object.values(stateless.findResources('AWS::Lambda::Function')).filter(
        (fn) => (fn.Properties as { Environment: { Variables: Record<string, unknown> } }).Environment.Variables.NOTICE_STALE_CLAIM_MS,
      );
      expect(holders).toHaveLength(2); // the planner and the sender
      const stale = new Set(holders.map((fn) => Number(fn.Properties.Environment.Variables.NOTICE_STALE_CLAIM_MS)));
      expect(stale.size).toBe(1);
      const [staleMs] = [...stale] as [number];
      // A holder is killed at its timeout: it can never write under a claim another took over.
      for (const fn of holders) expect(staleMs).toBeGreaterThanOrEqual(2 * Number(fn.Properties.Timeout) * 1000);
      // A redelivered batch always finds a dead sender's claim stale.
      const queues = Object.entries(stateless.findResources('AWS::SQS::Queue')).filter(
        ([id]) => id.includes('SendWork') && !id.includes('Dlq'),
      );
      expect(queues).toHaveLength(1);
      expect(Number(queues[0]![1].Properties.VisibilityTimeout) * 1000).toBeGreaterThan(staleMs);
    });

    it('encrypts every function log group and environment with the key, reserves each function its concurrency, and polls no queue beyond it', () => {
      const fns = stateless.findResources('AWS::Lambda::Function');
      const key = { 'Fn::ImportValue': expect.stringMatching(/DataKey/) };
      const reserved: Record<string, number> = {};
      for (const [id, fn] of Object.entries(fns)) {
        expect(fn.Properties.KmsKeyArn, id).toEqual(key);
        expect(fn.Properties.ReservedConcurrentExecutions, id).toBeGreaterThanOrEqual(1);
        reserved[id] = fn.Properties.ReservedConcurrentExecutions as number;
      }
      // Lambda keeps 100 unreserved executions per account: killswitch reserves well under the default quota of 1,000.
      expect(Object.values(reserved).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(100);
      const logGroups = Object.values(stateless.findResources('AWS::Logs::LogGroup'));
      expect(logGroups).toHaveLength(Object.keys(fns).length);
      for (const lg of logGroups) expect(lg.Properties.KmsKeyId).toEqual(key);
      for (const esm of Object.values(stateless.findResources('AWS::Lambda::EventSourceMapping'))) {
        const fn = (esm.Properties.FunctionName as { Ref: string }).Ref;
        expect(esm.Properties.ScalingConfig?.MaximumConcurrency, fn).toBeLessThanOrEqual(reserved[fn]!);
      }
      stateful.hasResourceProperties('AWS::KMS::Key', {
        KeyPolicy: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Sid: 'AllowCloudWatchLogsForThisAccountsLogGroups',
              Principal: { Service: 'logs.eu-west-1.amazonaws.com' },
            }),
          ]),
        },
      });
    });

    it('encrypts every queue with the key and refuses non-TLS access', () => {
      const queues = stateless.findResources('AWS::SQS::Queue');
      expect(Object.keys(queues).length).toBeGreaterThanOrEqual(4);
      for (const q of Object.values(queues)) expect(q.Properties.KmsMasterKeyId).toBeDefined();
      const policies = stateless.findResources('AWS::SQS::QueuePolicy');
      expect(Object.keys(policies)).toHaveLength(Object.keys(queues).length);
      for (const p of Object.values(policies)) {
        expect(p.Properties.PolicyDocument.Statement).toEqual(
          expect.arrayContaining([expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
        );
      }
    });

    it('routes Anomaly Detected events from the configured detectors with retries and a DLQ', () => {
      stateless.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: { source: ['com.example.access-monitor', 'com.example.dlp'], 'detail-type': ['Anomaly Detected'] },
        Targets: [
          Match.objectLike({
            RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
            DeadLetterConfig: { Arn: Match.anyValue() },
          }),
        ],
      });
    });

    it('puts the operator function behind an AWS_IAM Function URL, and only the acknowledgement intake (HMAC per agent) behind one without IAM', () => {
      const urls = Object.values(stateless.findResources('AWS::Lambda::Url')).map(
        (u) => `${u.Properties.AuthType} ${String(u.Properties.TargetFunctionArn['Fn::GetAtt'][0]).replace(/[0-9A-F]{8}$/, '')}`,
      );
      expect(urls.sort()).toEqual(['AWS_IAM OperatorControlOperatorFunction', 'NONE HaltAcknowledgementsIntakeFunction']);
    });

    it('alarms on every DLQ, on errors and throttles of every function, on a slow trigger and stalled grant work; all notify the operators', () => {
      const alarms = Object.values(stateless.findResources('AWS::CloudWatch::Alarm'));
      const queues = Object.entries(stateless.findResources('AWS::SQS::Queue'));
      const deadLetterQueues = queues.filter(([, q]) => !q.Properties.RedrivePolicy).map(([id]) => id);
      const fns = Object.keys(stateless.findResources('AWS::Lambda::Function'));
      const byMetric = (name: string) => alarms.filter((a) => a.Properties.MetricName === name);
      const depthAlarmed = byMetric('ApproximateNumberOfMessagesVisible').map((a) => a.Properties.Dimensions[0].Value['Fn::GetAtt'][0]);
      expect(depthAlarmed.sort()).toEqual(deadLetterQueues.sort());
      expect(byMetric('Errors')).toHaveLength(fns.length);
      expect(byMetric('Throttles')).toHaveLength(fns.length);
      expect(byMetric('Duration')).toHaveLength(1);
      // Anomalies and findings waiting in their intake queues, grant work stalled, acknowledgements not counted.
      expect(
        byMetric('ApproximateAgeOfOldestMessage')
          .map((a) => a.Properties.Dimensions[0].Value['Fn::GetAtt'][0].replace(/[0-9A-F]{8}$/, ''))
          .sort(),
      ).toEqual(['AnomalyTriggerIntake', 'FindingTriggersIntake', 'GrantRevocationWork', 'HaltAcknowledgementsAckQueue']);
      for (const a of alarms) expect(a.Properties.AlarmActions).toHaveLength(1);
    });

    it('has a dashboard', () => {
      stateless.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    });

    it("exports each program's collector policy ARN", () => {
      const outputs = stateless.findOutputs('*', { Export: { Name: 'Killswitch-CollectorPolicyArn-mci' } });
      expect(Object.keys(outputs)).toHaveLength(1);
    });

    it('delivers anomalies through a durable intake queue that outlasts a multi-hour outage, and only its own rule may send to it', () => {
      const intake = Object.entries(stateless.findResources('AWS::SQS::Queue')).find(
        ([id]) => id.startsWith('AnomalyTriggerIntake') && !id.includes('Dlq'),
      )!;
      const { VisibilityTimeout, RedrivePolicy, MessageRetentionPeriod } = intake[1].Properties;
      expect(VisibilityTimeout * RedrivePolicy.maxReceiveCount).toBeGreaterThan(24 * 3600);
      expect(MessageRetentionPeriod).toBe(14 * 24 * 3600);
      stateless.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [intake[0], 'Arn'] },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
      stateless.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: intake[0] }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Principal: { Service: 'events.amazonaws.com' },
              Condition: { ArnEquals: { 'aws:SourceArn': Match.anyValue() }, StringEquals: { 'aws:SourceAccount': '111111111111' } },
            }),
          ]),
        },
      });
    });
  });
});

describe('Configuration', () => {
  it('refuses a policy where CRITICAL does not pause, naming the field', () => {
    expect(() =>
      sampleApp({ programs: [{ programId: 'mci', datasetIds: ['a'], severityPolicy: { CRITICAL: 'RECORD' } }] as never }),
    ).toThrow(/programs\.0\.severityPolicy\.CRITICAL: CRITICAL anomalies must always pause/);
  });

  it('refuses a programs configuration that would not fit in a Lambda environment', () => {
    const programs = Array.from({ length: 40 }, (_, i) => ({
      programId: `program-${i}`,
      datasetIds: ['keystrokes-dataset', 'mouse-dataset', 'transcripts-dataset'],
    }));
    expect(() => sampleApp({ programs } as never)).toThrow(/programs: the programs configuration must fit in 3000 bytes/);
  });

  it('refuses a malformed account id', () => {
    expect(() => sampleApp({ account: '12' })).toThrow(/account: must be a 12-digit AWS account id/);
  });

  it('imports an existing operators role instead of creating one', () => {
    const { stateless } = sampleApp({ operators: { roleArn: 'arn:aws:iam::111111111111:role/OnCall' } });
    // Only the function roles remain; the functions' resource policies name the imported role.
    stateless.resourceCountIs('AWS::IAM::Role', Object.keys(stateless.findResources('AWS::Lambda::Function')).length);
    stateless.resourcePropertiesCountIs('AWS::Lambda::Permission', { Principal: 'arn:aws:iam::111111111111:role/OnCall' }, 3);
  });

  it('deploys no finding rules, trigger or sweep when the configuration takes no findings, and a sweep only for OCSF when asked', () => {
    const base = loadDeploymentConfig().findings;
    const none = sampleApp({ findings: { ...base, sources: [] } } as never).stateless;
    expect(Object.keys(none.findResources('AWS::Events::Rule')).filter((id) => id.startsWith('FindingTriggers'))).toEqual([]);
    expect(Object.keys(none.findResources('AWS::Lambda::Function')).filter((id) => id.startsWith('FindingTriggers'))).toEqual([]);
    const ocsf = sampleApp({ findings: { ...base, sources: ['securityhub-ocsf'] } } as never).stateless;
    const rules = Object.keys(ocsf.findResources('AWS::Events::Rule')).filter((id) => id.startsWith('FindingTriggers'));
    expect(rules.map((id) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual([
      'FindingTriggersSecurityHubOcsfRule',
      'FindingTriggersSweepSchedule',
    ]);
    ocsf.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'securityhub:GetFindings' })]) },
    });
  });

  it("takes each dataset's access systems (issue 16) and names the field of each mistake", () => {
    const base = JSON.parse(JSON.stringify(loadDeploymentConfig()));
    const transcripts = {
      programId: 'mci',
      datasetId: 'transcripts',
      owners: ['arn:aws:iam::111111111111:role/mci-owners'],
      access: {
        bucketPolicy: { bucket: 'mci-transcripts', prefix: 'raw/' },
        lakeFormation: { database: 'mci_training', table: 'transcripts' },
        s3AccessGrants: { accountId: '111111111111', locationId: 'default', prefix: 'raw/' },
      },
    };
    expect(parseDeploymentConfig({ ...base, datasets: [transcripts] }).datasets[0]).toMatchObject(transcripts);
    const wrong = (dataset: unknown) => () => parseDeploymentConfig({ ...base, datasets: [dataset] });
    expect(wrong({ ...transcripts, datasetId: 'webcam' })).toThrow(/datasets\.0\.datasetId: "webcam" is not a dataset of program "mci"/);
    expect(wrong({ ...transcripts, access: {} })).toThrow(
      /datasets\.0\.access: must name at least one of bucketPolicy, lakeFormation, s3AccessGrants/,
    );
    expect(wrong({ ...transcripts, access: { bucketPolicy: { bucket: 'not a bucket' } } })).toThrow(
      /datasets\.0\.access\.bucketPolicy\.bucket: must be an S3 bucket name/,
    );
    expect(wrong({ ...transcripts, access: { lakeFormation: { table: 'transcripts' } } })).toThrow(
      /datasets\.0\.access\.lakeFormation\.database: give either database/,
    );
    expect(wrong({ ...transcripts, access: { lakeFormation: { database: 'Bad-Name' } } })).toThrow(
      /datasets\.0\.access\.lakeFormation\.database: must be a Glue catalog name/,
    );
    expect(wrong({ ...transcripts, access: { s3AccessGrants: { accountId: '111111111111', prefix: 'raw/' } } })).toThrow(
      /datasets\.0\.access\.s3AccessGrants\.locationId: give either locationId or locationScope/,
    );
    expect(wrong({ ...transcripts, owners: ['alice'] })).toThrow(/datasets\.0\.owners\.0: must be an IAM role ARN/);
    expect(wrong({ ...transcripts, owners: ['arn:aws:iam::111111111111:role/*'] })).toThrow(
      /datasets\.0\.owners\.0: must be an IAM role ARN \(with its path, no wildcards\)/,
    );
    expect(() => parseDeploymentConfig({ ...base, datasets: [transcripts, transcripts] })).toThrow(
      /datasets\.1\.datasetId: "transcripts" of "mci" is configured twice/,
    );
  });
});
