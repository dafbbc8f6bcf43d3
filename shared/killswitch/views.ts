import type { ApprovalRequest, AuditEntry, Incident, TimelineEntry } from '../schemas/ledger.ts';
import type { ListIncidentsCommand, ListRequestsCommand } from '../schemas/operator.ts';
import type { Severity } from '../schemas/common.ts';
import type { ProgramState } from '../schemas/program-state.ts';
import { NotFoundError, UnknownProgramError } from '../domain/errors.ts';
import type { NoticeCountsView } from './notify.ts';
import type { ApprovalRecords, AuditRecords, IncidentRecords, Programs, ProgramStates } from './ports.ts';
import type { HaltCounts } from './acks.ts';
import { seqOf } from './state-seq.ts';
import { breachClock, type BreachClock } from '../domain/breach-clock.ts';

/** How many recent incidents `status` checks for an Art. 33 decision (the watch checks every one). */
const STATUS_DEADLINE_INCIDENTS = 20;
const STATUS_DEADLINE_DAYS = 90;

/** An incident still waiting for its Art. 33 decision, as `status` lists it. */
export interface DeadlineSummary {
  incidentId: string;
  dueAt: string;
  /** Negative once the 72 hours have passed. */
  remainingMs: number;
}

export interface ViewDeps {
  programs: Programs;
  state: ProgramStates;
  incidents: IncidentRecords;
  audit: AuditRecords;
  /** Two-person requests: `status` shows the pending ones, `list-requests` lists them. */
  approvals?: ApprovalRecords;
  revocations?: { counts(incidentId: string): Promise<{ revoked: number; alsoHeld: number }> };
  notices?: { counts(incidentId: string): Promise<NoticeCountsView> };
  /** The agents' halt acknowledgements (the Acknowledgements table's counters). */
  acks?: { counts(programId: string, seq: number, now: Date): Promise<HaltCounts> };
  now?: () => Date;
}

/** A scope as operators see it: the flag, and who changed it and why (from the audit trail, not from the item collectors read). */
export type ScopeView = ProgramState & { by?: string; person?: string; why?: string };

export interface StatusView {
  action: 'status';
  programs: {
    programId: string;
    status: 'ACTIVE' | 'PAUSED' | 'UNREGISTERED';
    scopes: ScopeView[];
    /** For the state document now served (its seq): agents that acknowledged it, known in the last 24 h, and silent. */
    acknowledgements?: HaltCounts;
    /** Requests waiting for a second person (resume, grant restore), oldest first. */
    pending?: RequestSummary[];
    /** Recent incidents with no supervisory-authority decision yet, the nearest deadline first. */
    deadlines?: DeadlineSummary[];
  }[];
}

/** A two-person request as operators list it: what it asks, who asked and when (not the state it bound). */
export interface RequestSummary {
  requestId: string;
  kind: ApprovalRequest['kind'];
  programId: string;
  /** The scope a resume reopens (a grant restore concerns the incident's datasets). */
  scope?: string;
  incidentId: string;
  status: ApprovalRequest['status'];
  requestedBy: string;
  requestedAt: string;
  reason: string;
  decidedBy?: string;
  decidedAt?: string;
}
export interface RequestListView {
  action: 'list-requests';
  requests: RequestSummary[];
}
export interface IncidentView {
  action: 'incident';
  incident: Incident;
  timeline: TimelineEntry[];
  audit: AuditEntry[];
  /** Grants this incident revoked, those another incident had already revoked, and those restored since (two-person restores). */
  grants?: { revoked: number; alsoHeld: number; restored: number };
  notices?: NoticeCountsView;
  /** The agents' acknowledgements of the program's current state document. */
  acknowledgements?: HaltCounts;
  /** GDPR Art. 33: when the controller became aware, the 72-hour deadline, and the authority decisions. */
  breach: BreachClock;
}
export interface IncidentListView {
  action: 'list-incidents';
  incidents: Incident[];
}

/** Use cases: what operators and investigators read (status, an incident, the list). Nothing here writes. */
export class KillSwitchViews {
  constructor(private readonly deps: ViewDeps) {}

  async status(programId?: string): Promise<StatusView> {
    const programs = this.#programs(programId);
    const views = await Promise.all(
      programs.map(async (p) => {
        const states = await this.deps.state.list(p.programId);
        const scopes = await Promise.all(
          states.map(async (s): Promise<ScopeView> => {
            const entry = await this.deps.audit.get(s.programId, s.scope, s.version);
            return { ...s, ...(entry ? { by: entry.by, ...(entry.person ? { person: entry.person } : {}), why: entry.reason } : {}) };
          }),
        );
        const global = scopes.find((s) => s.scope === '*');
        const status: StatusView['programs'][number]['status'] = !global
          ? 'UNREGISTERED'
          : scopes.some((s) => s.status === 'PAUSED')
            ? 'PAUSED'
            : 'ACTIVE';
        const [acknowledgements, pending, deadlines] = await Promise.all([
          global ? this.#acks(p.programId, states) : undefined,
          // An aid like the counts: a failed read leaves the pending list out instead of failing status.
          this.#requests(p.programId, 'PENDING').catch(() => undefined),
          this.#deadlines(p.programId).catch(() => undefined),
        ]);
        return {
          programId: p.programId,
          status,
          scopes,
          ...(acknowledgements ? { acknowledgements } : {}),
          ...(pending?.length ? { pending: pending.reverse() } : {}),
          ...(deadlines?.length ? { deadlines } : {}),
        };
      }),
    );
    return { action: 'status', programs: views };
  }

  async incident(incidentId: string): Promise<IncidentView> {
    const incident = await this.deps.incidents.get(incidentId);
    if (!incident) throw new NotFoundError(`incident ${incidentId} does not exist`);
    const [timeline, audit, grants, notices, acknowledgements] = await Promise.all([
      this.deps.incidents.timeline(incidentId),
      this.deps.audit.history(incident.programId, incident.scope),
      this.deps.revocations?.counts(incidentId),
      this.deps.notices?.counts(incidentId),
      // Only while this incident's pause is the one in force: an older incident's agents acknowledged another seq.
      this.deps.state
        .list(incident.programId)
        .then((states) => (states.some((s) => s.incidentId === incidentId) ? this.#acks(incident.programId, states) : undefined)),
    ]);
    // The versions this incident set, and the resume that closed it.
    const resumeIds = new Set(timeline.map((t) => t.data?.requestId).filter((r): r is string => typeof r === 'string'));
    return {
      action: 'incident',
      incident,
      timeline,
      audit: audit.filter((a) => a.incidentId === incidentId || (a.requestId !== undefined && resumeIds.has(a.requestId))),
      ...(grants ? { grants: { revoked: grants.revoked, alsoHeld: grants.alsoHeld, restored: restoredIn(timeline) } } : {}),
      ...(notices ? { notices } : {}),
      ...(acknowledgements ? { acknowledgements } : {}),
      breach: breachClock(incident, timeline, this.#now()),
    };
  }

  /** Recent incidents of the program still waiting for their Art. 33 decision. */
  async #deadlines(programId: string): Promise<DeadlineSummary[]> {
    const now = this.#now();
    const since = new Date(now.getTime() - STATUS_DEADLINE_DAYS * 86_400_000).toISOString();
    const incidents = await this.deps.incidents.list(programId, STATUS_DEADLINE_INCIDENTS, since);
    const clocks = await Promise.all(
      incidents.map(async (i) => ({
        incidentId: i.incidentId,
        clock: breachClock(i, await this.deps.incidents.timeline(i.incidentId), now),
      })),
    );
    return clocks
      .filter((c) => c.clock.status === 'UNDECIDED')
      .map((c) => ({ incidentId: c.incidentId, dueAt: c.clock.dueAt, remainingMs: c.clock.remainingMs! }))
      .sort((a, b) => a.remainingMs - b.remainingMs);
  }

  #now(): Date {
    return this.deps.now ? this.deps.now() : new Date();
  }

  /** Acknowledgements of the document the feed serves now: its seq is the sum of the scopes' versions. */
  #acks(programId: string, states: ProgramState[]): Promise<HaltCounts | undefined> {
    if (!this.deps.acks || states.length === 0) return Promise.resolve(undefined);
    // Counts are an aid, not the state: a throttled read leaves them out instead of failing status.
    return this.deps.acks.counts(programId, seqOf(states), this.deps.now?.() ?? new Date()).catch(() => undefined);
  }

  /**
   * Most recent first, of one program or of every configured program: `limit` of those in `status`,
   * at least `severity`, opened at or after `since`.
   */
  async list(query: Omit<ListIncidentsCommand, 'action'>): Promise<IncidentListView> {
    const { limit, programId, status, severity } = query;
    const since = query.since === undefined ? undefined : new Date(query.since).toISOString();
    const filtered = status !== undefined || severity !== undefined;
    const programs = this.#programs(programId);
    // Filters apply before the limit: without them the ledger stops at `limit`, with them it reads on.
    const lists = await Promise.all(programs.map((p) => this.deps.incidents.list(p.programId, filtered ? undefined : limit, since)));
    const incidents = lists
      .flat()
      .filter((i) => (status === undefined || i.status === status) && (severity === undefined || atLeast(i.severity, severity)))
      .sort((a, b) => b.openedAt.localeCompare(a.openedAt))
      .slice(0, limit);
    return { action: 'list-incidents', incidents };
  }

  /** Two-person requests of one program or of every program, most recent first: by default those still pending. */
  async requests(query: Omit<ListRequestsCommand, 'action'>): Promise<RequestListView> {
    const lists = await Promise.all(
      this.#programs(query.programId).map((p) => this.#requests(p.programId, query.status, query.kind, query.limit)),
    );
    const requests = lists
      .flat()
      .sort((a, b) => b.requestedAt.localeCompare(a.requestedAt))
      .slice(0, query.limit);
    return { action: 'list-requests', requests };
  }

  async #requests(
    programId: string,
    status: ApprovalRequest['status'],
    kind?: ApprovalRequest['kind'],
    limit?: number,
  ): Promise<RequestSummary[]> {
    if (!this.deps.approvals) return [];
    // The newest `limit` of the status suffice, unless a kind is filtered out after reading.
    const requests = await this.deps.approvals.list(programId, status, kind === undefined ? limit : undefined);
    return requests.filter((r) => kind === undefined || r.kind === kind).map(summary);
  }

  #programs(programId: string | undefined) {
    return programId ? [this.deps.programs.find(programId) ?? throwUnknown(programId)] : this.deps.programs.all();
  }
}

const SEVERITY_ORDER: readonly Severity[] = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'];
const atLeast = (severity: Severity, floor: Severity) => SEVERITY_ORDER.indexOf(severity) >= SEVERITY_ORDER.indexOf(floor);

function summary(r: ApprovalRequest): RequestSummary {
  return {
    requestId: r.requestId,
    kind: r.kind,
    programId: r.programId,
    ...(r.kind === 'RESUME' ? { scope: r.scope } : {}),
    incidentId: r.incidentId,
    status: r.status,
    requestedBy: r.requestedBy,
    requestedAt: r.requestedAt,
    reason: r.reason,
    ...(r.approvedBy ? { decidedBy: r.approvedBy } : {}),
    ...(r.decidedAt ? { decidedAt: r.decidedAt } : {}),
  };
}

/** Grants put back by the incident's restores, as each GRANTS_RESTORED entry of its timeline counted them. */
const restoredIn = (timeline: readonly TimelineEntry[]): number =>
  timeline
    .filter((t) => t.type === 'GRANTS_RESTORED')
    .reduce((n, t) => n + (typeof t.data?.restored === 'number' ? t.data.restored : 0), 0);

function throwUnknown(programId: string): never {
  throw new UnknownProgramError(programId);
}
