import type { AuditEntry, Incident, TimelineEntry } from '../schemas/ledger.ts';
import type { ProgramState } from '../schemas/program-state.ts';
import { NotFoundError, UnknownProgramError } from '../domain/errors.ts';
import type { NoticeCountsView } from './notify.ts';
import type { AuditRecords, IncidentRecords, Programs, ProgramStates } from './ports.ts';

export interface ViewDeps {
  programs: Programs;
  state: ProgramStates;
  incidents: IncidentRecords;
  audit: AuditRecords;
  revocations?: { counts(incidentId: string): Promise<{ revoked: number; alsoHeld: number }> };
  notices?: { counts(incidentId: string): Promise<NoticeCountsView> };
}

/** A scope as operators see it: the flag, and who changed it and why (from the audit trail, not from the item collectors read). */
export type ScopeView = ProgramState & { by?: string; person?: string; why?: string };

export interface StatusView {
  action: 'status';
  programs: { programId: string; status: 'ACTIVE' | 'PAUSED' | 'UNREGISTERED'; scopes: ScopeView[] }[];
}
export interface IncidentView {
  action: 'incident';
  incident: Incident;
  timeline: TimelineEntry[];
  audit: AuditEntry[];
  grants?: { revoked: number; alsoHeld: number };
  notices?: NoticeCountsView;
}
export interface IncidentListView {
  action: 'list-incidents';
  incidents: Incident[];
}

/** Use cases: what operators and investigators read (status, an incident, the list). Nothing here writes. */
export class KillSwitchViews {
  constructor(private readonly deps: ViewDeps) {}

  async status(programId?: string): Promise<StatusView> {
    const programs = programId ? [this.deps.programs.find(programId) ?? throwUnknown(programId)] : this.deps.programs.all();
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
        return { programId: p.programId, status, scopes };
      }),
    );
    return { action: 'status', programs: views };
  }

  async incident(incidentId: string): Promise<IncidentView> {
    const incident = await this.deps.incidents.get(incidentId);
    if (!incident) throw new NotFoundError(`incident ${incidentId} does not exist`);
    const [timeline, audit, grants, notices] = await Promise.all([
      this.deps.incidents.timeline(incidentId),
      this.deps.audit.history(incident.programId, incident.scope),
      this.deps.revocations?.counts(incidentId),
      this.deps.notices?.counts(incidentId),
    ]);
    // The versions this incident set, and the resume that closed it.
    const resumeIds = new Set(timeline.map((t) => t.data?.requestId).filter((r): r is string => typeof r === 'string'));
    return {
      action: 'incident',
      incident,
      timeline,
      audit: audit.filter((a) => a.incidentId === incidentId || (a.requestId !== undefined && resumeIds.has(a.requestId))),
      ...(grants ? { grants: { revoked: grants.revoked, alsoHeld: grants.alsoHeld } } : {}),
      ...(notices ? { notices } : {}),
    };
  }

  /** Most recent first, of one program or of every configured program. */
  async list(limit: number, programId?: string): Promise<IncidentListView> {
    const programs = programId ? [this.deps.programs.find(programId) ?? throwUnknown(programId)] : this.deps.programs.all();
    const lists = await Promise.all(programs.map((p) => this.deps.incidents.list(p.programId, limit)));
    const incidents = lists
      .flat()
      .sort((a, b) => b.openedAt.localeCompare(a.openedAt))
      .slice(0, limit);
    return { action: 'list-incidents', incidents };
  }
}

function throwUnknown(programId: string): never {
  throw new UnknownProgramError(programId);
}
