import type { RestoreWork } from '../schemas/grants.ts';
import type { GrantBackend, RevocationRecords } from './ports.ts';
import { inParallel, pagesWithin, type Budget } from '../domain/work.ts';

export type RestoreStep =
  | { done: true; counts: { restored: number; stillHeld: number; skipped: number }; continuations: number }
  | { done: false; next: RestoreWork };

/**
 * Use case: restore the grants an incident revoked, after two people approved it.
 *
 * 1. Page through the incident's restore snapshot in the ledger.
 * 2. For each grant, release this incident's hold: the grant returns to ACTIVE only if no other
 *    incident still holds it and nobody changed it since (its version is the snapshot's).
 * 3. Record each outcome, with the reason for anything not restored, exactly once.
 * 4. Continue in a new invocation when the time budget runs out.
 */
export class GrantRestorer {
  constructor(
    private readonly backend: GrantBackend,
    private readonly ledger: RevocationRecords,
    private readonly options: { pageSize?: number; concurrency?: number; clock?: () => Date } = {},
  ) {}

  /**
   * `approvedBy`: the approver the ledger records (never a field of the message); `datasetIds`: the
   * datasets the approved request covers (grants of others stay revoked).
   */
  async run(work: RestoreWork, budget: Budget, approvedBy: string, datasetIds?: ReadonlySet<string>): Promise<RestoreStep> {
    const clock = this.options.clock ?? (() => new Date());
    const pages = await pagesWithin(
      budget,
      work.cursor,
      async (c) => {
        const page = await this.ledger.snapshots(work.incidentId, c, this.options.pageSize ?? 200);
        return { items: page.snapshots, cursor: page.cursor };
      },
      async (snapshots) => {
        const covered = datasetIds ? snapshots.filter((s) => datasetIds.has(s.datasetId)) : snapshots;
        await inParallel(covered, this.options.concurrency ?? 16, async (snapshot) => {
          const at = clock();
          const { outcome, reason } = await this.backend.restore(snapshot, approvedBy, at);
          await this.ledger.recordRestore(work.requestId, snapshot, outcome, at, reason);
        });
      },
    );
    if (!pages.finished) return { done: false, next: { ...work, cursor: pages.cursor, continuation: work.continuation + 1 } };
    const totals = await this.ledger.counts(work.incidentId, work.requestId);
    return {
      done: true,
      counts: { restored: totals.restored, stillHeld: totals.stillHeld, skipped: totals.skipped },
      continuations: work.continuation,
    };
  }
}
