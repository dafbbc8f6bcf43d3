import { Macie2Client } from '@aws-sdk/client-macie2';
import { GuardDutyClient } from '@aws-sdk/client-guardduty';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import {
  GuardDutySweepSource,
  MacieSweepSource,
  SecurityHubOcsfSweepSource,
  SecurityHubSweepSource,
} from '../adapters/findings/sweep-sources.ts';
import { FindingSweep } from '../findings/sweep.ts';
import type { SweepSource } from '../findings/ports.ts';
import type { Telemetry } from '../killswitch/ports.ts';
import { FINDING_SOURCES, type FindingSource } from '../schemas/findings.ts';
import { z } from '../schemas/z.ts';
import { FindingTriggerEnvSchema, findingServices } from './finding-services.ts';
import { EnvVars, readEnv } from './env.ts';
import { directCopyProductArns } from '../findings/relevance.ts';

/** The finding sweep: the finding trigger's services, which sources to list and how far. */
export const FindingSweepEnvSchema = FindingTriggerEnvSchema.extend({
  /** Comma-separated finding sources the sweep lists. */
  SWEEP_SOURCES: z
    .string({ error: 'is required' })
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(FINDING_SOURCES))),
  ...EnvVars.sweepLookbackMs,
  ...EnvVars.sweepOverlapMs,
  ...EnvVars.sweepMaxFindings,
});

type FindingSweepEnv = ReturnType<typeof readEnv<typeof FindingSweepEnvSchema>>;

// The SDK's adaptive retry mode slows its own calls down when the API throttles.
const retry = { maxAttempts: 6, retryMode: 'adaptive' } as const;
const SOURCES: Record<FindingSource, (env: FindingSweepEnv) => SweepSource> = {
  macie: () => new MacieSweepSource(new Macie2Client(retry)),
  guardduty: () => new GuardDutySweepSource(new GuardDutyClient(retry)),
  securityhub: (env) =>
    new SecurityHubSweepSource(
      new SecurityHubClient(retry),
      process.env.AWS_REGION ? directCopyProductArns(process.env.AWS_REGION, env.KILLSWITCH_FINDING_MAP.sources) : [],
    ),
  'securityhub-ocsf': () => new SecurityHubOcsfSweepSource(new SecurityHubClient(retry)),
};

/**
 * The finding sweep's composition, apart from the finding trigger's (finding-services.ts): only the sweep
 * bundles the Macie, GuardDuty and Security Hub clients.
 */
export function findingSweepServices(telemetry: Telemetry, env = readEnv(FindingSweepEnvSchema)) {
  const services = findingServices(env, telemetry);
  return {
    env,
    sources: env.SWEEP_SOURCES.map((name) => SOURCES[name](env)),
    sweep: new FindingSweep({
      intake: services.intake,
      findings: services.findings,
      rejections: services.rejections,
      initialLookbackMs: env.SWEEP_LOOKBACK_MS,
      overlapMs: env.SWEEP_OVERLAP_MS,
      maxFindingsPerRun: env.SWEEP_MAX_FINDINGS,
      telemetry,
    }),
  };
}
