import { AuditEntrySchema, type AuditEntry } from '../../schemas/ledger.ts';
import type { ProgramState } from '../../schemas/program-state.ts';
import { LedgerKeys } from './keys.ts';
import type { LedgerTable } from './ledger-table.ts';

/** One audit entry per program-state version, keyed by the version: writing it twice keeps one. */
export class AuditTrail {
  constructor(private readonly table: LedgerTable) {}

  recordState(state: ProgramState): Promise<boolean> {
    const entry: AuditEntry = {
      programId: state.programId,
      scope: state.scope,
      version: state.version,
      status: state.status,
      at: state.changedAt,
      by: state.changedBy,
      verified: state.changedByVerified,
      reason: state.reason,
      trigger: state.trigger,
      incidentId: state.incidentId,
      requestId: state.resumeRequestId,
    };
    return this.table.putOnce(LedgerKeys.audit(state.programId, state.scope, state.version), entry);
  }

  async history(programId: string, scope: string): Promise<AuditEntry[]> {
    const items = await this.table.queryPrefix(LedgerKeys.audit(programId, scope, 1).pk, 'V#');
    return items.map((i) => AuditEntrySchema.parse(i));
  }
}
