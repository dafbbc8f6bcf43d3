import type { FindingSource } from '../schemas/findings.ts';
import { SILENT, type Telemetry } from '../killswitch/ports.ts';
import type { FindingRecords, SweepSource } from './ports.ts';
import type { FindingIntake, IgnoredReason } from './intake.ts';
import { rejectedAfterParse, type FindingRejections } from './rejections.ts';
import { isThrottling } from './pacing.ts';
import { describeError, ValidationError } from '../domain/errors.ts';

export interface SweepReport {
  source: FindingSource;
  since: string;
  listed: number;
  /** Anomalies handed to the trigger. */
  handled: number;
  /** Anomalies the event path (or an earlier sweep) had already recorded: covered by the ledger, or a duplicate to the trigger. */
  alreadyHandled: number;
  ignored: Partial<Record<IgnoredReason, number>>;
  rejected: number;
  watermark: string;
  complete: boolean;
  stoppedBy?: 'budget' | 'limit' | 'throttled' | 'error';
  error?: string;
}

export interface FindingSweepDeps {
  intake: Pick<FindingIntake, 'handle'>;
  findings: Pick<FindingRecords, 'watermark' | 'saveWatermark'>;
  rejections: Pick<FindingRejections, 'reject'>;
  clock?: () => Date;
  /** First run: how far back to look. */
  initialLookbackMs: number;
  /** Each run starts this much before the watermark: findings indexed late are still listed. */
  overlapMs: number;
  /** Findings listed per source and run, at most; the rest waits for the next run. */
  maxFindingsPerRun: number;
  telemetry?: Telemetry;
}

/**
 * The safety net under the event path: Macie delivers to EventBridge on a best-effort basis and
 * GuardDuty repeats updates only every few hours, so a missed event must not mean a missed pause.
 *
 * Per source: list findings updated since the watermark (less an overlap), oldest first, page by
 * page; skip what is already handled (the anomaly key the event path claims); hand the rest to the
 * intake. The watermark moves to the newest finding fully processed, so a run stopped by its time
 * budget, its finding limit, throttling or an error resumes where it stopped.
 */
export class FindingSweep {
  readonly #clock: () => Date;
  constructor(private readonly deps: FindingSweepDeps) {
    this.#clock = deps.clock ?? (() => new Date());
  }

  async run(source: SweepSource, hasTime: () => boolean = () => true): Promise<SweepReport> {
    const { deps } = this;
    const now = this.#clock();
    const previous = await deps.findings.watermark(source.name);
    const since = previous ? new Date(Date.parse(previous.watermark) - deps.overlapMs) : new Date(now.getTime() - deps.initialLookbackMs);
    const report: SweepReport = {
      source: source.name,
      since: since.toISOString(),
      listed: 0,
      handled: 0,
      alreadyHandled: 0,
      ignored: {},
      rejected: 0,
      watermark: previous?.watermark ?? since.toISOString(),
      complete: false,
    };
    // Never past this run's end: a finding dated in the future (a wrong clock, a forged import)
    // must not move the watermark beyond what the next run would list.
    const end = now.toISOString();
    const advance = (iso: string) => {
      const t = new Date(iso).toISOString();
      if (t > report.watermark) report.watermark = t < end ? t : end;
    };

    try {
      pages: for await (const page of source.pages(since, now)) {
        for (const item of page) {
          report.listed++;
          if (!item.ok) {
            await deps.rejections.reject(item, 'sweep');
            report.rejected++;
            continue;
          }
          let outcome;
          try {
            outcome = await deps.intake.handle(item.finding, { skipHandled: true });
          } catch (error) {
            // A finding that parsed but cannot be made an anomaly will never succeed: kept for
            // replay with its error and alerted, like a malformed one, so it never jams the sweep.
            if (!(error instanceof ValidationError)) throw error;
            await deps.rejections.reject(rejectedAfterParse(item.finding, error), 'sweep');
            report.rejected++;
            advance(item.finding.updatedAt);
            continue;
          }
          if (outcome.outcome === 'IGNORED') report.ignored[outcome.reason] = (report.ignored[outcome.reason] ?? 0) + 1;
          else {
            for (const a of outcome.anomalies) {
              // Covered by the ledger, or found to add nothing by the trigger (a report the policy pauses is always offered to it).
              if (a.outcome === 'ALREADY_HANDLED' || a.outcome === 'DUPLICATE' || a.outcome === 'INCIDENT_CLOSED') report.alreadyHandled++;
              else report.handled++;
            }
          }
          advance(item.finding.updatedAt);
        }
        if (report.listed >= deps.maxFindingsPerRun) {
          report.stoppedBy = 'limit';
          break pages;
        }
        if (!hasTime()) {
          report.stoppedBy = 'budget';
          break pages;
        }
      }
      if (!report.stoppedBy) {
        report.complete = true;
        // Nothing newer exists up to `now`: the next run need not look further back than this.
        advance(new Date(now.getTime() - deps.overlapMs).toISOString());
      }
    } catch (error) {
      report.stoppedBy = isThrottling(error) ? 'throttled' : 'error';
      report.error = `${(error as Error).name}: ${(error as Error).message}`.slice(0, 500);
    }

    await deps.findings.saveWatermark({
      source: source.name,
      watermark: report.watermark,
      lastRunAt: now.toISOString(),
      lastRun: { listed: report.listed, handled: report.handled, seen: report.alreadyHandled, complete: report.complete },
    });
    return report;
  }

  /**
   * One scheduled run over every enabled source, in turn, within the time budget.
   * 1. Sweep the source (see {@link run}); count what it listed and handed to the intake.
   * 2. A source that stopped early (throttled, an error) or failed outright (not enabled, denied)
   *    is counted and logged and keeps its watermark; the next source still runs.
   */
  async runAll(sources: readonly SweepSource[], hasTime: () => boolean): Promise<SweepReport[]> {
    const telemetry = this.deps.telemetry ?? SILENT;
    const reports: SweepReport[] = [];
    for (const source of sources) {
      try {
        const report = await this.run(source, hasTime);
        reports.push(report);
        telemetry.count(`SweepListed_${source.name}`, report.listed);
        telemetry.count(`SweepHandled_${source.name}`, report.handled);
        if (report.stoppedBy === 'error' || report.stoppedBy === 'throttled') {
          telemetry.count('SweepSourceFailed');
          telemetry.warn('sweep of a source stopped early; its watermark is kept for the next run', { ...report });
        } else telemetry.info('sweep of a source done', { ...report });
      } catch (error) {
        telemetry.count('SweepSourceFailed');
        telemetry.error('sweep of a source failed', { source: source.name, ...describeError(error) });
      }
    }
    return reports;
  }
}
