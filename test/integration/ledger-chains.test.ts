import { S3Client } from '@aws-sdk/client-s3';
import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChainAnchorBucket } from '#shared/adapters/aws/chain-anchor-bucket.ts';
import { AuditTrail, HashChains, IncidentLedger, LedgerTable } from '#shared/adapters/dynamodb/ledger/index.ts';
import { CHAIN_HEAD_SK } from '#shared/adapters/dynamodb/ledger/hash-chains.ts';
import { linkHash } from '#shared/domain/hash-chain.ts';
import { VerifyLedger } from '#shared/record/verify.ts';
import type { TimelineEntry } from '#shared/schemas/ledger.ts';
import { incidentRecord } from '../support/fixtures.ts';
import { serve } from '#local/http.ts';
import { LocalBucketPolicies } from '#local/bucket-policies.ts';
import { startTestDynamo, type TestDynamo } from '../support/dynamo.ts';

/*
 * The ledger's hash chains on dynalite (no transactions): sealed by every writer after its own
 * conditional put, concurrently, with sealers dying between the head and the link; then verified
 * against the heads exported to S3 (the local S3 stand-in here; test/contract/ledger-anchors runs
 * the anchors against moto's Object Lock).
 */
describe('Ledger hash chains (dynalite, local S3)', () => {
  let db: TestDynamo;
  let table: LedgerTable;
  let anchors: ChainAnchorBucket;
  let stopS3: () => Promise<void>;
  let n = 0;
  beforeAll(async () => {
    db = await startTestDynamo();
    table = new LedgerTable(db.doc, db.tables.ledger);
    const s3 = new LocalBucketPolicies('111111111111');
    s3.createBucket('ledger-anchors');
    const server = await serve(s3.handler());
    stopS3 = server.stop;
    anchors = new ChainAnchorBucket(
      new S3Client({
        region: 'eu-west-1',
        endpoint: server.endpoint,
        forcePathStyle: true,
        credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
      }),
      'ledger-anchors',
    );
  });
  afterAll(async () => {
    await stopS3?.();
    await db?.dynamo.stop();
  });

  const incidentId = () => `inc-20261204-${(++n).toString(16).padStart(12, '0')}`;
  const incident = (incidentId: string) => incidentRecord({ incidentId });
  const entry = (id: string, i: number): TimelineEntry => ({
    incidentId: id,
    at: new Date(Date.UTC(2026, 11, 4, 9, 0, 0, i)).toISOString(),
    type: 'STEP',
    actor: 'test',
    message: `step ${i}`,
    data: { i },
  });
  const verifier = (chains: HashChains) => new VerifyLedger({ incidents: new IncidentLedger(table), chains, clock: () => new Date() });

  it('eight writers recording at once: every entry is sealed exactly once, places 1..n with no gap, and verify passes against the exported heads', async () => {
    const id = incidentId();
    const chains = new HashChains(table, anchors);
    await new IncidentLedger(table, { chains }).open(incident(id));
    const writers = Array.from({ length: 8 }, () => new IncidentLedger(table, { chains: new HashChains(table, anchors) }));
    await Promise.all(
      writers.map((w, k) => Promise.all(Array.from({ length: 5 }, (_, j) => w.record(`STEP#${k}#${j}`, entry(id, k * 5 + j))))),
    );
    const view = await verifier(chains).incident(id);
    expect(view.status).toBe('VERIFIED');
    const timeline = view.chains[0]!;
    expect(timeline).toMatchObject({ status: 'VERIFIED', records: 40, sealed: 40, head: { seq: 40 } });
    expect(timeline.anchorsChecked).toBeGreaterThan(0);
    expect(view.anchors).toMatchObject({ objectLock: 'NONE' });
    expect(view.anchors!.note).toMatch(/no Object Lock/);
    // A retried write keeps one entry, and seals nothing twice.
    expect(await writers[0]!.record('STEP#0#0', entry(id, 0))).toBe(false);
    expect((await verifier(chains).incident(id)).chains[0]).toMatchObject({ status: 'VERIFIED', sealed: 40 });
  });

  it('a sealer that dies after deciding a place and before giving the record its link leaves no gap: verify reads the head, the next seal finishes it', async () => {
    const id = incidentId();
    const chains = new HashChains(table, anchors);
    const ledger = new IncidentLedger(table, { chains });
    await ledger.record('A', entry(id, 1));
    // A seal that stops after moving the head: the link write fails.
    const dying = new LedgerTable(
      {
        send: (command: { input?: { UpdateExpression?: string } }) =>
          command.input?.UpdateExpression === 'SET #link = :link' ? Promise.reject(new Error('crash')) : db.doc.send(command as never),
      } as never,
      db.tables.ledger,
    );
    const errors: string[] = [];
    await new IncidentLedger(dying, { chains: new HashChains(dying), onSealError: (e) => errors.push(String(e)) }).record(
      'B',
      entry(id, 2),
    );
    expect(errors).toEqual(['Error: crash']);
    expect((await chains.verify({ kind: 'incident', incidentId: id })).status).toBe('VERIFIED');
    await ledger.record('C', entry(id, 3));
    const report = await chains.verify({ kind: 'incident', incidentId: id });
    expect(report).toMatchObject({ status: 'VERIFIED', sealed: 3, head: { seq: 3 } });
  });

  it('a write whose seal fails altogether stays UNSEALED (written, not proven) until the next write seals it', async () => {
    const id = incidentId();
    const chains = new HashChains(table, anchors);
    const broken = new HashChains(table, {
      export: () => Promise.reject(new Error('S3 unavailable')),
      list: () => Promise.resolve([]),
      describe: () => Promise.resolve({ location: 'none', objectLock: 'UNKNOWN' }),
    });
    const errors: string[] = [];
    await new IncidentLedger(table, { chains, onSealError: (e) => errors.push(String(e)) }).record('A', entry(id, 1));
    // The table's seal succeeds and the export fails: the head is sealed, the anchor is not exported.
    await new IncidentLedger(table, { chains: broken, onSealError: (e) => errors.push(String(e)) }).record('B', entry(id, 2));
    expect(errors).toEqual(['Error: S3 unavailable']);
    // Written by hand, outside killswitch: no link.
    await db.doc.send(
      new UpdateCommand({
        TableName: db.tables.ledger,
        Key: { pk: `INCIDENT#${id}`, sk: 'EVENT#HAND' },
        UpdateExpression: 'SET #at = :at',
        ExpressionAttributeNames: { '#at': 'at' },
        ExpressionAttributeValues: { ':at': '2026-12-04T09:30:00.000Z' },
      }),
    );
    expect(await chains.verify({ kind: 'incident', incidentId: id })).toMatchObject({ status: 'UNSEALED', unsealed: ['EVENT#HAND'] });
  });

  it('after one timeline entry is edited by hand, verify names it; a removed entry is MISSING; a chain rewritten consistently is caught by the exported head', async () => {
    const id = incidentId();
    const chains = new HashChains(table, anchors);
    const ledger = new IncidentLedger(table, { chains });
    await ledger.open(incident(id));
    for (const i of [1, 2, 3, 4]) await ledger.record(`S${i}`, entry(id, i));
    expect((await verifier(chains).incident(id)).status).toBe('VERIFIED');

    // An administrator's UpdateItem: no trace in the data, except the chain.
    const key = { pk: `INCIDENT#${id}`, sk: 'EVENT#S2' };
    await db.doc.send(
      new UpdateCommand({
        TableName: db.tables.ledger,
        Key: key,
        UpdateExpression: 'SET message = :m',
        ExpressionAttributeValues: { ':m': 'nothing happened' },
      }),
    );
    const edited = await verifier(chains).incident(id);
    expect(edited.status).toBe('BROKEN');
    expect(edited.chains[0]!.broken).toMatchObject({ problem: 'EDITED', seq: 2, sk: 'EVENT#S2' });

    // The same administrator recomputes that link, every later one and the head: the table is consistent again…
    const items = (await table.queryPrefixWithKeys(key.pk, 'EVENT#')).sort(
      (a, b) => (a.chain as { seq: number }).seq - (b.chain as { seq: number }).seq,
    );
    let prev = (items[0]!.chain as { hash: string }).hash;
    for (const item of items.slice(1)) {
      const { pk, sk, chain, ...content } = item as Record<string, unknown> & { chain: { seq: number } };
      const hash = linkHash(`incident/${id}`, { pk: String(pk), sk: String(sk), content }, chain.seq, prev);
      await db.doc.send(
        new UpdateCommand({
          TableName: db.tables.ledger,
          Key: { pk, sk },
          UpdateExpression: 'SET chain = :c',
          ExpressionAttributeValues: { ':c': { seq: chain.seq, prev, hash } },
        }),
      );
      await db.doc.send(
        new UpdateCommand({
          TableName: db.tables.ledger,
          Key: { pk, sk: CHAIN_HEAD_SK },
          UpdateExpression: 'SET #h = :h, prev = :p',
          ExpressionAttributeNames: { '#h': 'hash' },
          ExpressionAttributeValues: { ':h': hash, ':p': prev },
        }),
      );
      prev = hash;
    }
    expect((await new HashChains(table).verify({ kind: 'incident', incidentId: id })).status).toBe('VERIFIED');
    // …and the heads exported to S3 when it was sealed say otherwise.
    const rewritten = await chains.verify({ kind: 'incident', incidentId: id });
    expect(rewritten.status).toBe('BROKEN');
    expect(rewritten.broken!.problem).toBe('ANCHOR');

    const other = incidentId();
    for (const i of [1, 2, 3]) await ledger.record(`S${i}`, entry(other, i));
    await db.doc.send(new DeleteCommand({ TableName: db.tables.ledger, Key: { pk: `INCIDENT#${other}`, sk: 'EVENT#S1' } }));
    expect((await chains.verify({ kind: 'incident', incidentId: other })).broken).toMatchObject({ problem: 'MISSING', seq: 1 });
  });

  it('the audit trail: one chain per scope, in version order', async () => {
    const chains = new HashChains(table, anchors);
    const audit = new AuditTrail(table, { chains });
    for (const version of [1, 2, 3])
      await audit.record(
        {
          programId: 'chains',
          scope: '*',
          version,
          status: version % 2 ? 'ACTIVE' : 'PAUSED',
          changedAt: new Date(Date.UTC(2026, 11, 4, 9, version)).toISOString(),
          changedBy: 'x',
          trigger: 'OPERATOR',
          summary: 's',
        } as never,
        { principal: { id: 'arn:aws:sts::111111111111:assumed-role/KillswitchOperators/alice', verified: true }, reason: 'r' },
      );
    expect(await chains.verify({ kind: 'audit', programId: 'chains', scope: '*' })).toMatchObject({
      status: 'VERIFIED',
      sealed: 3,
      head: { seq: 3 },
    });
  });

  it('model: any interleaving of writers, each dying at a random step of its seal, ends — after one more write — in one complete chain', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ writer: fc.nat(3), dieAt: fc.option(fc.constantFrom('advance', 'link', 'export'), { nil: undefined }) }), {
          minLength: 1,
          maxLength: 12,
        }),
        async (steps) => {
          const id = incidentId();
          await Promise.all(
            steps.map(async (step, i) => {
              let updates = 0;
              const faulty = new LedgerTable(
                {
                  send: (command: { input?: { UpdateExpression?: string } }) => {
                    const expr = command.input?.UpdateExpression ?? '';
                    if (expr.startsWith('SET chainId') && step.dieAt === 'advance' && updates++ === 0)
                      return Promise.reject(new Error('die'));
                    if (expr === 'SET #link = :link' && step.dieAt === 'link') return Promise.reject(new Error('die'));
                    return db.doc.send(command as never);
                  },
                } as never,
                db.tables.ledger,
              );
              const exportsTo =
                step.dieAt === 'export'
                  ? {
                      export: () => Promise.reject(new Error('die')),
                      list: anchors.list.bind(anchors),
                      describe: anchors.describe.bind(anchors),
                    }
                  : anchors;
              await new IncidentLedger(faulty, { chains: new HashChains(faulty, exportsTo), onSealError: () => {} }).record(
                `W${step.writer}#${i}`,
                entry(id, i),
              );
            }),
          );
          await new IncidentLedger(table, { chains: new HashChains(table, anchors) }).record('LAST', entry(id, 999));
          const report = await new HashChains(table, anchors).verify({ kind: 'incident', incidentId: id });
          expect(report).toMatchObject({ status: 'VERIFIED', records: steps.length + 1, sealed: steps.length + 1, unsealed: [] });
          expect(report.head!.seq).toBe(steps.length + 1);
        },
      ),
      { numRuns: 25 },
    );
  });
});
