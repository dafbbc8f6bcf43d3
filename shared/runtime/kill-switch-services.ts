import { z } from '../schemas/z.ts';
import { SNSClient } from '@aws-sdk/client-sns';
import { OperatorAlerts } from '../adapters/aws/operator-alerts.ts';
import { ProgramStateStore } from '../adapters/dynamodb/program-state-store.ts';
import { AnomalyLog } from '../adapters/dynamodb/ledger/anomaly-log.ts';
import { ApprovalRequests } from '../adapters/dynamodb/ledger/approval-requests.ts';
import { AuditTrail } from '../adapters/dynamodb/ledger/audit-trail.ts';
import { EnvVars, readEnv } from './env.ts';
import { ledgerServices } from './ledger-services.ts';
import { programsAndEvents } from './programs-and-events.ts';

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
 * The kill switch's stores and publishers (the break-glass pause uses these alone), built once
 * per container from validated configuration. Each function has its own composition
 * (`*-services.ts` here), so that its bundle holds only the adapters and schemas it uses.
 */
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
    alerts: new OperatorAlerts(new SNSClient({}), env.ALERT_TOPIC_ARN),
  };
}
