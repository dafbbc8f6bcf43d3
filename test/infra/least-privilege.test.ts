import { beforeAll, describe, expect, it } from 'vitest';
import type { Template } from 'aws-cdk-lib/assertions';
import { describeRef, permissionsByRole, sampleApp } from '../support/cdk.ts';

const via = (service: string) => ` if {"StringEquals":{"kms:ViaService":"${service}.eu-west-1.amazonaws.com"}}`;
const keyVia = (service: string) => [`kms:Decrypt -> DataKey${via(service)}`, `kms:GenerateDataKey -> DataKey${via(service)}`];

/** What every function role has for its own logs, tracing and DLQ. */
const baseline = (fn: string) => [
  ...keyVia('sqs'),
  `logs:CreateLogStream -> ${fn}Logs`,
  `logs:PutLogEvents -> ${fn}Logs`,
  `sqs:SendMessage -> ${fn}Dlq`,
  'xray:PutTelemetryRecords -> *',
  'xray:PutTraceSegments -> *',
];
const publishes = ['events:PutEvents -> Bus', 'sns:Publish -> OperatorAlerts', ...keyVia('sns')];
const dynamoKey = (write: boolean) => [
  `kms:Decrypt -> DataKey${via('dynamodb')}`,
  `kms:DescribeKey -> DataKey${via('dynamodb')}`,
  ...(write ? [`kms:Encrypt -> DataKey${via('dynamodb')}`, `kms:GenerateDataKey -> DataKey${via('dynamodb')}`] : []),
];
/** A Lambda SQS event source: receive, delete, extend visibility, and decrypt. */
const consumes = (queue: string) => [
  'kms:Decrypt -> DataKey',
  ...['ChangeMessageVisibility', 'DeleteMessage', 'GetQueueAttributes', 'GetQueueUrl', 'ReceiveMessage'].map((a) => `sqs:${a} -> ${queue}`),
];

/** The expected permissions of every role, written out by hand: any drift fails this test. */
const EXPECTED: Record<string, string[]> = {
  AnomalyTriggerRole: [
    ...baseline('AnomalyTrigger'),
    ...publishes,
    ...dynamoKey(true),
    'dynamodb:GetItem -> ProgramState',
    'dynamodb:UpdateItem -> ProgramState',
    'dynamodb:GetItem -> Ledger',
    'dynamodb:PutItem -> Ledger',
    'dynamodb:UpdateItem -> Ledger',
  ],
  // The finding trigger acts on the kill switch like the anomaly trigger, and keeps malformed findings.
  FindingTriggersTriggerRole: [
    ...baseline('FindingTriggersTrigger'),
    ...publishes,
    ...dynamoKey(true),
    'dynamodb:GetItem -> ProgramState',
    'dynamodb:UpdateItem -> ProgramState',
    'dynamodb:GetItem -> Ledger',
    'dynamodb:PutItem -> Ledger',
    'dynamodb:UpdateItem -> Ledger',
    'sqs:SendMessage -> FindingTriggersRejectedFindings',
  ],
  // The sweep: the same, plus read-only finding APIs in this account and region.
  FindingTriggersSweepRole: [
    ...baseline('FindingTriggersSweep'),
    ...publishes,
    ...dynamoKey(true),
    'dynamodb:GetItem -> ProgramState',
    'dynamodb:UpdateItem -> ProgramState',
    'dynamodb:GetItem -> Ledger',
    'dynamodb:PutItem -> Ledger',
    'dynamodb:UpdateItem -> Ledger',
    'sqs:SendMessage -> FindingTriggersRejectedFindings',
    // Macie's finding actions have no resource types; GuardDuty's ListDetectors neither.
    'macie2:ListFindings -> *',
    'macie2:GetFindings -> *',
    'guardduty:ListDetectors -> *',
    'guardduty:ListFindings -> arn:AWS::Partition:guardduty:eu-west-1:111111111111:detector/*',
    'guardduty:GetFindings -> arn:AWS::Partition:guardduty:eu-west-1:111111111111:detector/*',
    'securityhub:GetFindings -> arn:AWS::Partition:securityhub:eu-west-1:111111111111:hub/default',
  ],
  OperatorControlOperatorRole: [
    ...baseline('OperatorControlOperator'),
    ...publishes,
    ...dynamoKey(true),
    'dynamodb:GetItem -> ProgramState',
    'dynamodb:Query -> ProgramState',
    'dynamodb:UpdateItem -> ProgramState',
    'dynamodb:GetItem -> Ledger',
    'dynamodb:PutItem -> Ledger',
    'dynamodb:Query -> Ledger',
    'dynamodb:UpdateItem -> Ledger',
    'dynamodb:Query -> Ledger/index/byKind',
    'sqs:SendMessage -> GrantRevocationWork',
    'sqs:SendMessage -> ExposureNoticesPlanWork',
  ],
  OperatorControlBreakGlassRole: [
    ...baseline('OperatorControlBreakGlass'),
    ...publishes,
    ...dynamoKey(true),
    'dynamodb:GetItem -> ProgramState',
    'dynamodb:UpdateItem -> ProgramState',
    'dynamodb:GetItem -> Ledger',
    'dynamodb:PutItem -> Ledger',
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
    'dynamodb:Query -> Ledger',
    'sqs:SendMessage -> GrantRevocationWork',
    'sqs:SendMessage -> GrantRevocationWorkDlq',
  ],
  ExposureNoticesPlannerRole: [
    ...baseline('ExposureNoticesPlanner'),
    ...dynamoKey(true),
    ...consumes('ExposureNoticesPlanWork'),
    'events:PutEvents -> Bus',
    'dynamodb:Query -> DataSubjects',
    'dynamodb:GetItem -> Ledger',
    'dynamodb:PutItem -> Ledger',
    'dynamodb:Query -> Ledger',
    'dynamodb:UpdateItem -> Ledger',
    'sqs:SendMessage -> ExposureNoticesPlanWork',
    'sqs:SendMessage -> ExposureNoticesPlanDlq',
    'sqs:SendMessage -> ExposureNoticesSendWork',
  ],
  // The sender reads the incident and moves ledger entries; it can publish notices and nothing else.
  ExposureNoticesSenderRole: [
    ...baseline('ExposureNoticesSender'),
    ...dynamoKey(true),
    ...consumes('ExposureNoticesSendWork'),
    ...keyVia('sns'),
    'sns:Publish -> ExposureNotices',
    'dynamodb:GetItem -> Ledger',
    'dynamodb:Query -> Ledger',
    'dynamodb:UpdateItem -> Ledger',
    'sqs:SendMessage -> ExposureNoticesSendDlq',
  ],
};

/** Resource-based permissions on the functions: who may invoke what, and how. */
const EXPECTED_INVOKERS = [
  'events.amazonaws.com: lambda:InvokeFunction on AnomalyTriggerFunction (from AnomalyTriggerAnomalyRule)',
  'events.amazonaws.com: lambda:InvokeFunction on FindingTriggersTriggerFunction (from FindingTriggersMacieRule)',
  'events.amazonaws.com: lambda:InvokeFunction on FindingTriggersTriggerFunction (from FindingTriggersGuardDutyRule)',
  'events.amazonaws.com: lambda:InvokeFunction on FindingTriggersTriggerFunction (from FindingTriggersSecurityHubRule)',
  'events.amazonaws.com: lambda:InvokeFunction on FindingTriggersSweepFunction (from FindingTriggersSweepSchedule)',
  'OperatorControlOperatorsRole: lambda:InvokeFunction on OperatorControlBreakGlassFunction',
  'OperatorControlOperatorsRole: lambda:InvokeFunction on OperatorControlOperatorFunction (via URL only)',
  'OperatorControlOperatorsRole: lambda:InvokeFunctionUrl on OperatorControlOperatorFunction (AWS_IAM)',
];

describe('Least privilege', () => {
  let stateless: Template;
  let stateful: Template;
  beforeAll(() => {
    ({ stateless, stateful } = sampleApp());
  });

  it('gives every role exactly the permissions in the expected table', () => {
    const actual = permissionsByRole(stateless);
    expect(Object.keys(actual).sort()).toEqual(Object.keys(EXPECTED).sort());
    for (const [role, perms] of Object.entries(EXPECTED)) expect(actual[role], role).toEqual([...new Set(perms)].sort());
  });

  it('gives collectors GetItem/Query on ProgramState and Decrypt on its key, nothing else', () => {
    const policies = Object.values(stateless.findResources('AWS::IAM::ManagedPolicy'));
    expect(policies).toHaveLength(1);
    const statements = policies[0]!.Properties.PolicyDocument.Statement as Record<string, unknown>[];
    const flat = statements.flatMap((s) =>
      ([] as unknown[]).concat(s.Action).map((a) => `${String(a)} -> ${describeRef(([] as unknown[]).concat(s.Resource)[0])}`),
    );
    expect(flat.sort()).toEqual(['dynamodb:GetItem -> ProgramState', 'dynamodb:Query -> ProgramState', 'kms:Decrypt -> DataKey'].sort());
  });

  it('lets no principal delete anything: no Delete action, no wildcard service actions', () => {
    for (const template of [stateless, stateful]) {
      const docs = JSON.stringify(template.toJSON());
      expect(docs).not.toMatch(/dynamodb:(Delete\w*|\*)|"dynamodb:\*"|sqs:DeleteQueue|sns:DeleteTopic|"\*"\s*:\s*"\*"/);
    }
  });

  it('allows invoking the operator function only through its AWS_IAM URL, and only by the operators role', () => {
    const invokers = Object.values(stateless.findResources('AWS::Lambda::Permission')).map(({ Properties: p }) => {
      const principal = typeof p.Principal === 'string' ? p.Principal : describeRef(p.Principal).replace(/Arn$/, '');
      const how = p.InvokedViaFunctionUrl ? ' (via URL only)' : p.FunctionUrlAuthType ? ` (${p.FunctionUrlAuthType})` : '';
      const from = p.SourceArn ? ` (from ${describeRef(p.SourceArn)})` : '';
      return `${principal}: ${p.Action} on ${describeRef(p.FunctionName)}${how}${from}`;
    });
    expect(invokers.sort()).toEqual([...EXPECTED_INVOKERS].sort());
  });
});
