import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoGrantStore, grantKey } from '#shared/adapters/dynamodb/grant-store.ts';
import { LedgerTable, RevocationLedger } from '#shared/adapters/dynamodb/ledger/index.ts';
import { GrantRevoker } from '#shared/grants/revoker.ts';
import { GrantRestorer } from '#shared/grants/restorer.ts';
import { budgetUntil, type Budget } from '#shared/domain/work.ts';
import { parseGrantWork } from '#shared/grants/grant-work.ts';
import { ValidationError } from '#shared/domain/errors.ts';
import type { RevokeWork } from '#shared/schemas/grants.ts';
import { startTestDynamo, type TestDynamo } from '../support/dynamo.ts';

const unlimited: Budget = { hasTime: () => true };
const at = new Date().toISOString();
const owner = (datasetId: string) => ({
  datasetId,
  principal: 'arn:aws:iam::111111111111:role/owner',
  permission: 'ADMIN' as const,
  owner: true,
  grantedBy: 'seed',
  grantedAt: at,
});
const reader = (datasetId: string, i: number) => ({
  datasetId,
  principal: `arn:aws:iam::111111111111:role/reader-${String(i).padStart(5, '0')}`,
  permission: 'READ' as const,
  grantedBy: 'seed',
  grantedAt: at,
});
const revokeWork = (incidentId: string, datasetIds: string[]): RevokeWork & { datasetIds: string[] } => ({
  type: 'revoke',
  incidentId,
  programId: 'mci',
  datasetIds,
  datasetIndex: 0,
  counts: { scanned: 0, owners: 0, notRevoked: 0 },
  continuation: 0,
});

describe('Grant revocation and restore (dynalite)', () => {
  let db: TestDynamo;
  let store: DynamoGrantStore;
  let ledger: RevocationLedger;
  let revoker: GrantRevoker;
  let restorer: GrantRestorer;
  beforeAll(async () => {
    db = await startTestDynamo();
    store = new DynamoGrantStore(db.doc, db.tables.grants);
    ledger = new RevocationLedger(new LedgerTable(db.doc, db.tables.ledger));
    revoker = new GrantRevoker(store, ledger, { pageSize: 500, concurrency: 32 });
    restorer = new GrantRestorer(store, ledger, { pageSize: 500, concurrency: 32 });
  });
  afterAll(() => db.dynamo.stop());

  it('revokes 10,000 grants exactly once under three concurrent deliveries, and never an owner', async () => {
    const datasets = ['big-a', 'big-b', 'big-c'];
    const sizes = [4000, 3500, 2500];
    await store.seed(datasets.flatMap((d, n) => [owner(d), ...Array.from({ length: sizes[n]! }, (_, i) => reader(d, i))]));
    const work = revokeWork('inc-20261127-aaaaaaaaaaaa', datasets);

    const results = await Promise.all([revoker.run(work, unlimited), revoker.run(work, unlimited), revoker.run(work, unlimited)]);

    for (const r of results) expect(r).toMatchObject({ done: true, counts: { revoked: 10_000, alsoHeld: 0, owners: 3 } });
    let revoked = 0;
    for (const d of datasets) {
      let cursor: string | undefined;
      do {
        const page = await store.list(d, cursor, 1000);
        for (const g of page.grants) {
          if (g.owner) expect(g).toMatchObject({ status: 'ACTIVE', revokedByIncidents: [] });
          else {
            expect(g).toMatchObject({ status: 'REVOKED', revokedByIncidents: ['inc-20261127-aaaaaaaaaaaa'] });
            revoked++;
          }
        }
        cursor = page.cursor;
      } while (cursor);
    }
    expect(revoked).toBe(10_000);
    expect((await ledger.counts('inc-20261127-aaaaaaaaaaaa')).revoked).toBe(10_000);
    expect(await store.canAccess(reader('big-a', 1).principal, 'big-a', 'READ')).toBe(false);
    expect(await store.canAccess(owner('big-a').principal, 'big-a', 'READ')).toBe(true);
  }, 120_000);

  it('continues where it stopped when the time budget runs out, and loses nothing', async () => {
    await store.seed(Array.from({ length: 250 }, (_, i) => reader('cont', i)));
    const paged = new GrantRevoker(store, ledger, { pageSize: 40 });
    let pages = 0;
    const onePage: Budget = { hasTime: () => pages++ % 1 === 0 && pages % 2 === 1 };
    let step = await paged.run(revokeWork('inc-20261127-bbbbbbbbbbbb', ['cont']), onePage);
    let continuations = 0;
    while (!step.done) {
      continuations++;
      pages = 0;
      step = await paged.run(step.next, onePage);
    }
    expect(continuations).toBeGreaterThanOrEqual(6);
    expect(step).toMatchObject({ done: true, counts: { revoked: 250, scanned: 250 }, continuations });
  });

  it('restores after a second incident only when both incidents allow it; skips changed and deleted grants', async () => {
    await store.seed([
      owner('x'),
      ...Array.from({ length: 20 }, (_, i) => reader('x', i)),
      ...Array.from({ length: 10 }, (_, i) => reader('y', i)),
    ]);
    const A = 'inc-20261127-cccccccccccc';
    const B = 'inc-20261127-dddddddddddd';
    await revoker.run(revokeWork(A, ['x']), unlimited);
    await revoker.run(revokeWork(B, ['x', 'y']), unlimited);
    expect(await ledger.counts(B)).toMatchObject({ revoked: 10, alsoHeld: 20 });

    // Someone changes one grant and deletes another while revoked.
    await store.put({ ...reader('x', 0), grantedBy: 'admin-fixing-things' });
    await db.doc.send(
      new DeleteCommand({ TableName: db.tables.grants, Key: { datasetId: 'x', grantKey: grantKey(reader('x', 1).principal, 'READ') } }),
    );

    const restoreA = await restorer.run(
      { type: 'restore', incidentId: A, programId: 'mci', requestId: '00000000-0000-4000-8000-00000000000a', continuation: 0 },
      unlimited,
      'bob',
    );
    expect(restoreA).toMatchObject({ done: true, counts: { restored: 0, stillHeld: 18, skipped: 2 } });
    expect(await store.get('x', reader('x', 5).principal, 'READ')).toMatchObject({ status: 'REVOKED', revokedByIncidents: [B] });
    const skipped = await ledger.skipped(A, '00000000-0000-4000-8000-00000000000a');
    expect(
      skipped
        .filter((s) => s.outcome === 'SKIPPED')
        .map((s) => s.reason)
        .sort(),
    ).toEqual(['the grant no longer exists', 'the grant was changed since it was revoked (version 1 → 2)']);

    const restoreB = await restorer.run(
      { type: 'restore', incidentId: B, programId: 'mci', requestId: '00000000-0000-4000-8000-00000000000b', continuation: 0 },
      unlimited,
      'bob',
    );
    expect(restoreB).toMatchObject({ done: true, counts: { restored: 28, skipped: 2 } });
    expect(await store.get('x', reader('x', 5).principal, 'READ')).toMatchObject({ status: 'ACTIVE', revokedByIncidents: [] });
    expect(await store.get('y', reader('y', 5).principal, 'READ')).toMatchObject({ status: 'ACTIVE' });
    expect(await store.get('x', owner('x').principal, 'ADMIN')).toMatchObject({ status: 'ACTIVE', version: 1 });

    // Running the same restore again changes nothing and reports the same.
    const again = await restorer.run(
      { type: 'restore', incidentId: B, programId: 'mci', requestId: '00000000-0000-4000-8000-00000000000b', continuation: 0 },
      unlimited,
      'bob',
    );
    expect(again).toMatchObject({ done: true, counts: { restored: 28, skipped: 2 } });
  });

  it('checks access with ADMIN ⊇ WRITE ⊇ READ, failing closed', async () => {
    await store.seed([{ ...reader('z', 1), permission: 'WRITE' }]);
    expect(await store.canAccess(reader('z', 1).principal, 'z', 'READ')).toBe(true);
    expect(await store.canAccess(reader('z', 1).principal, 'z', 'WRITE')).toBe(true);
    expect(await store.canAccess(reader('z', 1).principal, 'z', 'ADMIN')).toBe(false);
    expect(await store.canAccess('group:nobody', 'z', 'READ')).toBe(false);
    const broken = new DynamoGrantStore(db.doc, 'no-such-table');
    expect(await broken.canAccess(reader('z', 1).principal, 'z', 'READ')).toBe(false);
  });

  it('rejects malformed grant work, naming the field', () => {
    expect(() => parseGrantWork('{not json')).toThrow(ValidationError);
    expect(() =>
      parseGrantWork(JSON.stringify({ type: 'revoke', incidentId: 'inc-20261127-aaaaaaaaaaaa', programId: 'mci', datasetIds: [] })),
    ).toThrow(/datasetIds/);
    expect(() => parseGrantWork(JSON.stringify({ type: 'explode' }))).toThrow(/type/);
    expect(budgetUntil(Date.now() - 1).hasTime()).toBe(false);
  });
});
