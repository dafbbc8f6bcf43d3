import type { Incident } from '#shared/schemas/ledger.ts';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import type { AnomalyDetail, AnomalyDetailInput } from '#shared/schemas/anomaly.ts';
import { AnomalyDetailSchema } from '#shared/schemas/anomaly.ts';
import { ProgramConfigSchema, type ProgramConfig, type ProgramConfigInput } from '#shared/schemas/config.ts';
import { ProgramRegistry } from '#shared/runtime/env.ts';
import { DomainEventPublisher } from '#shared/adapters/aws/domain-event-publisher.ts';
import { OperatorAlerts } from '#shared/adapters/aws/operator-alerts.ts';
import { ProgramStateStore } from '#shared/adapters/dynamodb/program-state-store.ts';
import { AnomalyLog, AuditTrail, IncidentLedger, LedgerTable, ApprovalRequests } from '#shared/adapters/dynamodb/ledger/index.ts';
import type { Principal } from '#shared/schemas/common.ts';
import { operatorPrincipal } from '#shared/domain/identity.ts';
import type { TestDynamo } from './dynamo.ts';

/** The operators role of the sample deployment, and the verified principal of one of its sessions (the person is the session name). */
export const OPERATORS_ROLE = 'KillswitchOperators';
export const TRUST = { account: '111111111111', roleNames: [OPERATORS_ROLE, 'AWSReservedSSO_KillswitchOncall_0123456789abcdef'] };
export const operatorArn = (session: string, role = OPERATORS_ROLE) => `arn:aws:sts::111111111111:assumed-role/${role}/${session}`;
export const operator = (session: string, role = OPERATORS_ROLE): Principal => operatorPrincipal(operatorArn(session, role), TRUST);

export const program = (overrides: Partial<ProgramConfigInput> = {}): ProgramConfig =>
  ProgramConfigSchema.parse({ programId: 'mci', datasetIds: ['keystrokes', 'mouse', 'transcripts'], ...overrides });

export const anomaly = (overrides: Partial<AnomalyDetailInput> = {}): AnomalyDetail =>
  AnomalyDetailSchema.parse({
    anomalyId: 'anom-1',
    programId: 'mci',
    detector: 'access-monitor',
    severity: 'CRITICAL',
    kind: 'access-exposure',
    datasetIds: ['transcripts'],
    observedAt: '2026-11-27T10:00:00Z',
    summary: 'transcripts bucket readable by all-staff group',
    ...overrides,
  });

/** Stores on a test dynalite, with EventBridge and SNS mocked (recorded) clients. */
export function services(db: TestDynamo, programs: ProgramConfig[] = [program()]) {
  const eventBridge = new EventBridgeClient({});
  const sns = new SNSClient({});
  const ebMock = mockClient(eventBridge);
  ebMock.on(PutEventsCommand).callsFake(() => ({ FailedEntryCount: 0, Entries: [{ EventId: `evt-${Math.random()}` }] }));
  const snsMock = mockClient(sns);
  snsMock.on(PublishCommand).resolves({ MessageId: 'msg-1' });
  const ledger = new LedgerTable(db.doc, db.tables.ledger);
  return {
    programs: new ProgramRegistry(programs),
    state: new ProgramStateStore(db.doc, db.tables.programState),
    ledger,
    incidents: new IncidentLedger(ledger),
    audit: new AuditTrail(ledger),
    anomalies: new AnomalyLog(ledger),
    approvals: new ApprovalRequests(ledger),
    events: new DomainEventPublisher(eventBridge, 'killswitch-bus'),
    alerts: new OperatorAlerts(sns, 'arn:aws:sns:eu-west-1:111111111111:alerts'),
    ebMock,
    snsMock,
  };
}

/** Domain events the (mocked) publisher put on the bus, as { detailType, detail }. */
export function publishedEvents(ebMock: ReturnType<typeof mockClient>): { detailType: string; detail: Record<string, unknown> }[] {
  return ebMock
    .commandCalls(PutEventsCommand)
    .flatMap((call) =>
      (call.args[0].input.Entries ?? []).map((e) => ({ detailType: e.DetailType ?? '', detail: JSON.parse(e.Detail ?? '{}') })),
    );
}

/** An incident as the ledger keeps it: a HIGH anomaly that paused `mci` (override what a test varies). */
export const incidentRecord = (overrides: Partial<Incident> & Pick<Incident, 'incidentId'>): Incident => ({
  programId: 'mci',
  scope: '*',
  severity: 'HIGH',
  status: 'OPEN',
  action: 'PAUSED',
  openedAt: '2026-12-04T09:00:00.000Z',
  openedBy: 'detector:dlp',
  trigger: 'ANOMALY',
  datasetIds: ['keystrokes'],
  unknownDatasetIds: [],
  notify: 'auto',
  revision: 1,
  inputIssues: [],
  ...overrides,
});
