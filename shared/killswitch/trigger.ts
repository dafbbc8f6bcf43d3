import type { AnomalyDetail } from '../schemas/anomaly.ts';
import { GLOBAL_SCOPE } from '../schemas/common.ts';
import { DetailType, type KillSwitchEngaged } from '../schemas/domain-events.ts';
import type { Incident } from '../schemas/ledger.ts';
import type { ProgramState } from '../schemas/program-state.ts';
import { KillSwitchError, UnknownProgramError } from '../errors.ts';
import type { ProgramRegistry } from '../config/env.ts';
import type { ProgramConfig } from '../schemas/config.ts';
import type { ProgramStateStore, PauseResult } from '../stores/program-state-store.ts';
import type { AnomalyLog, AuditTrail, IncidentLedger } from '../stores/ledger/index.ts';
import type { DomainEventPublisher } from '../aws/domain-event-publisher.ts';
import type { OperatorAlerts } from '../aws/operator-alerts.ts';
import { decide } from './policy.ts';
import { incidentIdFor } from './ids.ts';

/** Another delivery of the same anomaly is being processed: retry later (EventBridge will). */
export class AnomalyInProgressError extends KillSwitchError {
  constructor(anomalyId: string, since: string) {
    super(`anomaly ${anomalyId} is being processed by another delivery since ${since}; retry later`, 'CONFLICT');
  }
}

export interface AnomalyTriggerDeps {
  programs: ProgramRegistry;
  state: ProgramStateStore;
  incidents: IncidentLedger;
  audit: AuditTrail;
  anomalies: AnomalyLog;
  events: DomainEventPublisher;
  alerts: OperatorAlerts;
  clock?: () => Date;
  /** Observes the moment the flag write is acknowledged (metrics, benchmarks). */
  onStateWritten?: (state: ProgramState) => void;
}

interface RecordContext {
  program: ProgramConfig;
  decision: ReturnType<typeof decide>;
  incidentId: string;
  scope: string;
  detector: { id: string; verified: boolean };
  pause: PauseResult | undefined;
  now: Date;
}

export type TriggerOutcome =
  | { outcome: 'PAUSED' | 'LINKED'; incidentId: string; stateVersion: number; stateChanged: boolean }
  | { outcome: 'RECORDED'; incidentId: string }
  | { outcome: 'DUPLICATE' | 'INCIDENT_CLOSED'; incidentId: string };

/**
 * Use case: an anomaly detector reported an anomaly.
 *
 * 1. Find the program in the deployed configuration (unknown → error) and decide by severity.
 * 2. If the policy pauses: flip the flag. This is the first write, before anything else.
 * 3. Claim the anomaly id: a duplicate delivery stops here; a concurrent one retries later.
 * 4. Record the incident, the audit entry for the new version and the timeline (all idempotent).
 * 5. Put `Kill Switch Engaged` on the bus, alert the operators, mark the anomaly complete.
 *
 * Automation can only pause: no path here resumes anything.
 */
export class AnomalyTrigger {
  readonly #clock: () => Date;
  constructor(private readonly deps: AnomalyTriggerDeps) {
    this.#clock = deps.clock ?? (() => new Date());
  }

  async handle(anomaly: AnomalyDetail): Promise<TriggerOutcome> {
    const { deps } = this;
    const program = deps.programs.find(anomaly.programId);
    if (!program) throw new UnknownProgramError(anomaly.programId);

    const decision = decide(program, anomaly);
    const incidentId = incidentIdFor(`${anomaly.programId}/${anomaly.anomalyId}`, new Date(anomaly.observedAt));
    const scope = anomaly.scope ?? GLOBAL_SCOPE;
    const detector = { id: `detector:${anomaly.detector}`, verified: false };

    let pause: PauseResult | undefined;
    if (decision.action === 'PAUSE') {
      pause = await deps.state.pause({
        programId: anomaly.programId,
        scope,
        incidentId,
        // Never the detector's free-text summary: the state item is read by every collector.
        reason: `${anomaly.severity} ${anomaly.kind} anomaly ${anomaly.anomalyId} from ${anomaly.detector}`,
        changedBy: detector,
        trigger: 'ANOMALY',
        at: this.#clock(),
      });
      deps.onStateWritten?.(pause.state);
    }

    const now = this.#clock();
    const claim = await deps.anomalies.claim(anomaly.programId, anomaly.anomalyId, incidentId, now);
    if (claim.claim === 'DONE') return { outcome: 'DUPLICATE', incidentId: claim.incidentId };
    if (claim.claim === 'IN_PROGRESS') throw new AnomalyInProgressError(anomaly.anomalyId, claim.since);
    if (pause?.outcome === 'INCIDENT_CLOSED') {
      await deps.anomalies.complete(anomaly.programId, anomaly.anomalyId, now);
      return { outcome: 'INCIDENT_CLOSED', incidentId };
    }

    try {
      return await this.#record(anomaly, { program, decision, incidentId, scope, detector, pause, now });
    } catch (error) {
      // Give the claim up: the retry (EventBridge's, or Lambda's) takes over at once.
      await deps.anomalies.release(anomaly.programId, anomaly.anomalyId, claim.receivedAt);
      throw error;
    }
  }

  /** Steps 4 and 5, under this delivery's claim. */
  async #record(
    anomaly: AnomalyDetail,
    { program, decision, incidentId, scope, detector, pause, now }: RecordContext,
  ): Promise<TriggerOutcome> {
    const { deps } = this;
    // Ours when this delivery flipped the flag, or a concurrent delivery of the same anomaly did.
    const ours = pause !== undefined && (pause.outcome === 'PAUSED' || pause.state.incidentId === incidentId);
    const action: Incident['action'] = !pause ? 'RECORDED' : ours ? 'PAUSED' : 'LINKED';
    const incident: Incident = {
      incidentId,
      programId: anomaly.programId,
      scope,
      severity: anomaly.severity,
      status: 'OPEN',
      action,
      openedAt: now.toISOString(),
      openedBy: detector.id,
      trigger: 'ANOMALY',
      anomalyId: anomaly.anomalyId,
      detector: anomaly.detector,
      kind: anomaly.kind,
      summary: anomaly.summary,
      datasetIds: decision.datasetIds,
      unknownDatasetIds: decision.unknownDatasetIds,
      exposure: anomaly.exposure,
      stateVersion: pause?.state.version,
      linkedIncidentId: action === 'LINKED' ? pause?.state.incidentId : undefined,
      notify: program.notify,
    };
    await deps.incidents.open(incident);
    await Promise.all([
      ours && pause ? deps.audit.recordState(pause.state) : undefined,
      deps.incidents.record('OPENED', {
        incidentId,
        at: now.toISOString(),
        type: 'INCIDENT_OPENED',
        actor: detector.id,
        message: `${anomaly.severity} ${anomaly.kind} anomaly ${anomaly.anomalyId}: ${action.toLowerCase()}`,
        data: { datasetIds: decision.datasetIds, unknownDatasetIds: decision.unknownDatasetIds },
      }),
      pause && ours
        ? deps.incidents.record(`STATE#${scope}#v${pause.state.version}`, {
            incidentId,
            at: pause.state.changedAt,
            type: 'STATE_CHANGED',
            actor: pause.state.changedBy,
            message: `${anomaly.programId}/${scope} PAUSED at version ${pause.state.version}`,
            data: { version: pause.state.version, status: 'PAUSED', scope },
          })
        : undefined,
    ]);

    if (pause) {
      const engaged: KillSwitchEngaged = {
        incidentId,
        programId: anomaly.programId,
        scope,
        stateVersion: pause.state.version,
        stateChanged: ours,
        datasetIds: decision.datasetIds,
        severity: anomaly.severity,
        trigger: 'ANOMALY',
        notify: program.notify,
        engagedAt: (ours ? pause.state.changedAt : now.toISOString()),
      };
      await deps.events.publish(DetailType.KillSwitchEngaged, engaged);
    }
    await deps.alerts.send({
      subject: `[killswitch] ${anomaly.severity} anomaly on ${anomaly.programId}: ${action.toLowerCase()}`,
      severity: anomaly.severity,
      programId: anomaly.programId,
      incidentId,
      lines: [
        `Incident:  ${incidentId}`,
        `Program:   ${anomaly.programId} (scope ${scope})`,
        `Anomaly:   ${anomaly.anomalyId} (${anomaly.kind}) from ${anomaly.detector}`,
        `Action:    ${action}${pause ? ` — state version ${pause.state.version}` : ' — not paused by policy'}`,
        `Datasets:  ${decision.datasetIds.join(', ')}`,
        ...(decision.unknownDatasetIds.length ? [`Unknown datasets (not acted on): ${decision.unknownDatasetIds.join(', ')}`] : []),
        `Details:   killswitch incident show ${incidentId}`,
      ],
    });
    await deps.anomalies.complete(anomaly.programId, anomaly.anomalyId, this.#clock());

    return pause
      ? { outcome: action as 'PAUSED' | 'LINKED', incidentId, stateVersion: pause.state.version, stateChanged: ours }
      : { outcome: 'RECORDED', incidentId };
  }
}
