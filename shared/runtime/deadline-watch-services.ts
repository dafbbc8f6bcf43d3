import { z } from '../schemas/z.ts';
import { SNSClient } from '@aws-sdk/client-sns';
import { OperatorAlerts } from '../adapters/aws/operator-alerts.ts';
import { SILENT, type Telemetry } from '../killswitch/ports.ts';
import { DeadlineWatch } from '../record/deadline-watch.ts';
import { EnvVars, ProgramRegistry, readEnv } from './env.ts';
import { ledgerServices } from './ledger-services.ts';

/** The Art. 33 deadline watch: the programs, the ledger (its incidents and chains) and the operators' alerts. */
export const DeadlineWatchEnvSchema = z.object({ ...EnvVars.ledgerTable, ...EnvVars.alertTopic, ...EnvVars.programs });

export function deadlineWatchServices(env = readEnv(DeadlineWatchEnvSchema), telemetry: Telemetry = SILENT) {
  const { ledger, incidents, chains } = ledgerServices(env);
  return {
    env,
    watch: new DeadlineWatch({
      programs: new ProgramRegistry(env.KILLSWITCH_PROGRAMS),
      incidents,
      alerts: new OperatorAlerts(new SNSClient({}), env.ALERT_TOPIC_ARN),
      telemetry,
      clock: () => new Date(),
      chains: chains.chains,
    }),
    ledger,
  };
}
