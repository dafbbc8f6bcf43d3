import type { Principal, Severity } from '../schemas/common.ts';
import type { ProgramConfig } from '../schemas/config.ts';
import type { ApprovalRequest, AuditEntry, Incident, TimelineEntry } from '../schemas/ledger.ts';
import type { ProgramState, StateTrigger } from '../schemas/program-state.ts';

/*
 * The ports of the kill switch's use cases: what they need from the world, declared here, by the
 * core. The DynamoDB stores (shared/adapters/dynamodb), the EventBridge and SNS publishers and the SQS work
 * queues (shared/adapters/aws) implement them; the model test and the unit tests drive the same use cases
 * through the same ports.
 */

export type Clock = () => Date;

export interface Programs {
  find(programId: string): ProgramConfig | undefined;
  all(): ProgramConfig[];
}

// ---- The flag ----------------------------------------------------------------------------

export interface FlipInput {
  programId: string;
  scope: string;
  incidentId: string;
  /** A second key a resume closes besides the incident id (an anomaly's cause): a redelivered report of it never pauses again. */
  causeKey?: string;
  /**
   * This pause attempt. On a scope already paused by another incident it is registered on the item,
   * so that a resume requested before it refuses; a retry of the same attempt registers nothing new.
   */
  attemptId: string;
  trigger: Extract<StateTrigger, 'ANOMALY' | 'OPERATOR' | 'BREAK_GLASS'>;
  /** What collectors may read about the pause: ids and kinds, never names or free text. */
  summary: string;
  verified: boolean;
  at: Date;
}

export type FlipResult =
  /** This incident holds the pause: `wrote` when this call wrote the version, else an earlier attempt of the same incident did. */
  | { outcome: 'PAUSED'; state: ProgramState; wrote: boolean }
  /** Another incident holds the pause; this attempt is registered with it. */
  | { outcome: 'LINKED'; state: ProgramState }
  /** The incident (or its cause) was closed by an approved resume: nothing changed. */
  | { outcome: 'CLOSED'; state: ProgramState };

export interface ResumeInput {
  programId: string;
  scope: string;
  /** The version and the registered pause attempts the request saw: anything newer refuses. */
  expectedVersion: number;
  expectedLinks: number;
  requestId: string;
  /** Incident ids and cause keys this resume closes: their reports never pause again. */
  closes: string[];
  at: Date;
}

export interface StoredState {
  state: ProgramState;
  closedCauses: string[];
  /** Pause attempts registered while the scope has been paused. */
  links: number;
  /**
   * The last resume applied to the scope (a pause never removes it): how an approval retried after a
   * crash — even once the scope has been paused again — knows its resume was applied, and at which version.
   */
  lastResume?: { requestId: string; version: number; at: string };
}

export interface ProgramStates {
  pause(input: FlipInput): Promise<FlipResult>;
  relabel(programId: string, scope: string, version: number, from: string, to: string): Promise<boolean>;
  resume(input: ResumeInput): Promise<ProgramState>;
  get(programId: string, scope: string): Promise<StoredState | undefined>;
  list(programId: string): Promise<ProgramState[]>;
}

// ---- The record ----------------------------------------------------------------------------

/** Who made a state change and why, in their words: kept in the ledger, never on the item collectors read. */
export interface StateChangeActor {
  principal: Principal;
  reason: string;
}

export interface AuditRecords {
  record(state: ProgramState, actor: StateChangeActor): Promise<boolean>;
  get(programId: string, scope: string, version: number): Promise<AuditEntry | undefined>;
  history(programId: string, scope: string): Promise<AuditEntry[]>;
}

/** What an escalation changes on its incident: only ever more (severity, datasets, a pause). */
export interface Escalation {
  revision: number;
  severity: Severity;
  datasetIds: string[];
  unknownDatasetIds: string[];
  /** The incident paused (or linked to a pause) on this report. */
  action?: 'PAUSED' | 'LINKED';
  stateVersion?: number;
  inputIssues: string[];
}

export interface IncidentRecords {
  open(incident: Incident): Promise<boolean>;
  get(incidentId: string): Promise<Incident | undefined>;
  escalate(incidentId: string, escalation: Escalation): Promise<boolean>;
  record(entryKey: string, entry: TimelineEntry): Promise<boolean>;
  timeline(incidentId: string): Promise<TimelineEntry[]>;
  /** The incident and its timeline, read at once (undefined when there is no such incident). */
  withTimeline(incidentId: string): Promise<{ incident: Incident; timeline: TimelineEntry[] } | undefined>;
  /** Most recent first; `since` (an ISO time) keeps those opened at or after it. */
  list(programId: string, limit?: number, since?: string): Promise<Incident[]>;
  /** Oldest first: the program's incidents opened in [since, until], at most `limit`. */
  listOpened(programId: string, since: string, until: string, limit: number): Promise<Incident[]>;
  openOn(programId: string, scope: string): Promise<Incident[]>;
  resolve(incidentId: string, by: Principal, at: Date, requestId: string): Promise<boolean>;
}

/** One report of an anomaly on a scope, as the trigger claims it. */
export interface AnomalyReport {
  programId: string;
  anomalyId: string;
  scope: string;
  /** The incident a first report opens; later reports are recorded in the incident the first opened. */
  incidentId: string;
  severity: Severity;
  /** The program's datasets the report concerns. */
  datasetIds: string[];
}

export type ReportClaim =
  /**
   * Record this report: a first report, an escalation (a higher severity or datasets not reported
   * before), or the takeover of a delivery that stopped mid-way. `recorded` is what the incident
   * now concerns: the highest severity and every dataset reported so far.
   */
  | {
      claim: 'PROCESS';
      incidentId: string;
      revision: number;
      escalated: boolean;
      receivedAt: string;
      recorded: { severity: Severity; datasetIds: string[] };
    }
  /** Another delivery is recording this anomaly right now. */
  | { claim: 'IN_PROGRESS'; since: string }
  /** Recorded before, and this report adds nothing: a duplicate. */
  | { claim: 'DONE'; incidentId: string; revision: number };

export type ReportKey = Pick<AnomalyReport, 'programId' | 'anomalyId' | 'scope'>;

export interface AnomalyReports {
  claim(report: AnomalyReport, now: Date): Promise<ReportClaim>;
  complete(report: ReportKey, receivedAt: string, now: Date): Promise<boolean>;
  release(report: ReportKey, receivedAt: string): Promise<void>;
  /** What the ledger holds of an anomaly's reports on a scope (a cheap read for the finding sweep). */
  recorded(programId: string, anomalyId: string, scope: string): Promise<RecordedReport | undefined>;
}

/** An anomaly's reports on a scope as recorded: the highest severity and every dataset so far. */
export interface RecordedReport {
  status: 'RECEIVED' | 'COMPLETED';
  incidentId: string;
  severity: Severity;
  datasetIds: string[];
}

export interface Decision {
  status: 'APPROVED' | 'REJECTED';
  by: Principal;
  at: Date;
  reason?: string;
  stateVersion?: number;
}

export interface ApprovalRecords {
  create(request: ApprovalRequest): Promise<boolean>;
  get(requestId: string): Promise<ApprovalRequest | undefined>;
  /** The program's requests in one status, newest first. */
  list(programId: string, status: ApprovalRequest['status'], limit?: number): Promise<ApprovalRequest[]>;
  decide(requestId: string, decision: Decision): Promise<boolean>;
}

// ---- Notices to the world ----------------------------------------------------------------------

export interface DomainEvents {
  /** Put one of killswitch's own events on its domain bus; resolves with the event id, throws when refused. */
  publish(detailType: string, detail: object, resources?: string[]): Promise<string>;
}

export interface OperatorAlert {
  /** Short subject line (SNS caps it at 100 characters). */
  subject: string;
  /** Plain-text body. Ids and counts only: alerts never carry employee data or detector free text. */
  lines: string[];
  severity: string;
  programId: string;
  incidentId?: string;
}

export interface Alerts {
  send(alert: OperatorAlert): Promise<string | undefined>;
}

/** A queue of our own work (grant restores, notice planning): what is enqueued is done at least once. */
export interface WorkQueue<T extends object> {
  enqueue(work: T): Promise<string | undefined>;
}

/** Where input that can never succeed is kept for replay, with the reason, instead of retried. */
export interface DeadLetterSink {
  send(body: string, reason: string, source: string): Promise<void>;
}

/**
 * What a use case reports of its work: counts (CloudWatch metrics) and log lines. Ids, counts and
 * outcomes only: never payloads, contact data, notice bodies or detectors' free text.
 */
export interface Telemetry {
  count(metric: string, value?: number, dimensions?: Record<string, string>): void;
  /** A level rather than a count (how many scopes are paused now). */
  gauge(metric: string, value: number, dimensions?: Record<string, string>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Telemetry that reports nothing (tests, tools). */
export const SILENT: Telemetry = { count: () => {}, gauge: () => {}, info: () => {}, warn: () => {}, error: () => {} };
