import { z } from '../schemas/z.ts';
import { CallerProofVerifier } from '../adapters/aws/caller-proof.ts';
import { dynamoDocumentClient, eventBridgeClient, snsClient, sqsClient } from '../adapters/aws/clients.ts';
import { DeadLetters } from '../adapters/aws/dead-letters.ts';
import { WorkQueue } from '../adapters/aws/work-queue.ts';
import type { GrantWork } from '../schemas/grants.ts';
import { DynamoAckStore } from '../adapters/dynamodb/ack-store.ts';
import { DynamoGrantStore } from '../adapters/dynamodb/grant-store.ts';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { GrantBackend } from '../grants/ports.ts';
import { RevocationLedger } from '../adapters/dynamodb/ledger/revocations.ts';
import { NoticeLedger } from '../adapters/dynamodb/ledger/notice-ledger.ts';
import { DataSubjectStore } from '../adapters/dynamodb/data-subject-store.ts';
import { NoticePublisher } from '../adapters/aws/notice-publisher.ts';
import type { PlanWork, SendBatch } from '../schemas/notices.ts';
import { DomainEventPublisher } from '../adapters/aws/domain-event-publisher.ts';
import { OperatorAlerts } from '../adapters/aws/operator-alerts.ts';
import { EnvVars, ProgramRegistry, readEnv } from './env.ts';
import { ProgramStateStore } from '../adapters/dynamodb/program-state-store.ts';
import { AnomalyLog, ApprovalRequests, AuditTrail, FindingLog, IncidentLedger, LedgerTable } from '../adapters/dynamodb/ledger/index.ts';
import { AnomalyTrigger } from '../killswitch/trigger.ts';
import { FindingIntake } from '../findings/intake.ts';
import { FindingRejections } from '../findings/rejections.ts';
import { ResourceMap } from '../findings/resource-map.ts';
import { SILENT, type Telemetry } from '../killswitch/ports.ts';
import { ledgerChains } from './ledger-chains.ts';
import { DeadlineWatch } from '../record/deadline-watch.ts';

/** Environment of the functions that act on the kill switch (trigger, operator). */
export const KillSwitchEnvSchema = z.object({
  ...EnvVars.programStateTable,
  ...EnvVars.ledgerTable,
  ...EnvVars.eventBus,
  ...EnvVars.alertTopic,
  ...EnvVars.programs,
});
export type KillSwitchEnv = z.infer<typeof KillSwitchEnvSchema>;

/**
 * What every function that reads or writes the ledger shares: the DynamoDB client, the ledger table
 * and its incident records (and the deployed programs and the domain bus, when it has them).
 */
function ledgerServices(env: { LEDGER_TABLE: string; LEDGER_ANCHOR_BUCKET?: string | undefined }) {
  const dynamo = dynamoDocumentClient();
  const ledger = new LedgerTable(dynamo, env.LEDGER_TABLE);
  const chains = ledgerChains(ledger, env);
  return { dynamo, ledger, chains, incidents: new IncidentLedger(ledger, chains) };
}
const programsAndEvents = (env: { KILLSWITCH_PROGRAMS: ConstructorParameters<typeof ProgramRegistry>[0]; EVENT_BUS_NAME: string }) => ({
  programs: new ProgramRegistry(env.KILLSWITCH_PROGRAMS),
  events: new DomainEventPublisher(eventBridgeClient(), env.EVENT_BUS_NAME),
});

/** Builds the stores and publishers once per container, from validated configuration. */
export function killSwitchServices(env: KillSwitchEnv = readEnv(KillSwitchEnvSchema)) {
  const { dynamo, ledger, incidents, chains } = ledgerServices(env);
  return {
    env,
    ...programsAndEvents(env),
    state: new ProgramStateStore(dynamo, env.PROGRAM_STATE_TABLE),
    ledger,
    incidents,
    audit: new AuditTrail(ledger, chains),
    chains: chains.chains,
    anomalies: new AnomalyLog(ledger),
    approvals: new ApprovalRequests(ledger),
    alerts: new OperatorAlerts(snsClient(), env.ALERT_TOPIC_ARN),
  };
}

/** The anomaly trigger: the kill switch, and where events that can never pause anything are kept. */
export const AnomalyTriggerEnvSchema = KillSwitchEnvSchema.extend({ ...EnvVars.triggerDlq });

/** `telemetry`: the function's, so that each pause is counted with the function that made it. */
export function anomalyTriggerServices(env = readEnv(AnomalyTriggerEnvSchema), telemetry: Telemetry = SILENT) {
  const base = { ...killSwitchServices(env), telemetry };
  return { ...base, trigger: new AnomalyTrigger(base), deadLetters: new DeadLetters(sqsClient(), env.TRIGGER_DLQ_URL) };
}

/** The finding trigger: the kill switch, the resource map and the rejected-findings queue. */
export const FindingTriggerEnvSchema = KillSwitchEnvSchema.extend({ ...EnvVars.findingMap, ...EnvVars.rejectedFindingsQueue });

export function findingServices(env = readEnv(FindingTriggerEnvSchema), telemetry: Telemetry = SILENT) {
  const base = { ...killSwitchServices(env), telemetry };
  const findings = new FindingLog(base.ledger);
  const trigger = new AnomalyTrigger(base);
  const rejectedFindings = new DeadLetters(sqsClient(), env.REJECTED_FINDINGS_QUEUE_URL);
  return {
    ...base,
    findings,
    deadLetters: rejectedFindings,
    intake: new FindingIntake({
      map: new ResourceMap(env.KILLSWITCH_FINDING_MAP),
      trigger,
      incidents: base.incidents,
      findings,
      directSources: env.KILLSWITCH_FINDING_MAP.sources,
      // Lambda sets AWS_REGION: the region whose GuardDuty and Macie events the rules see.
      ...(process.env.AWS_REGION ? { directRegion: process.env.AWS_REGION } : {}),
    }),
    rejections: new FindingRejections(base.alerts, rejectedFindings),
  };
}

/** The finding sweep: the finding trigger's services, which sources to list and how far. */
export const FindingSweepEnvSchema = FindingTriggerEnvSchema.extend({
  ...EnvVars.sweepSources,
  ...EnvVars.sweepLookbackMs,
  ...EnvVars.sweepOverlapMs,
  ...EnvVars.sweepMaxFindings,
});

/** The operator function: the kill switch, who the operators are, queuing grant restores and notice planning, and counting grants for a dry run. */
export const OperatorEnvSchema = KillSwitchEnvSchema.extend({
  ...EnvVars.grantWorkQueue,
  ...EnvVars.noticePlanQueue,
  ...EnvVars.grantsTable,
  ...EnvVars.acksTable,
  ...EnvVars.operatorTrust,
  ...EnvVars.noticeSettings,
});

export function operatorServices(env = readEnv(OperatorEnvSchema)) {
  const base = killSwitchServices(env);
  return {
    ...base,
    trust: { account: env.KILLSWITCH_ACCOUNT, roleNames: env.OPERATOR_ROLES },
    callerProof: new CallerProofVerifier(env.AWS_REGION),
    grantWork: new WorkQueue<GrantWork>(sqsClient(), env.GRANT_WORK_QUEUE_URL),
    noticeWork: new WorkQueue<PlanWork>(sqsClient(), env.NOTICE_PLAN_QUEUE_URL),
    revocations: new RevocationLedger(base.ledger),
    notices: new NoticeLedger(base.ledger),
    noticeSettings: env.NOTICE_SETTINGS,
    grants: new DynamoGrantStore(dynamoDocumentClient(), env.GRANTS_TABLE),
    acks: new DynamoAckStore(dynamoDocumentClient(), env.ACKS_TABLE),
  };
}

export const PlanNoticesEnvSchema = z.object({
  ...EnvVars.dataSubjectsTable,
  ...EnvVars.ledgerTable,
  ...EnvVars.eventBus,
  ...EnvVars.programs,
  ...EnvVars.noticePlanQueue,
  ...EnvVars.noticePlanDlq,
  ...EnvVars.noticeSendQueue,
  ...EnvVars.noticePlanBudget,
  ...EnvVars.noticeStaleClaim,
});

export function planNoticesServices(env = readEnv(PlanNoticesEnvSchema)) {
  const { dynamo, ledger, incidents } = ledgerServices(env);
  const sqs = sqsClient();
  return {
    env,
    ...programsAndEvents(env),
    subjects: new DataSubjectStore(dynamo, env.DATA_SUBJECTS_TABLE),
    notices: new NoticeLedger(ledger, env.NOTICE_STALE_CLAIM_MS),
    incidents,
    planQueue: new WorkQueue<PlanWork>(sqs, env.NOTICE_PLAN_QUEUE_URL),
    sendQueue: new WorkQueue<SendBatch>(sqs, env.NOTICE_SEND_QUEUE_URL),
    deadLetters: new DeadLetters(sqs, env.NOTICE_PLAN_DLQ_URL),
  };
}

export const SendNoticesEnvSchema = z.object({
  ...EnvVars.ledgerTable,
  ...EnvVars.noticeTopic,
  ...EnvVars.noticeSettings,
  ...EnvVars.noticeMaxAttempts,
  ...EnvVars.noticeSendDlq,
  ...EnvVars.noticeStaleClaim,
});

export function sendNoticesServices(env = readEnv(SendNoticesEnvSchema)) {
  const { ledger, incidents } = ledgerServices(env);
  return {
    env,
    notices: new NoticeLedger(ledger, env.NOTICE_STALE_CLAIM_MS),
    incidents,
    publisher: new NoticePublisher(snsClient(), env.NOTICE_TOPIC_ARN),
    settings: env.NOTICE_SETTINGS,
    deadLetters: new DeadLetters(sqsClient(), env.NOTICE_SEND_DLQ_URL),
  };
}

/** Environment of the grant worker (revocation and restore). */
export const GrantWorkEnvSchema = z.object({
  ...EnvVars.grantsTable,
  ...EnvVars.ledgerTable,
  ...EnvVars.eventBus,
  ...EnvVars.alertTopic,
  ...EnvVars.programs,
  ...EnvVars.grantWorkQueue,
  ...EnvVars.grantWorkDlq,
  ...EnvVars.grantWorkBudget,
  ...EnvVars.datasets,
  AWS_REGION: z.string().optional(),
});

/**
 * `grantsOf`: the grant backend (shared/runtime/grant-backends.ts, passed by the grant worker
 * itself so that only its bundle holds the S3, Lake Formation and S3 Control clients).
 */
export function grantWorkServices(
  grantsOf: (env: z.infer<typeof GrantWorkEnvSchema>, dynamo: DynamoDBDocumentClient) => GrantBackend,
  env = readEnv(GrantWorkEnvSchema),
) {
  const { dynamo, ledger, incidents } = ledgerServices(env);
  const sqs = sqsClient();
  return {
    env,
    ...programsAndEvents(env),
    grants: grantsOf(env, dynamo),
    revocations: new RevocationLedger(ledger),
    incidents,
    approvals: new ApprovalRequests(ledger),
    alerts: new OperatorAlerts(snsClient(), env.ALERT_TOPIC_ARN),
    work: new WorkQueue<GrantWork>(sqs, env.GRANT_WORK_QUEUE_URL),
    deadLetters: new DeadLetters(sqs, env.GRANT_WORK_DLQ_URL),
  };
}

/** The Art. 33 deadline watch: the programs, the ledger (its incidents and chains) and the operators' alerts. */
export const DeadlineWatchEnvSchema = z.object({ ...EnvVars.ledgerTable, ...EnvVars.alertTopic, ...EnvVars.programs });

export function deadlineWatchServices(env = readEnv(DeadlineWatchEnvSchema), telemetry: Telemetry = SILENT) {
  const { ledger, incidents, chains } = ledgerServices(env);
  return {
    env,
    watch: new DeadlineWatch({
      programs: new ProgramRegistry(env.KILLSWITCH_PROGRAMS),
      incidents,
      alerts: new OperatorAlerts(snsClient(), env.ALERT_TOPIC_ARN),
      telemetry,
      clock: () => new Date(),
      chains: chains.chains,
    }),
    ledger,
  };
}
