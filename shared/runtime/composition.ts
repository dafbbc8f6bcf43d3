import { z } from 'zod';
import { dynamoDocumentClient, eventBridgeClient, snsClient } from '../aws/clients.ts';
import { DomainEventPublisher } from '../aws/domain-event-publisher.ts';
import { OperatorAlerts } from '../aws/operator-alerts.ts';
import { EnvVars, ProgramRegistry, readEnv } from '../config/env.ts';
import { ProgramStateStore } from '../stores/program-state-store.ts';
import { AnomalyLog, AuditTrail, IncidentLedger, LedgerTable, ResumeRequests } from '../stores/ledger/index.ts';

/** Environment of the functions that act on the kill switch (trigger, operator). */
export const KillSwitchEnvSchema = z.object({
  ...EnvVars.programStateTable,
  ...EnvVars.ledgerTable,
  ...EnvVars.eventBus,
  ...EnvVars.alertTopic,
  ...EnvVars.programs,
});
export type KillSwitchEnv = z.infer<typeof KillSwitchEnvSchema>;

/** Builds the stores and publishers once per container, from validated configuration. */
export function killSwitchServices(env: KillSwitchEnv = readEnv(KillSwitchEnvSchema)) {
  const dynamo = dynamoDocumentClient();
  const ledger = new LedgerTable(dynamo, env.LEDGER_TABLE);
  return {
    env,
    programs: new ProgramRegistry(env.KILLSWITCH_PROGRAMS),
    state: new ProgramStateStore(dynamo, env.PROGRAM_STATE_TABLE),
    ledger,
    incidents: new IncidentLedger(ledger),
    audit: new AuditTrail(ledger),
    anomalies: new AnomalyLog(ledger),
    resumeRequests: new ResumeRequests(ledger),
    events: new DomainEventPublisher(eventBridgeClient(), env.EVENT_BUS_NAME),
    alerts: new OperatorAlerts(snsClient(), env.ALERT_TOPIC_ARN),
  };
}
