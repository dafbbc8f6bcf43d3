import { AuditEntrySchema, type AuditEntry } from '../../../schemas/ledger.ts';
import type { ProgramState } from '../../../schemas/program-state.ts';
import type { AuditRecords, StateChangeActor } from '../../../killswitch/ports.ts';
import { LedgerKeys } from './keys.ts';
import type { LedgerTable } from './ledger-table.ts';
import { chainOptions, sealAfter, type ChainOptions } from './chain-options.ts';

/**
 * One audit entry per program-state version, keyed by the version: writing it twice keeps one.
 * Each scope's entries form a hash chain (sealed after the write, as the incident timelines).
 */
export class AuditTrail implements AuditRecords {
  readonly #chains: Required<ChainOptions>;

  constructor(
    private readonly table: LedgerTable,
    chains: ChainOptions = {},
  ) {
    this.#chains = chainOptions(table, chains);
  }

  async record(state: ProgramState, actor: StateChangeActor): Promise<boolean> {
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
    const first = await this.table.putOnce(LedgerKeys.audit(state.programId, state.scope, state.version), entry);
    await sealAfter(this.#chains, { kind: 'audit', programId: state.programId, scope: state.scope });
    return first;
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
