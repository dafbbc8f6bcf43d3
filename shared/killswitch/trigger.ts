import { createHash } from 'node:crypto';
import type { AnomalyDetail } from '../schemas/anomaly.ts';
import { GLOBAL_SCOPE, SEVERITY_RANK, type Principal } from '../schemas/common.ts';
import type { ProgramConfig } from '../schemas/config.ts';
import { DetailType, type IncidentEscalated, type KillSwitchEngaged } from '../schemas/domain-events.ts';
import type { Incident } from '../schemas/ledger.ts';
import type { ProgramState } from '../schemas/program-state.ts';
import { KillSwitchError, UnknownProgramError } from '../domain/errors.ts';
import { decide, type PolicyDecision } from '../domain/policy.ts';
import { incidentIdFor } from '../domain/ids.ts';
import { isDeclaredScope } from '../domain/scopes.ts';
import { PauseProgram, type PauseDeps, type PauseOrder } from './pause.ts';
import type { AnomalyReports, Clock, FlipResult, Programs, ReportClaim } from './ports.ts';

/** Another delivery of the same anomaly is being processed: retry later (the queue will). */
export class AnomalyInProgressError extends KillSwitchError {
  constructor(anomalyId: string, since: string) {
    super(`anomaly ${anomalyId} is being processed by another delivery since ${since}; retry later`, 'CONFLICT');
  }
}

export interface AnomalyTriggerDeps extends PauseDeps {
  programs: Programs;
  anomalies: AnomalyReports;
  clock?: Clock;
  /** Observes the moment the flag write is acknowledged (metrics, benchmarks). */
  onStateWritten?: (state: ProgramState) => void;
}

export type TriggerOutcome =
  | { outcome: 'PAUSED' | 'LINKED'; incidentId: string; stateVersion: number; stateChanged: boolean; escalated: boolean }
  | { outcome: 'RECORDED'; incidentId: string; escalated: boolean }
  | { outcome: 'DUPLICATE' | 'INCIDENT_CLOSED'; incidentId: string };

interface Report {
  anomaly: AnomalyDetail;
  program: ProgramConfig;
  decision: PolicyDecision;
  scope: string;
  issues: string[];
  order: PauseOrder;
}

/**
 * Use case: an anomaly detector (or an AWS finding) reported an anomaly.
 *
 * 1. Find the program in the deployed configuration (unknown → error) and decide by severity.
 *    A scope the program does not declare pauses the whole program instead (never nothing).
 * 2. If the policy pauses: flip the flag — the first write, before anything else.
 * 3. Claim the report (anomaly id and scope): a duplicate stops here, a concurrent delivery retries
 *    later, and an escalation (a higher severity or more datasets than recorded) goes on.
 * 4. Record it through the one pause path: incident, audit entry for the version, timeline,
 *    `Kill Switch Engaged`, alert. An escalation is recorded in the incident of the first report;
 *    an escalation of an incident a resume closed pauses again, in a new incident linked to it.
 *
 * Automation can only pause: no path here resumes anything.
 */
export class AnomalyTrigger {
  readonly #clock: Clock;
  readonly #pauses: PauseProgram;
  constructor(private readonly deps: AnomalyTriggerDeps) {
    this.#clock = deps.clock ?? (() => new Date());
    this.#pauses = new PauseProgram(deps);
  }

  /** `issues`: fields of the report that were cleaned or replaced (normaliseAnomaly), kept in the incident. */
  async handle(anomaly: AnomalyDetail, issues: string[] = []): Promise<TriggerOutcome> {
    const { deps } = this;
    const program = deps.programs.find(anomaly.programId);
    if (!program) throw new UnknownProgramError(anomaly.programId);
    const report = this.#report(anomaly, program, issues);

    const flip = report.decision.action === 'PAUSE' ? await this.#pauses.flip(report.order) : undefined;
    if (flip && flip.outcome !== 'CLOSED') deps.onStateWritten?.(flip.state);

    const claim = await deps.anomalies.claim(
      {
        programId: program.programId,
        anomalyId: anomaly.anomalyId,
        scope: report.scope,
        incidentId: report.order.incidentId,
        severity: anomaly.severity,
        datasetIds: report.decision.datasetIds,
      },
      this.#clock(),
    );
    if (claim.claim === 'IN_PROGRESS') throw new AnomalyInProgressError(anomaly.anomalyId, claim.since);
    if (claim.claim === 'DONE' && !(flip?.outcome === 'PAUSED' && flip.wrote))
      return { outcome: 'DUPLICATE', incidentId: claim.incidentId };
    // A flip with no record is a bug by definition: a report that adds nothing but did write a version (it cannot, but if it ever did) is recorded like an escalation.
    const process: Extract<ReportClaim, { claim: 'PROCESS' }> =
      claim.claim === 'PROCESS'
        ? claim
        : {
            claim: 'PROCESS',
            incidentId: claim.incidentId,
            revision: claim.revision,
            escalated: true,
            receivedAt: '',
            recorded: { severity: anomaly.severity, datasetIds: report.decision.datasetIds },
          };
    try {
      const outcome = await this.#record(report, process, flip);
      if (process.receivedAt)
        await deps.anomalies.complete(
          { programId: program.programId, anomalyId: anomaly.anomalyId, scope: report.scope },
          process.receivedAt,
          this.#clock(),
        );
      return outcome;
    } catch (error) {
      // Give the claim up: the retry (the queue's) takes over at once.
      if (process.receivedAt)
        await deps.anomalies.release(
          { programId: program.programId, anomalyId: anomaly.anomalyId, scope: report.scope },
          process.receivedAt,
        );
      throw error;
    }
  }

  /**
   * Whether the ledger already holds all this report would record: a report the policy only
   * records, completed, at this severity or higher, on these datasets. Then it is the incident it
   * is recorded in; otherwise undefined and the report must be handled. (The finding sweep's one
   * read per finding the event path handled.)
   */
  async coveredBy(anomaly: AnomalyDetail): Promise<string | undefined> {
    const program = this.deps.programs.find(anomaly.programId);
    if (!program) return undefined;
    const report = this.#report(anomaly, program, []);
    // A report the policy pauses is always handled: its flip comes first and finds out by itself
    // whether the pause is in place (after a policy change, a report once recorded now pauses).
    if (report.decision.action === 'PAUSE') return undefined;
    const recorded = await this.deps.anomalies.recorded(program.programId, anomaly.anomalyId, report.scope);
    if (recorded?.status !== 'COMPLETED') return undefined;
    if (SEVERITY_RANK[anomaly.severity] > SEVERITY_RANK[recorded.severity]) return undefined;
    if (report.decision.datasetIds.some((d) => !recorded.datasetIds.includes(d))) return undefined;
    return recorded.incidentId;
  }

  #report(anomaly: AnomalyDetail, program: ProgramConfig, issues: string[]): Report {
    const named = anomaly.scope ?? GLOBAL_SCOPE;
    const scope = isDeclaredScope(program, named) ? named : GLOBAL_SCOPE;
    const allIssues =
      scope === named
        ? issues
        : [...issues, `scope: "${named}" is not a scope of program ${program.programId}; the whole program is paused`];
    const seed =
      scope === GLOBAL_SCOPE ? `${program.programId}/${anomaly.anomalyId}` : `${program.programId}/${anomaly.anomalyId}/${scope}`;
    const incidentId = incidentIdFor(seed, new Date(anomaly.observedAt));
    const detector: Principal = { id: `detector:${anomaly.detector}`, verified: false };
    return {
      anomaly,
      program,
      scope,
      issues: allIssues,
      decision: decide(program, anomaly),
      order: {
        program,
        scope,
        incidentId,
        causeKey: causeKeyOf(seed),
        // The same report delivered again is the same attempt; a report with more (an escalation) is a new one.
        attemptId: `${incidentId}#${createHash('sha256')
          .update(`${anomaly.severity}/${[...new Set(anomaly.datasetIds)].sort().join(',')}`)
          .digest('hex')
          .slice(0, 12)}`,
        trigger: 'ANOMALY',
        severity: anomaly.severity,
        actor: detector,
        // The ledger's record of why (investigators read it); collectors see only the summary.
        reason: `${anomaly.severity} ${anomaly.kind} anomaly ${anomaly.anomalyId} from ${anomaly.detector}: ${anomaly.summary}`,
      },
    };
  }

  /** Step 4, under this delivery's claim. */
  async #record(report: Report, claim: Extract<ReportClaim, { claim: 'PROCESS' }>, flip: FlipResult | undefined): Promise<TriggerOutcome> {
    const { deps } = this;
    const { anomaly, program, decision, scope } = report;
    const incidentId = claim.incidentId;
    const now = this.#clock();
    const existing = await deps.incidents.get(incidentId);
    const escalated = claim.escalated && existing !== undefined;
    const order: PauseOrder = { ...report.order, incidentId, severity: claim.recorded.severity };

    if (flip?.outcome === 'CLOSED') {
      // The incident (or this anomaly on this scope) was closed by a resume. A report that adds
      // nothing is a late duplicate; an escalation pauses again, in a new incident linked to it.
      if (!claim.escalated) return { outcome: 'INCIDENT_CLOSED', incidentId };
      return this.#pauseAfterClose(report, claim, incidentId, now);
    }
    if (flip && flip.state.incidentId === report.order.incidentId && report.order.incidentId !== incidentId) {
      // Flipped under this report's own id (its day differs from the first report's): the pause belongs to the first report's incident.
      await deps.state.relabel(program.programId, scope, flip.state.version, report.order.incidentId, incidentId);
      flip = { ...flip, state: { ...flip.state, incidentId } };
    } else if (flip?.outcome === 'LINKED' && flip.state.incidentId === incidentId) {
      // "Linked" to the incident that records this report: its own pause (relabelled by an earlier attempt that then died).
      flip = { outcome: 'PAUSED', state: flip.state, wrote: false };
    }

    const datasetIds = [...new Set([...(existing?.datasetIds ?? []), ...claim.recorded.datasetIds])];
    const action: Incident['action'] = !flip ? 'RECORDED' : flip.outcome === 'PAUSED' ? 'PAUSED' : 'LINKED';
    const incident = existing ?? this.#incident(report, incidentId, action, claim, datasetIds, flip?.state, now);
    if (escalated) {
      const upgraded = existing.action === 'PAUSED' || action === 'RECORDED' ? undefined : action;
      await deps.incidents.escalate(incidentId, {
        revision: claim.revision,
        severity: claim.recorded.severity,
        datasetIds,
        unknownDatasetIds: [...new Set([...existing.unknownDatasetIds, ...decision.unknownDatasetIds])],
        ...(upgraded ? { action: upgraded } : {}),
        ...(flip?.outcome === 'PAUSED' ? { stateVersion: flip.state.version } : {}),
        inputIssues: [...new Set([...existing.inputIssues, ...report.issues])],
      });
      await deps.incidents.record(`ESCALATED#r${claim.revision}`, {
        incidentId,
        at: now.toISOString(),
        type: 'ESCALATED',
        actor: order.actor.id,
        message: `${anomaly.anomalyId} reported again as ${anomaly.severity}${decision.datasetIds.length ? ` on ${decision.datasetIds.join(', ')}` : ''}: the incident now concerns ${claim.recorded.severity}, ${datasetIds.join(', ')}${flip ? `; ${program.programId}/${scope} ${flip.outcome === 'PAUSED' ? 'paused' : 'already paused'} at version ${flip.state.version}` : ''}`,
        data: { revision: claim.revision, severity: claim.recorded.severity, datasetIds },
      });
    } else {
      await deps.incidents.record('OPENED', {
        incidentId,
        at: incident.openedAt,
        type: 'INCIDENT_OPENED',
        actor: order.actor.id,
        message: `${anomaly.severity} ${anomaly.kind} anomaly ${anomaly.anomalyId}: ${action.toLowerCase()}`,
        data: {
          datasetIds: decision.datasetIds,
          unknownDatasetIds: decision.unknownDatasetIds,
          ...(report.issues.length ? { inputIssues: report.issues } : {}),
        },
      });
    }

    const alert = this.#alert(report, incidentId, escalated, flip);
    if (escalated) {
      // Consumers re-read the incident: notices for an incident already notified reach the new datasets' employees.
      const detail: IncidentEscalated = {
        incidentId,
        programId: program.programId,
        revision: claim.revision,
        severity: claim.recorded.severity,
        datasetIds,
        escalatedAt: now.toISOString(),
      };
      await deps.events.publish(DetailType.IncidentEscalated, detail);
    }
    if (flip) {
      const paused = await this.#pauses.record(order, flip, { ...incident, datasetIds }, alert);
      return { outcome: paused.outcome, incidentId, stateVersion: paused.state.version, stateChanged: paused.stateChanged, escalated };
    }
    await deps.incidents.open(incident);
    if (escalated && existing.status === 'OPEN' && existing.action !== 'RECORDED' && datasetIds.length > existing.datasetIds.length) {
      // The incident holds a pause and now concerns more datasets: its consumers revoke and notify
      // those too. (A closed incident's re-report that the policy does not pause is recorded and
      // alerted only: nothing acts for an incident a resume has closed.)
      await this.#engagedAgain(report, incidentId, datasetIds, now);
    }
    await deps.alerts.send({ ...alert, severity: anomaly.severity, programId: program.programId, incidentId });
    return { outcome: 'RECORDED', incidentId, escalated };
  }

  async #pauseAfterClose(
    report: Report,
    claim: Extract<ReportClaim, { claim: 'PROCESS' }>,
    closedId: string,
    now: Date,
  ): Promise<TriggerOutcome> {
    const { program, scope, anomaly } = report;
    const seed = `${program.programId}/${anomaly.anomalyId}/${scope}#r${claim.revision}`;
    const incidentId = incidentIdFor(seed, now);
    const order: PauseOrder = {
      ...report.order,
      incidentId,
      causeKey: causeKeyOf(seed),
      attemptId: incidentId,
      severity: claim.recorded.severity,
    };
    const flip = await this.#pauses.flip(order);
    if (flip.outcome === 'CLOSED') return { outcome: 'INCIDENT_CLOSED', incidentId };
    const incident = {
      ...this.#incident(report, incidentId, flip.outcome, claim, claim.recorded.datasetIds, flip.state, now),
      linkedIncidentId: closedId,
    };
    await this.deps.incidents.record(`REOPENED#r${claim.revision}`, {
      incidentId: closedId,
      at: now.toISOString(),
      type: 'ESCALATED_AFTER_CLOSE',
      actor: order.actor.id,
      message: `${anomaly.anomalyId} reported again as ${anomaly.severity} after this incident was closed: ${program.programId}/${scope} is paused again under ${incidentId}`,
      data: { revision: claim.revision, incidentId },
    });
    await this.deps.incidents.record('OPENED', {
      incidentId,
      at: now.toISOString(),
      type: 'INCIDENT_OPENED',
      actor: order.actor.id,
      message: `${anomaly.severity} ${anomaly.kind} anomaly ${anomaly.anomalyId} escalated after ${closedId} was closed: ${flip.outcome.toLowerCase()}`,
      data: { datasetIds: claim.recorded.datasetIds, linkedIncidentId: closedId },
    });
    const paused = await this.#pauses.record(order, flip, incident, this.#alert(report, incidentId, true, flip));
    return { outcome: paused.outcome, incidentId, stateVersion: paused.state.version, stateChanged: paused.stateChanged, escalated: true };
  }

  #incident(
    report: Report,
    incidentId: string,
    action: Incident['action'],
    claim: Extract<ReportClaim, { claim: 'PROCESS' }>,
    datasetIds: string[],
    state: ProgramState | undefined,
    now: Date,
  ): Incident {
    const { anomaly, program, scope, decision } = report;
    return {
      incidentId,
      programId: program.programId,
      scope,
      severity: claim.recorded.severity,
      status: 'OPEN',
      action,
      openedAt: now.toISOString(),
      openedBy: report.order.actor.id,
      trigger: 'ANOMALY',
      anomalyId: anomaly.anomalyId,
      detector: anomaly.detector,
      kind: anomaly.kind,
      summary: anomaly.summary,
      datasetIds,
      unknownDatasetIds: decision.unknownDatasetIds,
      exposure: anomaly.exposure,
      stateVersion: state?.version,
      linkedIncidentId: action === 'LINKED' ? state?.incidentId : undefined,
      notify: program.notify,
      causeKey: report.order.causeKey,
      revision: claim.revision,
      inputIssues: report.issues,
    };
  }

  #alert(report: Report, incidentId: string, escalated: boolean, flip: FlipResult | undefined): { subject: string; lines: string[] } {
    const { anomaly, program, scope, decision } = report;
    const action = !flip ? 'recorded' : flip.outcome === 'PAUSED' ? 'paused' : 'linked to the pause in place';
    return {
      subject: `[killswitch] ${anomaly.severity} anomaly on ${program.programId}${escalated ? ' (escalated)' : ''}: ${action}`,
      lines: [
        `Incident:  ${incidentId}`,
        `Program:   ${program.programId} (scope ${scope})`,
        `Anomaly:   ${anomaly.anomalyId} (${anomaly.kind}) from ${anomaly.detector}${escalated ? ', reported again with more' : ''}`,
        `Action:    ${action}${flip ? ` — state version ${flip.state.version}` : ' — not paused by policy'}`,
        `Datasets:  ${decision.datasetIds.join(', ')}`,
        ...(decision.unknownDatasetIds.length ? [`Unknown datasets (not acted on): ${decision.unknownDatasetIds.join(', ')}`] : []),
        ...(report.issues.length ? [`Input cleaned: ${report.issues.length} field(s), see the incident`] : []),
        `Details:   killswitch incident show ${incidentId}`,
      ],
    };
  }

  async #engagedAgain(report: Report, incidentId: string, datasetIds: string[], now: Date): Promise<void> {
    const current = await this.deps.state.get(report.program.programId, report.scope);
    const engaged: KillSwitchEngaged = {
      incidentId,
      programId: report.program.programId,
      scope: report.scope,
      stateVersion: current?.state.version ?? 1,
      stateChanged: false,
      datasetIds,
      severity: report.anomaly.severity,
      trigger: 'ANOMALY',
      notify: report.program.notify,
      engagedAt: now.toISOString(),
    };
    await this.deps.events.publish(DetailType.KillSwitchEngaged, engaged);
  }
}

/** The cause a resume closes for an anomaly on a scope: a hash, since collectors read the closed causes. */
export const causeKeyOf = (seed: string): string => `A#${createHash('sha256').update(seed).digest('hex').slice(0, 20)}`;
