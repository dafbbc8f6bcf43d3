import { SQSClient } from '@aws-sdk/client-sqs';
import { DeadLetters } from '../adapters/aws/dead-letters.ts';
import { FindingLog } from '../adapters/dynamodb/ledger/finding-log.ts';
import { AnomalyTrigger } from '../killswitch/trigger.ts';
import { SILENT, type Telemetry } from '../killswitch/ports.ts';
import { FindingIntake } from '../findings/intake.ts';
import { FindingRejections } from '../findings/rejections.ts';
import { ResourceMap } from '../findings/resource-map.ts';
import { FindingMapSchema } from '../schemas/findings.ts';
import { EnvVars, jsonOf, readEnv } from './env.ts';
import { KillSwitchEnvSchema, killSwitchServices } from './kill-switch-services.ts';

/** The finding trigger: the kill switch, the resource map and the rejected-findings queue. */
export const FindingTriggerEnvSchema = KillSwitchEnvSchema.extend({
  /** Which AWS resources belong to which program and dataset (the `findings` section of the configuration). */
  KILLSWITCH_FINDING_MAP: jsonOf(FindingMapSchema),
  ...EnvVars.rejectedFindingsQueue,
});

export function findingServices(env = readEnv(FindingTriggerEnvSchema), telemetry: Telemetry = SILENT) {
  const base = { ...killSwitchServices(env), telemetry };
  const findings = new FindingLog(base.ledger);
  const trigger = new AnomalyTrigger(base);
  const rejectedFindings = new DeadLetters(new SQSClient({}), env.REJECTED_FINDINGS_QUEUE_URL);
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
