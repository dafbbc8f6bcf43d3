import type { DeployedFacts } from './deployed.ts';
import type { Faults, SimQueue, VirtualClock } from './sim.ts';

/**
 * The kill switch as the model test drives and observes it: the real use cases on dynalite, with
 * delivery, time and faults simulated (see sim.ts). Commands go in only where they go in AWS (an
 * event on a bus, a signed operator request, a direct break-glass invoke, a message a rule
 * enqueues); observations read the tables the way an investigator would.
 */
export interface SystemUnderTest {
  readonly clock: VirtualClock;
  readonly faults: Faults;
  readonly facts: DeployedFacts;
  readonly queues: SimQueue<unknown>[];

  /** Register a program (its global scope ACTIVE), seed its grants and data subjects. */
  setup(fixture: ProgramFixture): Promise<void>;

  /** A detector puts `Anomaly Detected` on its bus; EventBridge delivers it `copies` times. */
  putAnomaly(detail: Record<string, unknown>, options: { copies: number; crashAfter?: number }): void;
  /**
   * A signed operator request from `principalArn` (the identity AWS verified). A call that dies
   * (`crashAfter` effects) is retried at once by the client, unless `retryLater`: then the client sees
   * the failure and runs the command again in a later step, if at all.
   */
  operator(
    principalArn: string,
    command: Record<string, unknown>,
    options: { crashAfter?: number; retryLater?: boolean },
  ): Promise<Envelope>;
  /** A direct invocation of the break-glass function. */
  breakGlass(command: Record<string, unknown>, options: { crashAfter?: number }): Promise<Envelope>;
  /** A detector puts an event of killswitch's own detail type on its bus: `false` when nothing can receive it. */
  forgeDomainEvent(detailType: string, detail: Record<string, unknown>): boolean;
  /** Some other EventBridge rule of the account sends a message to the grant-work queue: `false` when the queue policy refuses it. */
  forgeGrantWork(body: Record<string, unknown>): boolean;
  /** Hold back the grant work created from now until {@link releaseHeld}. */
  holdGrantWork(on: boolean): void;
  releaseHeld(): void;
  /** Deliver everything deliverable, advancing time to each redelivery; resolves when only held messages remain. */
  settle(): Promise<void>;

  observe: Observations;
}

export interface ProgramFixture {
  programId: string;
  datasetIds: string[];
  regions: string[];
  /** Per dataset: the grants (the first is the owner's). */
  grants: { datasetId: string; principal: string; owner: boolean }[];
  subjects: { datasetId: string; employeeId: string; categories: string[] }[];
}

export type Envelope = { ok: true; result: Record<string, unknown> } | { ok: false; error: { kind: string; message: string } };

export interface ObservedState {
  scope: string;
  status: 'ACTIVE' | 'PAUSED';
  version: number;
  incidentId?: string;
  /** The item exactly as collectors read it. */
  raw: Record<string, unknown>;
}
export interface ObservedAudit {
  version: number;
  status: string;
  trigger: string;
  by: string;
  incidentId?: string;
  requestId?: string;
}
export interface ObservedIncident {
  incidentId: string;
  scope: string;
  status: 'OPEN' | 'RESOLVED';
  action: string;
  openedAt: string;
  resolvedAt?: string;
  datasetIds: string[];
  linkedIncidentId?: string;
}
export interface ObservedTimelineEntry {
  type: string;
  at: string;
  data?: Record<string, unknown>;
}
export interface ObservedRequest {
  requestId: string;
  kind: 'RESUME' | 'RESTORE_GRANTS';
  status: string;
  incidentId: string;
  requestedBy: string;
  approvedBy?: string;
  requestedAt: string;
  expectedVersion?: number;
  stateVersion?: number;
  scope?: string;
}
export interface ObservedGrant {
  datasetId: string;
  principal: string;
  owner: boolean;
  status: 'ACTIVE' | 'REVOKED';
  revokedByIncidents: string[];
}
export interface ObservedSnapshot {
  datasetId: string;
  principal: string;
  previousStatus: string;
}

export interface Observations {
  states(programId: string): Promise<ObservedState[]>;
  audit(programId: string, scope: string): Promise<ObservedAudit[]>;
  incidents(programId: string): Promise<ObservedIncident[]>;
  timeline(incidentId: string): Promise<ObservedTimelineEntry[]>;
  request(requestId: string): Promise<ObservedRequest | undefined>;
  grants(datasetId: string): Promise<ObservedGrant[]>;
  snapshots(incidentId: string): Promise<ObservedSnapshot[]>;
  notice(incidentId: string, employeeId: string): Promise<{ status: string } | undefined>;
  /** Every anomaly report of the program the trigger finished, by anomaly id. */
  anomalyHandled(programId: string, anomalyId: string): Promise<boolean>;
  /** Notices the messaging gateway received: incident and employee. */
  delivered(): { incidentId: string; employeeId: string }[];
}
