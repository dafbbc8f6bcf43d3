import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoGrantStore, grantKey } from '#shared/adapters/dynamodb/grant-store.ts';
import { LedgerTable, RevocationLedger } from '#shared/adapters/dynamodb/ledger/index.ts';
import { GrantRevoker } from '#shared/grants/revoker.ts';
import { benchDb, round, throughput } from './support.ts';

const CONCURRENCY = 16;

/**
 * revocation: grants revoked per second by the revoker (paged reads, one conditional update per
 * grant, snapshots in batches of 25), against raw conditional updates of the same number of
 * grants at the same concurrency. ratio = ours / raw (target ≥ 0.7).
 */
export async function revocation({ quick }: { quick: boolean }) {
  const grants = quick ? 1000 : 10_000;
  const db = await benchDb();
  try {
    const store = new DynamoGrantStore(db.doc, db.tables.grants);
    const reader = (datasetId: string, i: number) => ({
      datasetId,
      principal: `arn:aws:iam::111111111111:role/r${String(i).padStart(6, '0')}`,
      permission: 'READ' as const,
      grantedBy: 'bench',
      grantedAt: new Date().toISOString(),
    });
    await store.seed(Array.from({ length: grants }, (_, i) => reader('ours', i)));
    await store.seed(Array.from({ length: grants }, (_, i) => reader('raw', i)));

    const rawPerSec = await throughput(grants, CONCURRENCY, async (i) => {
      await db.doc.send(
        new UpdateCommand({
          TableName: db.tables.grants,
          Key: { datasetId: 'raw', grantKey: grantKey(reader('raw', i).principal, 'READ') },
          UpdateExpression: 'SET #s = :revoked ADD revokedByIncidents :inc',
          ConditionExpression: 'attribute_exists(datasetId) AND NOT contains(revokedByIncidents, :one)',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: {
            ':revoked': 'REVOKED',
            ':inc': new Set(['inc-20261127-bbbbbbbbbbbb']),
            ':one': 'inc-20261127-bbbbbbbbbbbb',
          },
        }),
      );
    });
    const revoker = new GrantRevoker(store, new RevocationLedger(new LedgerTable(db.doc, db.tables.ledger)), {
      concurrency: CONCURRENCY,
      pageSize: 500,
    });
    const started = performance.now();
    const step = await revoker.run(
      {
        type: 'revoke',
        incidentId: 'inc-20261127-aaaaaaaaaaaa',
        programId: 'bench',
        datasetIds: ['ours'],
        datasetIndex: 0,
        counts: { scanned: 0, owners: 0, notRevoked: 0 },
        continuation: 0,
      },
      { hasTime: () => true },
    );
    const oursPerSec = grants / ((performance.now() - started) / 1000);
    if (!step.done || step.counts.revoked !== grants) throw new Error(`revoked ${step.done ? step.counts.revoked : '?'} of ${grants}`);
    return {
      name: 'revocation',
      grants,
      concurrency: CONCURRENCY,
      grantsPerSec: { ours: Math.round(oursPerSec), raw: Math.round(rawPerSec) },
      ratio: round(oursPerSec / rawPerSec),
      target: { ratio: '>= 0.7' },
    };
  } finally {
    await db.stop();
  }
}
