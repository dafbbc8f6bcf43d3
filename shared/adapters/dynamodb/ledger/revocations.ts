import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { RevocationSnapshotSchema, type RestoreOutcome, type RevocationSnapshot } from '../../../schemas/grants.ts';
import { decodeCursor, encodeCursor } from '../cursor.ts';
import { LedgerKeys, withoutKeys } from './keys.ts';
import type { LedgerTable } from './ledger-table.ts';
import type { RevocationCounts, RevocationRecords, UnrevokedEntry } from '../../../grants/ports.ts';

/** The registry's grants by principal#permission (as before the access systems); an access system's entries by system and key. */
const entryOf = (s: Pick<RevocationSnapshot, 'datasetId' | 'principal' | 'permission' | 'backend' | 'key'>) =>
  s.backend === 'dynamodb' || !s.key ? `${s.datasetId}#${s.principal}#${s.permission}` : `${s.datasetId}#@${s.backend}#${s.key}`;
const snapshotKey = (s: RevocationSnapshot) => ({ pk: `INCIDENT#${s.incidentId}`, sk: `REVOKED#${entryOf(s)}` });
const restoreKey = (requestId: string, s: RevocationSnapshot) => ({
  pk: `INCIDENT#${s.incidentId}`,
  sk: `RESTORE#${requestId}#${entryOf(s)}`,
});
const unrevokedKey = (u: UnrevokedEntry) => ({ pk: `INCIDENT#${u.incidentId}`, sk: `UNREVOKED#${u.datasetId}#@${u.backend}#${u.key}` });

/**
 * The restore snapshot: one ledger entry per grant an incident revoked (or held revoked), and one
 * per grant a restore request handled, with its outcome. Deterministic keys make both exactly-once.
 */
export class RevocationLedger implements RevocationRecords {
  constructor(private readonly table: LedgerTable) {}

  /** One entry per grant and incident: the key says which, so writing it again changes nothing that matters. */
  recordSnapshots(snapshots: RevocationSnapshot[]): Promise<void> {
    return this.table.putMany(snapshots.map((snapshot) => ({ key: snapshotKey(snapshot), record: snapshot })));
  }

  /** What stays in force, once per entry and incident: the first reason recorded stands. */
  async recordUnrevoked(entries: UnrevokedEntry[]): Promise<void> {
    for (const entry of entries) await this.table.putOnce(unrevokedKey(entry), { ...entry });
  }

  async unrevoked(incidentId: string, limit = 50): Promise<UnrevokedEntry[]> {
    const items = await this.table.queryPrefix(`INCIDENT#${incidentId}`, 'UNREVOKED#');
    return items.slice(0, limit).map((i) => ({
      incidentId: String(i.incidentId),
      datasetId: String(i.datasetId),
      backend: String(i.backend),
      key: String(i.key),
      label: String(i.label),
      reason: String(i.reason),
      at: String(i.at),
    }));
  }

  async snapshots(incidentId: string, cursor?: string, limit = 200): Promise<{ snapshots: RevocationSnapshot[]; cursor?: string }> {
    const page = await this.table.client.send(
      new QueryCommand({
        TableName: this.table.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': `INCIDENT#${incidentId}`, ':prefix': 'REVOKED#' },
        ConsistentRead: true,
        Limit: limit,
        ExclusiveStartKey: decodeCursor(cursor),
      }),
    );
    return {
      snapshots: (page.Items ?? []).map((i) => RevocationSnapshotSchema.parse(withoutKeys(i))),
      cursor: encodeCursor(page.LastEvaluatedKey),
    };
  }

  recordRestore(requestId: string, snapshot: RevocationSnapshot, outcome: RestoreOutcome, at: Date, reason?: string): Promise<boolean> {
    return this.table.putOnce(restoreKey(requestId, snapshot), {
      requestId,
      datasetId: snapshot.datasetId,
      principal: snapshot.principal,
      permission: snapshot.permission,
      backend: snapshot.backend,
      ...(snapshot.label ? { label: snapshot.label } : {}),
      outcome,
      reason,
      at: at.toISOString(),
    });
  }

  /** Counts over every snapshot entry of the incident (and, with a request id, its restore outcomes). */
  async counts(incidentId: string, requestId?: string): Promise<RevocationCounts> {
    const counts: RevocationCounts = { revoked: 0, alsoHeld: 0, restored: 0, stillHeld: 0, skipped: 0, notRevoked: 0, byBackend: {} };
    await this.#scan(incidentId, 'REVOKED#', (i) => {
      if (i.previousStatus === 'ACTIVE') counts.revoked++;
      else counts.alsoHeld++;
      const backend = typeof i.backend === 'string' ? i.backend : 'dynamodb';
      counts.byBackend[backend] = (counts.byBackend[backend] ?? 0) + 1;
    });
    await this.#scan(incidentId, 'UNREVOKED#', () => counts.notRevoked++);
    if (requestId) {
      await this.#scan(incidentId, `RESTORE#${requestId}#`, (i) =>
        i.outcome === 'RESTORED' ? counts.restored++ : i.outcome === 'STILL_HELD' ? counts.stillHeld++ : counts.skipped++,
      );
    }
    return counts;
  }

  async datasetCounts(incidentId: string, datasetId: string): Promise<{ revoked: number; notRevoked: number }> {
    const counts = { revoked: 0, notRevoked: 0 };
    // Dataset ids are slugs (no '#'): the prefix holds exactly that dataset's entries.
    await this.#scan(incidentId, `REVOKED#${datasetId}#`, (i) => i.previousStatus === 'ACTIVE' && counts.revoked++);
    await this.#scan(incidentId, `UNREVOKED#${datasetId}#`, () => counts.notRevoked++);
    return counts;
  }

  /** Every entry under the incident with the sort-key prefix, only the fields counts need. */
  async #scan(incidentId: string, prefix: string, visit: (item: Record<string, unknown>) => void): Promise<void> {
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.table.client.send(
        new QueryCommand({
          TableName: this.table.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': `INCIDENT#${incidentId}`, ':prefix': prefix },
          ProjectionExpression: 'previousStatus, outcome, backend',
          ConsistentRead: true,
          ExclusiveStartKey,
        }),
      );
      for (const item of page.Items ?? []) visit(item);
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
  }

  /** Revocation of `datasetId` for the incident is finished (every page of its grants). */
  markDatasetDone(incidentId: string, datasetId: string, at: Date): Promise<boolean> {
    return this.table.putOnce(LedgerKeys.revocationDone(incidentId, datasetId), { incidentId, datasetId, doneAt: at.toISOString() });
  }

  /** The datasets whose revocation for the incident is finished. */
  async datasetsDone(incidentId: string): Promise<Set<string>> {
    const items = await this.table.queryPrefix(`INCIDENT#${incidentId}`, 'REVOCATION#');
    return new Set(items.map((i) => String(i.datasetId)));
  }

  /** The restore outcomes that were not RESTORED, for the operator's report. */
  async skipped(
    incidentId: string,
    requestId: string,
    limit = 50,
  ): Promise<{ datasetId: string; principal: string; permission: string; outcome: string; reason?: string }[]> {
    const items = await this.table.queryPrefix(`INCIDENT#${incidentId}`, `RESTORE#${requestId}#`);
    return items
      .filter((i) => i.outcome !== 'RESTORED')
      .slice(0, limit)
      .map((i) => ({
        datasetId: String(i.datasetId),
        principal: String(i.principal),
        permission: String(i.permission),
        outcome: String(i.outcome),
        reason: i.reason as string | undefined,
      }));
  }
}
