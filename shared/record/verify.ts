import { NotFoundError } from '../domain/errors.ts';
import type { ChainReport } from '../domain/hash-chain.ts';
import type { Clock, IncidentRecords } from '../killswitch/ports.ts';
import type { AnchorStore, LedgerChains } from './ports.ts';

export interface IntegrityView {
  incidentId: string;
  /** BROKEN when any chain is; UNSEALED when every link holds and some records wait for theirs; else VERIFIED. */
  status: ChainReport['status'];
  /** The incident's timeline chain, then the audit chain of its scope (every state version of it). */
  chains: ChainReport[];
  /** Where the chain heads are exported, and whether that store can be rewritten (`undefined`: heads are not exported here). */
  anchors?: AnchorStore;
  verifiedAt: string;
}

/**
 * `killswitch verify <incident>`: recompute the incident's hash chain and its scope's audit chain
 * from the table, against the stored heads and the heads exported where nobody can rewrite them.
 * Read-only: it records nothing (a record would change the chain it checks) and seals nothing (a
 * record written by hand must show as unsealed, not be sealed by the check).
 */
export class VerifyLedger {
  constructor(private readonly deps: { incidents: Pick<IncidentRecords, 'get'>; chains: LedgerChains; clock: Clock }) {}

  async incident(incidentId: string): Promise<IntegrityView> {
    const incident = await this.deps.incidents.get(incidentId);
    if (!incident) throw new NotFoundError(`no incident ${incidentId}`);
    const [timeline, audit, anchors] = await Promise.all([
      this.deps.chains.verify({ kind: 'incident', incidentId }),
      this.deps.chains.verify({ kind: 'audit', programId: incident.programId, scope: incident.scope }),
      this.deps.chains.anchorStore(),
    ]);
    const chains = [timeline, audit];
    const status = chains.some((c) => c.status === 'BROKEN')
      ? 'BROKEN'
      : chains.some((c) => c.status === 'UNSEALED')
        ? 'UNSEALED'
        : 'VERIFIED';
    return { incidentId, status, chains, ...(anchors ? { anchors } : {}), verifiedAt: this.deps.clock().toISOString() };
  }
}
