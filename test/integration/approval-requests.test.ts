import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApprovalRequests, LedgerTable } from '#shared/adapters/dynamodb/ledger/index.ts';
import { LEDGER_KIND_INDEX, LedgerKeys } from '#shared/adapters/dynamodb/ledger/keys.ts';
import type { ApprovalRequest } from '#shared/schemas/ledger.ts';
import { startTestDynamo, type TestDynamo } from '../support/dynamo.ts';

/**
 * `status` shows what waits for a second person on every call: it must read the pending requests,
 * not every request the program ever had. The index partition names the status, and a decision
 * moves the request out of PENDING's.
 */
describe('Two-person requests: the pending ones are read without reading the decided ones (dynalite)', () => {
  let db: TestDynamo;
  let requests: ApprovalRequests;
  beforeAll(async () => {
    db = await startTestDynamo();
    requests = new ApprovalRequests(new LedgerTable(db.doc, db.tables.ledger));
  });
  afterAll(() => db.dynamo.stop());

  const request = (n: number, programId = 'mci'): ApprovalRequest => ({
    kind: 'RESUME',
    requestId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    programId,
    incidentId: 'inc-20261203-aaaaaaaaaaaa',
    scope: '*',
    reason: `request ${n}`,
    requestedBy: 'arn:aws:sts::111111111111:assumed-role/KillswitchOperators/alice',
    requestedByPerson: 'alice',
    requestedAt: new Date(Date.UTC(2026, 11, 3, 9, 0, n)).toISOString(),
    status: 'PENDING',
    expectedVersion: 2,
    expectedLinks: 0,
    closes: [],
    seenRevisions: {},
  });
  const partition = async (gsi1pk: string) =>
    (
      await db.doc.send(
        new QueryCommand({
          TableName: db.tables.ledger,
          IndexName: LEDGER_KIND_INDEX,
          KeyConditionExpression: 'gsi1pk = :k',
          ExpressionAttributeValues: { ':k': gsi1pk },
        }),
      )
    ).Items ?? [];
  const bob = { id: 'arn:aws:sts::111111111111:assumed-role/KillswitchOperators/bob', person: 'bob', verified: true } as const;

  it('lists each status from its own partition; a decision moves the request, once', async () => {
    for (const n of [1, 2, 3, 4]) expect(await requests.create(request(n))).toBe(true);
    await requests.create(request(5, 'other'));
    expect(await requests.decide(request(1).requestId, { status: 'APPROVED', by: bob, at: new Date(), stateVersion: 3 })).toBe(true);
    expect(await requests.decide(request(2).requestId, { status: 'REJECTED', by: bob, at: new Date(), reason: 'newer incident' })).toBe(
      true,
    );
    // A second decision changes nothing, and does not move it back.
    expect(await requests.decide(request(1).requestId, { status: 'REJECTED', by: bob, at: new Date() })).toBe(false);

    expect((await requests.list('mci', 'PENDING')).map((r) => r.reason)).toEqual(['request 4', 'request 3']);
    expect((await requests.list('mci', 'APPROVED')).map((r) => r.reason)).toEqual(['request 1']);
    expect((await requests.list('mci', 'REJECTED')).map((r) => r.reason)).toEqual(['request 2']);
    expect((await requests.list('mci', 'PENDING', 1)).map((r) => r.reason)).toEqual(['request 4']);
    // What `status` reads holds only what waits.
    expect((await partition('REQUEST#mci#PENDING')).map((i) => i.reason).sort()).toEqual(['request 3', 'request 4']);
    expect(await requests.get(request(1).requestId)).toMatchObject({ status: 'APPROVED', approvedByPerson: 'bob', stateVersion: 3 });
  });

  it('still finds a request stored before the index named the status', async () => {
    const legacy = request(9, 'legacy');
    await db.doc.send(
      new PutCommand({
        TableName: db.tables.ledger,
        Item: {
          ...legacy,
          ...LedgerKeys.approvalRequest(legacy.requestId),
          gsi1pk: 'REQUEST#legacy',
          gsi1sk: `${legacy.requestedAt}#${legacy.requestId}`,
        },
      }),
    );
    expect((await requests.list('legacy', 'PENDING')).map((r) => r.requestId)).toEqual([legacy.requestId]);
    expect(await requests.decide(legacy.requestId, { status: 'APPROVED', by: bob, at: new Date() })).toBe(true);
    expect(await requests.list('legacy', 'PENDING')).toEqual([]);
    expect((await requests.list('legacy', 'APPROVED')).map((r) => r.requestId)).toEqual([legacy.requestId]);
  });
});
