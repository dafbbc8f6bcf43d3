import type { Principal, Severity } from '../schemas/common.ts';
import type { ProgramConfig } from '../schemas/config.ts';
import { DetailType, type KillSwitchEngaged } from '../schemas/domain-events.ts';
import type { Incident } from '../schemas/ledger.ts';
import type { ProgramState } from '../schemas/program-state.ts';
import type { Alerts, AuditRecords, Clock, DomainEvents, FlipResult, IncidentRecords, ProgramStates, Telemetry } from './ports.ts';

export interface PauseDeps {
  state: ProgramStates;
  incidents: IncidentRecords;
  audit: AuditRecords;
  events: DomainEvents;
  alerts: Alerts;
  clock?: Clock;
  /** Every pause counted once, by program, trigger and severity (the function that paused is the metric's service). */
  telemetry?: Telemetry;
}

/** One pause, whoever asks for it: an anomaly, a finding, an escalation, an operator, break-glass. */
export interface PauseOrder {
  program: ProgramConfig;
  scope: string;
  /** The incident that records this pause. */
  incidentId: string;
  causeKey?: string;
  /** This attempt (see FlipInput.attemptId): a retry of the same attempt uses the same id. */
  attemptId: string;
  trigger: 'ANOMALY' | 'OPERATOR' | 'BREAK_GLASS';
  severity: Severity;
  /** Who, as the ledger records them. */
  actor: Principal;
  /** Why, in the actor's words: the ledger's, never the item collectors read. */
  reason: string;
}

/** The outcome of a pause that is in place: the stored state is PAUSED at a version this pause wrote or observed. */
export interface PauseOutcome {
  outcome: 'PAUSED' | 'LINKED';
  incidentId: string;
  state: ProgramState;
  /** This incident holds the pause: it wrote the version (now, or in an earlier attempt); false when linked to another's. */
  stateChanged: boolean;
}

/**
 * Use case: pause a program scope — the one pause path of killswitch.
 *
 * 1. Flip the flag: one conditional write, the first I/O of the kill path. A scope already paused
 *    registers this attempt instead (a resume requested before it then refuses); a closed incident
 *    changes nothing and is reported as such (the caller decides what pausing again means).
 * 2. Open (or keep) the incident, audit the version it wrote, and put the pause in its timeline.
 * 3. Put `Kill Switch Engaged` on the domain bus (its consumers re-read the incident) and alert.
 *
 * Every step is idempotent, so a retry after a crash between any two of them completes the rest;
 * a version is never left without its audit entry and its incident.
 */
export class PauseProgram {
  readonly #clock: Clock;
  constructor(private readonly deps: PauseDeps) {
    this.#clock = deps.clock ?? (() => new Date());
  }

  /** Step 1. */
  flip(order: PauseOrder): Promise<FlipResult> {
    return this.deps.state.pause({
      programId: order.program.programId,
      scope: order.scope,
      incidentId: order.incidentId,
      ...(order.causeKey ? { causeKey: order.causeKey } : {}),
      attemptId: order.attemptId,
      trigger: order.trigger,
      summary: collectorSummary(order),
      verified: order.actor.verified,
      at: this.#clock(),
    });
  }

  /** Steps 2 and 3, for a flip that put (or found) the pause in place. `incident` is opened unless it exists. */
  async record(
    order: PauseOrder,
    flip: Exclude<FlipResult, { outcome: 'CLOSED' }>,
    incident: Incident,
    alert: { subject: string; lines: string[] },
  ): Promise<PauseOutcome> {
    const { deps } = this;
    const { state } = flip;
    const ours = flip.outcome === 'PAUSED';
    await deps.incidents.open(incident);
    const [, recorded] = await Promise.all([
      ours ? deps.audit.record(state, { principal: order.actor, reason: order.reason }) : undefined,
      ours
        ? deps.incidents.record(`STATE#${order.scope}#v${state.version}`, {
            incidentId: order.incidentId,
            at: state.changedAt,
            type: 'STATE_CHANGED',
            actor: order.actor.id,
            message: `${order.program.programId}/${order.scope} PAUSED at version ${state.version} (${order.trigger.toLowerCase().replace('_', '-')})`,
            data: { version: state.version, status: 'PAUSED', scope: order.scope, verified: order.actor.verified },
          })
        : deps.incidents.record(`LINKED#${order.attemptId}`, {
            incidentId: order.incidentId,
            at: this.#clock().toISOString(),
            type: 'PAUSE_LINKED',
            actor: order.actor.id,
            message: `${order.program.programId}/${order.scope} was already PAUSED at version ${state.version} by ${state.incidentId ?? 'another incident'}: this pause is linked to it, and a resume requested before it will refuse. Reason: ${order.reason}`,
            data: { version: state.version, scope: order.scope, holder: state.incidentId, reason: order.reason },
          }),
    ]);
    // Once per version: counted by the attempt that put the version in the timeline (a put-once
    // entry), so a retry after a crash on either side of the flip counts it once.
    if (ours && recorded)
      deps.telemetry?.count('ProgramPaused', 1, { programId: order.program.programId, trigger: order.trigger, severity: order.severity });
    const engaged: KillSwitchEngaged = {
      incidentId: order.incidentId,
      programId: order.program.programId,
      scope: order.scope,
      stateVersion: state.version,
      // This incident's pause (written by this call or by an earlier attempt of it), not a link to another's.
      stateChanged: ours,
      datasetIds: incident.datasetIds,
      severity: order.severity,
      trigger: order.trigger,
      notify: order.program.notify,
      engagedAt: ours ? state.changedAt : this.#clock().toISOString(),
    };
    await deps.events.publish(DetailType.KillSwitchEngaged, engaged);
    await deps.alerts.send({
      subject: alert.subject,
      severity: order.severity,
      programId: order.program.programId,
      incidentId: order.incidentId,
      lines: alert.lines,
    });
    return { outcome: ours ? 'PAUSED' : 'LINKED', incidentId: order.incidentId, state, stateChanged: engaged.stateChanged };
  }
}

/** What the item collectors read says about a pause: the kind of trigger, the severity and the incident. Never a name or free text. */
function collectorSummary(order: PauseOrder): string {
  return `${order.severity} ${order.trigger.toLowerCase().replace('_', '-')} pause; see incident ${order.incidentId}`;
}
