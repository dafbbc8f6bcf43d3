import { SQSClient } from '@aws-sdk/client-sqs';
import { DeadLetters } from '../adapters/aws/dead-letters.ts';
import { AnomalyTrigger } from '../killswitch/trigger.ts';
import { SILENT, type Telemetry } from '../killswitch/ports.ts';
import { EnvVars, readEnv } from './env.ts';
import { KillSwitchEnvSchema, killSwitchServices } from './kill-switch-services.ts';

/** The anomaly trigger: the kill switch, and where events that can never pause anything are kept. */
export const AnomalyTriggerEnvSchema = KillSwitchEnvSchema.extend({ ...EnvVars.triggerDlq });

/** `telemetry`: the function's, so that each pause is counted with the function that made it. */
export function anomalyTriggerServices(env = readEnv(AnomalyTriggerEnvSchema), telemetry: Telemetry = SILENT) {
  const base = { ...killSwitchServices(env), telemetry };
  return { ...base, trigger: new AnomalyTrigger(base), deadLetters: new DeadLetters(new SQSClient({}), env.TRIGGER_DLQ_URL) };
}
