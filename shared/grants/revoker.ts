import type { Grant, RevocationSnapshot, RevokeWork } from '../schemas/grants.ts';
import { isNotRevoked, type GrantBackend, type RevocationRecords, type UnrevokedEntry } from './ports.ts';
import { inParallel, pagesWithin, type Budget } from '../domain/work.ts';

export const REVOKER_PRINCIPAL = 'killswitch:revoke-grants';

export type RevocationStep =
  | {
      done: true;
      counts: { revoked: number; alsoHeld: number; owners: number; scanned: number; notRevoked: number; byBackend: Record<string, number> };
      continuations: number;
    }
  | { done: false; next: RevokeWork & { datasetIds: string[] } };

/**
 * Use case: revoke access to the datasets of an incident.
 *
 * 1. Page through each dataset's grants (strongly consistent), one page at a time.
 * 2. Revoke every non-owner grant for the incident: one conditional write each, so a retry or a
 *    second delivery revokes nothing twice; owners are never touched.
 * 3. Record a restore snapshot per grant in the ledger (exactly once per grant and incident), and
 *    each entry the access system would not or could not revoke, with the reason.
 * 4. When the time budget runs out, return the continuation (dataset and page cursor) instead of
 *    dropping the rest. Counts come from the ledger, so replays never double-count.
 */
export class GrantRevoker {
  constructor(
    private readonly backend: GrantBackend,
    private readonly ledger: RevocationRecords,
    private readonly options: { pageSize?: number; concurrency?: number; clock?: () => Date } = {},
  ) {}

  /** `onDatasetDone`: the last page of a dataset was revoked (restores wait for every dataset of the incident). */
  async run(
    work: RevokeWork & { datasetIds: string[] },
    budget: Budget,
    onDatasetDone: (datasetId: string) => Promise<unknown> = async () => undefined,
  ): Promise<RevocationStep> {
    const clock = this.options.clock ?? (() => new Date());
    const counts = { ...work.counts };
    let cursor = work.cursor;
    for (let datasetIndex = work.datasetIndex; datasetIndex < work.datasetIds.length; datasetIndex++, cursor = undefined) {
      const datasetId = work.datasetIds[datasetIndex]!;
      const pages = await pagesWithin(
        budget,
        cursor,
        async (c) => {
          const page = await this.backend.list(datasetId, c, this.options.pageSize ?? 200);
          return { items: page.grants, cursor: page.cursor };
        },
        async (grants) => {
          counts.scanned += grants.length;
          counts.owners += grants.filter((g) => g.owner).length;
          const snapshots: RevocationSnapshot[] = [];
          const unrevoked: UnrevokedEntry[] = [];
          await inParallel(
            grants.filter((g) => !g.owner),
            this.options.concurrency ?? 16,
            async (grant) => {
              const at = clock();
              const outcome = await this.#revoke(grant, work.incidentId, at);
              if (outcome && 'reason' in outcome) unrevoked.push(outcome);
              else if (outcome) snapshots.push(outcome);
            },
          );
          // Written after the page's grants: a crash in between is repaired by the retry, which finds
          // the grants held (ALREADY_HELD) and writes the snapshots it missed.
          await this.ledger.recordSnapshots(snapshots);
          await this.ledger.recordUnrevoked(unrevoked);
        },
      );
      if (!pages.finished)
        return { done: false, next: { ...work, datasetIndex, cursor: pages.cursor, counts, continuation: work.continuation + 1 } };
      await onDatasetDone(datasetId);
    }
    const totals = await this.ledger.counts(work.incidentId);
    return {
      done: true,
      counts: {
        revoked: totals.revoked,
        alsoHeld: totals.alsoHeld,
        owners: counts.owners,
        scanned: counts.scanned,
        notRevoked: totals.notRevoked,
        byBackend: totals.byBackend,
      },
      continuations: work.continuation,
    };
  }

  async #revoke(grant: Grant, incidentId: string, at: Date): Promise<RevocationSnapshot | UnrevokedEntry | undefined> {
    const heldBefore = grant.revokedByIncidents.filter((i) => i !== incidentId);
    // Held by this incident and not in force: a retry or a second delivery, nothing to do.
    const result =
      grant.revokedByIncidents.includes(incidentId) && grant.status === 'REVOKED'
        ? 'ALREADY_HELD'
        : await this.backend.revoke(grant, incidentId, REVOKER_PRINCIPAL, at);
    if (isNotRevoked(result))
      return {
        incidentId,
        datasetId: grant.datasetId,
        backend: grant.backend,
        key: grant.key ?? `${grant.principal}#${grant.permission}`,
        label: grant.label ?? `${grant.permission} for ${grant.principal}`,
        reason: result.notRevoked,
        at: at.toISOString(),
      };
    if (result === 'OWNER' || result === 'GONE') return undefined;
    return {
      incidentId,
      datasetId: grant.datasetId,
      principal: grant.principal,
      permission: grant.permission,
      version: grant.version,
      previousStatus: result === 'REVOKED' || (result === 'ALREADY_HELD' && heldBefore.length === 0) ? 'ACTIVE' : 'REVOKED',
      revokedAt: at.toISOString(),
      backend: grant.backend,
      ...(grant.key ? { key: grant.key } : {}),
      ...(grant.entry ? { entry: grant.entry } : {}),
      ...(grant.label ? { label: grant.label } : {}),
    };
  }
}
