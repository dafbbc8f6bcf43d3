import { AuditEntrySchema, type AuditEntry } from '../../../schemas/ledger.ts';
import type { ProgramState } from '../../../schemas/program-state.ts';
import type { AuditRecords, StateChangeActor } from '../../../killswitch/ports.ts';
import { LedgerKeys } from './keys.ts';
import type { LedgerTable } from './ledger-table.ts';

/** One audit entry per program-state version, keyed by the version: writing it twice keeps one. */
export class AuditTrail implements AuditRecords {
  constructor(private readonly table: LedgerTable) {}

  record(state: ProgramState, actor: StateChangeActor): Promise<boolean> {
    const entry: AuditEntry = {
      programId: state.programId,
      scope: state.scope,
      version: state.version,
      status: state.status,
      at: state.changedAt,
      by: actor.principal.id,
      verified: actor.principal.verified,
      ...(actor.principal.person ? { person: actor.principal.person } : {}),
      reason: actor.reason,
      trigger: state.trigger,
      incidentId: state.incidentId,
      requestId: state.resumeRequestId,
    };
    return this.table.putOnce(LedgerKeys.audit(state.programId, state.scope, state.version), entry);
  }

  async get(programId: string, scope: string, version: number): Promise<AuditEntry | undefined> {
    const item = await this.table.get(LedgerKeys.audit(programId, scope, version));
    return item ? AuditEntrySchema.parse(item) : undefined;
  }

  async history(programId: string, scope: string): Promise<AuditEntry[]> {
    const items = await this.table.queryPrefix(LedgerKeys.audit(programId, scope, 1).pk, 'V#');
    return items.map((i) => AuditEntrySchema.parse(i));
  }
}
