import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { Macie2Client } from '@aws-sdk/client-macie2';
import { GuardDutyClient } from '@aws-sdk/client-guardduty';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { readEnv } from '#shared/runtime/env.ts';
import { FindingSweep, type SweepReport } from '#shared/findings/sweep.ts';
import { GuardDutySweepSource, MacieSweepSource, SecurityHubSweepSource } from '#shared/adapters/findings/sweep-sources.ts';
import type { SweepSource } from '#shared/findings/ports.ts';
import type { FindingSource } from '#shared/schemas/findings.ts';
import { FindingSweepEnvSchema, findingServices } from '#shared/runtime/composition.ts';
import { describeError, observability } from '#shared/runtime/observability.ts';
import { budgetUntil } from '#shared/domain/work.ts';

const { logger, metrics } = observability('finding-sweep');
const env = readEnv(FindingSweepEnvSchema);
const services = findingServices(env);
// The SDK's adaptive retry mode slows its own calls down when the API throttles.
const retry = { maxAttempts: 6, retryMode: 'adaptive' } as const;
const factories: Record<FindingSource, () => SweepSource> = {
  macie: () => new MacieSweepSource(new Macie2Client(retry)),
  guardduty: () => new GuardDutySweepSource(new GuardDutyClient(retry)),
  securityhub: () => new SecurityHubSweepSource(new SecurityHubClient(retry)),
};
const sources = env.SWEEP_SOURCES.map((name) => factories[name]());
const sweep = new FindingSweep({
  intake: services.intake,
  findings: services.findings,
  rejections: services.rejections,
  initialLookbackMs: env.SWEEP_LOOKBACK_MS,
  overlapMs: env.SWEEP_OVERLAP_MS,
  maxFindingsPerRun: env.SWEEP_MAX_FINDINGS,
});

/**
 * Scheduled (EventBridge rule): lists recent findings of each enabled source and feeds those not
 * yet handled through the finding intake. One source failing (not enabled, denied, throttled)
 * does not stop the others; each keeps its watermark for the next run.
 */
export const handler = async (_event: unknown, context?: { getRemainingTimeInMillis?: () => number }): Promise<SweepReport[]> => {
  const { hasTime } = budgetUntil(context?.getRemainingTimeInMillis ? Date.now() + context.getRemainingTimeInMillis() - 30_000 : Date.now() + 240_000);
  const reports: SweepReport[] = [];
  try {
    for (const source of sources) {
      try {
        const report = await sweep.run(source, hasTime);
        reports.push(report);
        metrics.addMetric(`SweepListed_${source.name}`, MetricUnit.Count, report.listed);
        metrics.addMetric(`SweepHandled_${source.name}`, MetricUnit.Count, report.handled);
        if (report.stoppedBy === 'error' || report.stoppedBy === 'throttled') {
          metrics.addMetric('SweepSourceFailed', MetricUnit.Count, 1);
          logger.warn('sweep of a source stopped early; its watermark is kept for the next run', { ...report });
        } else logger.info('sweep of a source done', { ...report });
      } catch (error) {
        metrics.addMetric('SweepSourceFailed', MetricUnit.Count, 1);
        logger.error('sweep of a source failed', { source: source.name, ...describeError(error) });
      }
    }
    return reports;
  } finally {
    metrics.publishStoredMetrics();
  }
};
