import { NotFoundError } from '../domain/errors.ts';
import type { ChainReport } from '../domain/hash-chain.ts';
import type { Clock, IncidentRecords } from '../killswitch/ports.ts';
import type { AnchorStore, LedgerChains } from './ports.ts';
import { factsDiffer } from './incident-facts.ts';

export interface IntegrityView {
  incidentId: string;
  /** BROKEN when any chain is; UNSEALED when every link holds and some records wait for theirs; else VERIFIED. */
  status: ChainReport['status'];
  /** The incident's timeline chain, then the audit chain of its scope (every state version of it). */
  chains: ChainReport[];
  /** The incident record (not chained: it changes) against its chained facts (program, scope, opening). */
  record: { status: 'MATCHES' | 'EDITED' | 'MISSING' | 'NOT_CHAINED'; detail: string };
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
  constructor(private readonly deps: { incidents: Pick<IncidentRecords, 'get' | 'timeline'>; chains: LedgerChains; clock: Clock }) {}

  async incident(incidentId: string): Promise<IntegrityView> {
    const verifiedAt = this.deps.clock().toISOString();
    const [incident, timelineChain, anchors] = await Promise.all([
      this.deps.incidents.get(incidentId),
      this.deps.chains.verify({ kind: 'incident', incidentId }),
      this.deps.chains.anchorStore(),
    ]);
    if (!incident) {
      // Gone from the table: if its chain was ever sealed or exported, it was removed.
      if (timelineChain.records === 0 && timelineChain.anchorsChecked === 0) throw new NotFoundError(`no incident ${incidentId}`);
      return {
        incidentId,
        status: 'BROKEN',
        chains: [timelineChain],
        record: { status: 'MISSING', detail: 'the incident record is gone, but its timeline or its exported heads remain' },
        ...(anchors ? { anchors } : {}),
        verifiedAt,
      };
    }
    const [audit, timeline] = await Promise.all([
      this.deps.chains.verify({ kind: 'audit', programId: incident.programId, scope: incident.scope }),
      this.deps.incidents.timeline(incidentId),
    ]);
    const differ = factsDiffer(incident, timeline);
    const record: IntegrityView['record'] =
      differ === undefined
        ? { status: 'NOT_CHAINED', detail: 'opened before incidents kept their facts in the chain' }
        : differ.length
          ? { status: 'EDITED', detail: `the incident record no longer matches its chained facts: ${differ.join(', ')}` }
          : { status: 'MATCHES', detail: 'the incident record matches its chained facts' };
    const chains = [timelineChain, audit];
    const status =
      record.status === 'EDITED' || chains.some((c) => c.status === 'BROKEN')
        ? 'BROKEN'
        : chains.some((c) => c.status === 'UNSEALED')
          ? 'UNSEALED'
          : 'VERIFIED';
    return { incidentId, status, chains, record, ...(anchors ? { anchors } : {}), verifiedAt };
  }
}
