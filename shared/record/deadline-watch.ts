import { AuthorityEntry, DEADLINE_MARKS, breachClock, remainingText, type DeadlineMark } from '../domain/breach-clock.ts';
import type { Alerts, Clock, IncidentRecords, Programs, Telemetry } from '../killswitch/ports.ts';
import { chainIdOf, type LedgerChains } from './ports.ts';

/** The metric the 72-hour alarms read: incidents past each mark with no authority decision (dimension `mark`). */
export const UNDECIDED_METRIC = 'IncidentsWithoutAuthorityDecision';
/**
 * How far back the watch looks: every incident opened in the last year, decided or not (an
 * undecided one stays counted, and alarmed, for a year; `register export` lists every one).
 */
export const WATCH_LOOKBACK_DAYS = 365;

export interface DeadlineWatchResult {
  incidents: number;
  /** Incidents past each mark (hours after awareness) with no decision. */
  undecided: Record<`${DeadlineMark}h`, number>;
  /** Alerts sent now: one per incident and mark, ever. */
  alerted: { incidentId: string; mark: DeadlineMark }[];
  /** Records the watch sealed that a writer had left unsealed. */
  sealed: number;
  /** Programs or incidents that could not be checked (logged; the run goes on with the others). */
  failed: number;
}

/**
 * Use case: the Art. 33 clock's watch, run on a schedule (every 15 minutes). For every incident of
 * every program with no authority decision it counts those past 48, 66 and 72 hours (a gauge the
 * stack's alarms read) and alerts the operators once per incident and mark — each alert is then a
 * timeline entry (`DEADLINE_ALERT`, keyed by the mark), so the next run does not send it again. It also seals any incident chain a writer left unsealed (a failed seal is retried here).
 */
export class DeadlineWatch {
  constructor(
    private readonly deps: {
      programs: Programs;
      incidents: IncidentRecords;
      alerts: Alerts;
      telemetry: Telemetry;
      clock: Clock;
      chains?: LedgerChains;
    },
  ) {}

  /**
   * Seal what a writer left unsealed in the incident's chain and its scope's audit chain: a seal of
   * a complete chain is two reads and exports nothing. A failure is logged, and the next run retries.
   */
  async #seal(incident: { incidentId: string; programId: string; scope: string }): Promise<number> {
    let sealed = 0;
    for (const chain of [
      { kind: 'incident', incidentId: incident.incidentId },
      { kind: 'audit', programId: incident.programId, scope: incident.scope },
    ] as const) {
      try {
        sealed += (await this.deps.chains!.seal(chain)).sealed;
      } catch (error) {
        this.deps.telemetry.warn('deadline watch: could not seal a chain', { chainId: chainIdOf(chain), error: errorName(error) });
      }
    }
    return sealed;
  }

  async run(): Promise<DeadlineWatchResult> {
    const now = this.deps.clock();
    const since = new Date(now.getTime() - WATCH_LOOKBACK_DAYS * 86_400_000).toISOString();
    const undecided = { '48h': 0, '66h': 0, '72h': 0 } as DeadlineWatchResult['undecided'];
    const alerted: DeadlineWatchResult['alerted'] = [];
    let incidents = 0;
    let sealed = 0;
    let failed = 0;
    try {
      for (const program of this.deps.programs.all()) {
        let list: Awaited<ReturnType<IncidentRecords['list']>>;
        try {
          list = await this.deps.incidents.list(program.programId, undefined, since);
        } catch (error) {
          failed += 1;
          this.deps.telemetry.error('deadline watch: could not list incidents', { programId: program.programId, error: errorName(error) });
          continue;
        }
        for (const incident of list) {
          incidents += 1;
          try {
            if (this.deps.chains) sealed += await this.#seal(incident);
            const timeline = await this.deps.incidents.timeline(incident.incidentId);
            const clock = breachClock(incident, timeline, now);
            if (clock.status !== 'UNDECIDED' || !clock.passedMarks.length) continue;
            for (const mark of clock.passedMarks) undecided[`${mark}h`] += 1;
            // An alert goes out when the highest passed mark has no alert entry yet, and is recorded after
            // it was sent (a failed send is retried by the next run; two overlapping runs may both send:
            // an alert twice rather than never). Every passed mark gets its entry, so a watch that was
            // down sends one alert, not three.
            const mark = clock.passedMarks.at(-1)!;
            const done = new Set(timeline.filter((t) => t.type === AuthorityEntry.ALERT).map((t) => t.data?.mark));
            if (done.has(mark)) continue;
            await this.deps.alerts.send({
              subject:
                `killswitch: ${mark === 72 ? 'Art. 33 deadline passed' : `${72 - mark} h to the Art. 33 deadline`} for ${incident.incidentId}`.slice(
                  0,
                  100,
                ),
              lines: [
                `Incident ${incident.incidentId} (program ${incident.programId}, severity ${incident.severity}) has no supervisory-authority decision.`,
                `Aware since ${clock.awareAt}; the 72 hours end ${clock.dueAt} (${remainingText(clock.remainingMs ?? 0)}).`,
                'Record the decision:',
                `  killswitch authority notified --incident ${incident.incidentId} --authority <name> --reference <case number>`,
                `  killswitch authority not-notifiable --incident ${incident.incidentId} --reason "<why there is no risk>"`,
              ],
              severity: incident.severity,
              programId: incident.programId,
              incidentId: incident.incidentId,
            });
            for (const passed of clock.passedMarks)
              if (!done.has(passed))
                await this.deps.incidents.record(`DEADLINE#${passed}h`, {
                  incidentId: incident.incidentId,
                  at: now.toISOString(),
                  type: AuthorityEntry.ALERT,
                  actor: 'killswitch:deadline-watch',
                  message: `${passed} h since awareness and no authority decision (Art. 33 deadline ${clock.dueAt})`,
                  data: { mark: passed, dueAt: clock.dueAt, awareAt: clock.awareAt, alerted: passed === mark },
                });
            alerted.push({ incidentId: incident.incidentId, mark });
            this.deps.telemetry.count('DeadlineAlerts', 1, { mark: `${mark}h` });
          } catch (error) {
            // One incident that cannot be read or alerted never stops the others (nor the gauges).
            failed += 1;
            this.deps.telemetry.error('deadline watch: an incident could not be checked', {
              incidentId: incident.incidentId,
              error: errorName(error),
            });
          }
        }
      }
    } finally {
      for (const mark of DEADLINE_MARKS) this.deps.telemetry.gauge(UNDECIDED_METRIC, undecided[`${mark}h`], { mark: `${mark}h` });
      if (failed) this.deps.telemetry.count('DeadlineWatchFailures', failed);
    }
    this.deps.telemetry.info('deadline watch', { incidents, ...undecided, alerted: alerted.length, sealed });
    return { incidents, undecided, alerted, sealed, failed };
  }
}

const errorName = (error: unknown) => (error instanceof Error ? error.name : 'Error');
