import { S3Client } from '@aws-sdk/client-s3';
import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChainAnchorBucket } from '#shared/adapters/aws/chain-anchor-bucket.ts';
import { AuditTrail, HashChains, IncidentLedger, LedgerTable } from '#shared/adapters/dynamodb/ledger/index.ts';
import { CHAIN_HEAD_SK, rawRecord } from '#shared/adapters/dynamodb/ledger/hash-chains.ts';
import { linkHash } from '#shared/domain/hash-chain.ts';
import { VerifyLedger } from '#shared/record/verify.ts';
import { DeadlineWatch } from '#shared/record/deadline-watch.ts';
import { ProgramRegistry } from '#shared/runtime/env.ts';
import { SILENT } from '#shared/killswitch/ports.ts';
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
/** Entries are dated now: a seal leaves records older than an hour (or in the future) unsealed. */
const BASE = Date.now();

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
  const incident = (incidentId: string) => incidentRecord({ incidentId, openedAt: new Date(BASE).toISOString() });
  const entry = (id: string, i: number): TimelineEntry => ({
    incidentId: id,
    at: new Date(BASE + i).toISOString(),
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
    // 40 steps, and the incident's facts (INCIDENT_FACTS), first.
    expect(timeline).toMatchObject({ status: 'VERIFIED', records: 41, sealed: 41, head: { seq: 41 } });
    expect(timeline.anchorsChecked).toBeGreaterThan(0);
    expect(view.anchors).toMatchObject({ objectLock: 'NONE' });
    expect(view.anchors!.note).toMatch(/no Object Lock/);
    // A retried write keeps one entry, and seals nothing twice.
    expect(await writers[0]!.record('STEP#0#0', entry(id, 0))).toBe(false);
    expect((await verifier(chains).incident(id)).chains[0]).toMatchObject({ status: 'VERIFIED', sealed: 41 });
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
        ExpressionAttributeValues: { ':at': new Date(BASE + 30_000).toISOString() },
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
    expect(edited.chains[0]!.broken).toMatchObject({ problem: 'EDITED', seq: 3, sk: 'EVENT#S2' });

    // The same administrator recomputes that link, every later one and the head: the table is consistent again…
    const items = (await table.queryPrefixRaw(key.pk, 'EVENT#')).map(rawRecord).sort((x, y) => x.link!.seq - y.link!.seq);
    let prev = items[0]!.link!.hash;
    for (const item of items.slice(1)) {
      const seq = item.link!.seq;
      const hash = linkHash(`incident/${id}`, item.record, seq, prev);
      await db.doc.send(
        new UpdateCommand({
          TableName: db.tables.ledger,
          Key: { pk: key.pk, sk: item.sk },
          UpdateExpression: 'SET chain = :c',
          ExpressionAttributeValues: { ':c': { seq, prev, hash } },
        }),
      );
      await db.doc.send(
        new UpdateCommand({
          TableName: db.tables.ledger,
          Key: { pk: key.pk, sk: CHAIN_HEAD_SK },
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

    // The incident record is not chained (it changes), its facts are: an edit of when it opened (the
    // Art. 33 clock's start) shows; so does an incident removed whose chain remains.
    await db.doc.send(
      new UpdateCommand({
        TableName: db.tables.ledger,
        Key: { pk: `INCIDENT#${id}`, sk: '#INCIDENT' },
        UpdateExpression: 'SET openedAt = :later',
        ExpressionAttributeValues: { ':later': new Date(BASE + 3 * 86_400_000).toISOString() },
      }),
    );
    const moved = await verifier(chains).incident(id);
    expect(moved.record).toMatchObject({ status: 'EDITED' });
    expect(moved.record.detail).toContain('openedAt');
    await db.doc.send(new DeleteCommand({ TableName: db.tables.ledger, Key: { pk: `INCIDENT#${id}`, sk: '#INCIDENT' } }));
    expect(await verifier(chains).incident(id)).toMatchObject({ status: 'BROKEN', record: { status: 'MISSING' } });

    const other = incidentId();
    for (const i of [1, 2, 3]) await ledger.record(`S${i}`, entry(other, i));
    await db.doc.send(new DeleteCommand({ TableName: db.tables.ledger, Key: { pk: `INCIDENT#${other}`, sk: 'EVENT#S1' } }));
    expect((await chains.verify({ kind: 'incident', incidentId: other })).broken).toMatchObject({ problem: 'MISSING', seq: 1 });
  });

  it("found by an attacker's review: a sealer whose read of the records is older than others' seals gives no place twice (it reads the head first)", async () => {
    const id = incidentId();
    const chains = new HashChains(table, anchors);
    const ledger = new IncidentLedger(table, { chains });
    await ledger.record('A', entry(id, 1));
    await table.putOnce({ pk: `INCIDENT#${id}`, sk: 'EVENT#X' }, entry(id, 2));
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let queried!: () => void;
    const querying = new Promise<void>((r) => (queried = r));
    // The late sealer's read of the head waits until the others are done (its first call is let through).
    const slow = new LedgerTable(
      {
        send: async (command: { constructor: { name: string }; input: { Key?: { sk?: string } } }) => {
          queried();
          if (command.constructor.name === 'GetCommand' && command.input.Key?.sk === CHAIN_HEAD_SK) await held;
          return db.doc.send(command as never);
        },
      } as never,
      db.tables.ledger,
    );
    const late = new HashChains(slow, anchors).seal({ kind: 'incident', incidentId: id });
    await querying;
    // Meanwhile other writers seal X, then write and seal Y.
    await chains.seal({ kind: 'incident', incidentId: id });
    await ledger.record('Y', entry(id, 3));
    release();
    await late;
    await ledger.record('Z', entry(id, 4));
    expect(await chains.verify({ kind: 'incident', incidentId: id })).toMatchObject({ status: 'VERIFIED', sealed: 4, head: { seq: 4 } });
  });

  it('hashes items as DynamoDB stores them: a string set edited, or a number beyond double precision, is EDITED; such values never stop a seal', async () => {
    const id = incidentId();
    const chains = new HashChains(table, anchors);
    const ledger = new IncidentLedger(table, { chains });
    await ledger.record('A', entry(id, 1));
    const raw = (sk: string, attribute: Record<string, unknown>) =>
      db.client.send(
        new PutItemCommand({
          TableName: db.tables.ledger,
          Item: {
            pk: { S: `INCIDENT#${id}` },
            sk: { S: sk },
            incidentId: { S: id },
            at: { S: new Date().toISOString() },
            type: { S: 'STEP' },
            actor: { S: 'test' },
            message: { S: 'm' },
            ...(attribute as Record<string, never>),
          },
        }),
      );
    await raw('EVENT#SET', { tags: { SS: ['a', 'b'] }, big: { N: '123456789012345678901' } });
    await ledger.record('B', entry(id, 3));
    expect(await chains.verify({ kind: 'incident', incidentId: id })).toMatchObject({ status: 'VERIFIED', sealed: 3 });
    await db.client.send(
      new UpdateItemCommand({
        TableName: db.tables.ledger,
        Key: { pk: { S: `INCIDENT#${id}` }, sk: { S: 'EVENT#SET' } },
        UpdateExpression: 'SET big = :n',
        ExpressionAttributeValues: { ':n': { N: '123456789012345678902' } },
      }),
    );
    expect((await chains.verify({ kind: 'incident', incidentId: id })).broken).toMatchObject({ problem: 'EDITED', sk: 'EVENT#SET' });
  });

  it('a record written by hand with an old date is never sealed by a later write: it stays UNSEALED, and verify says so', async () => {
    const id = incidentId();
    const chains = new HashChains(table, anchors);
    const ledger = new IncidentLedger(table, { chains });
    await ledger.record('A', entry(id, 1));
    await table.putOnce(
      { pk: `INCIDENT#${id}`, sk: 'EVENT#FORGED' },
      { ...entry(id, 0), type: 'NOT_NOTIFIABLE', at: new Date(Date.now() - 3 * 86_400_000).toISOString() },
    );
    await ledger.record('B', entry(id, 2));
    expect(await chains.verify({ kind: 'incident', incidentId: id })).toMatchObject({
      status: 'UNSEALED',
      unsealed: ['EVENT#FORGED'],
      sealed: 2,
    });
  });

  it('the deadline watch seals what a failed seal left (the promise every writer relies on when its own seal fails)', async () => {
    const id = incidentId();
    // A writer whose every head move is throttled: its records are written, none sealed.
    const throttled = new LedgerTable(
      {
        send: (command: { input?: { UpdateExpression?: string } }) =>
          command.input?.UpdateExpression?.startsWith('SET chainId')
            ? Promise.reject(new Error('throttled'))
            : db.doc.send(command as never),
      } as never,
      db.tables.ledger,
    );
    const failing = new IncidentLedger(throttled, { chains: new HashChains(throttled), onSealError: () => {} });
    await failing.open(incident(id));
    await failing.record('A', entry(id, 1));
    const chains = new HashChains(table, anchors);
    expect(await chains.verify({ kind: 'incident', incidentId: id })).toMatchObject({ status: 'UNSEALED', sealed: 0 });
    const watch = new DeadlineWatch({
      programs: new ProgramRegistry([
        {
          programId: 'mci',
          datasetIds: ['keystrokes'],
          severityPolicy: { LOW: 'ALERT', MEDIUM: 'ALERT', HIGH: 'PAUSE', CRITICAL: 'PAUSE' },
        },
      ] as never),
      incidents: new IncidentLedger(table, { chains }),
      alerts: { send: async () => 'm' },
      telemetry: SILENT,
      clock: () => new Date(),
      chains,
    });
    expect((await watch.run()).sealed).toBeGreaterThanOrEqual(2);
    expect(await chains.verify({ kind: 'incident', incidentId: id })).toMatchObject({ status: 'VERIFIED', sealed: 2 });
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
          changedAt: new Date(BASE + version * 1000).toISOString(),
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
