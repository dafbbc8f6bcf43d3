import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { DeleteItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KillSwitchGate } from '#collector/gate.ts';
import { ProgramStateStore } from '#shared/adapters/dynamodb/program-state-store.ts';
import { startTestDynamo, type TestDynamo } from '../support/dynamo.ts';

type Mode = 'pass' | 'refuse' | 'hang' | 'garbage' | 'wrong-shape' | 'server-error';

/** A faulty network between the collector and DynamoDB: passes requests through, or fails in one way. */
async function faultyProxy(target: string) {
  let mode: Mode = 'pass';
  const sockets = new Set<Socket>();
  const hung: { destroy(): void }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      switch (mode) {
        case 'hang':
          hung.push(res.socket!);
          return; // never answers
        case 'garbage':
          res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('\u0000\u00ff{not json at all');
          return;
        case 'wrong-shape':
          // Well-formed DynamoDB JSON, but an item no killswitch version wrote: status "MAYBE", version "two".
          res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end(
            JSON.stringify({
              Count: 1,
              ScannedCount: 1,
              Items: [{ pk: { S: 'x' }, scope: { S: '*' }, status: { S: 'MAYBE' }, version: { S: 'two' } }],
            }),
          );
          return;
        case 'server-error':
          res
            .writeHead(500, { 'content-type': 'application/x-amz-json-1.0' })
            .end(JSON.stringify({ __type: 'com.amazon.coral.availability#InternalServerError', message: 'boom' }));
          return;
        default: {
          const url = new URL(target);
          const upstream = httpRequest(
            { host: url.hostname, port: url.port, method: req.method, path: req.url, headers: req.headers },
            (up) => {
              res.writeHead(up.statusCode ?? 500, up.headers);
              up.pipe(res);
            },
          );
          upstream.on('error', () => res.destroy());
          upstream.end(Buffer.concat(chunks));
        }
      }
    });
  });
  server.on('connection', (socket) => {
    if (mode === 'refuse') socket.destroy();
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    set(next: Mode) {
      mode = next;
      if (next === 'refuse') for (const s of sockets) s.destroy();
      if (next === 'pass') for (const h of hung.splice(0)) h.destroy();
    },
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const REFRESH_MS = 50;
const MAX_STALENESS_MS = 300;
/** Timers on a shared two-core machine fire late; the bound checked is maxStalenessMs plus this. */
const TIMER_SLACK_MS = 150;

const waitFor = async (predicate: () => boolean, timeoutMs: number) => {
  const until = performance.now() + timeoutMs;
  while (!predicate() && performance.now() < until) await new Promise((r) => setTimeout(r, 5));
  return predicate();
};

/**
 * Asks the gate every few milliseconds from `t0` until it says no (or `timeoutMs`), recording each
 * answer with when it was asked. What is checked is the answers — no yes later than the bound —
 * not how soon this loop's timer woke up to ask: on a loaded machine it wakes late, and a late
 * question answered "no" proves nothing wrong.
 */
const answersUntilClosed = async (gate: KillSwitchGate, t0: number, timeoutMs: number) => {
  const answers: { at: number; allowed: boolean }[] = [];
  for (;;) {
    const at = performance.now() - t0;
    const allowed = gate.allowed();
    answers.push({ at, allowed });
    if (!allowed || at > timeoutMs) return answers;
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('Fail closed: the collector SDK when DynamoDB misbehaves', () => {
  let db: TestDynamo;
  let store: ProgramStateStore;
  let proxy: Awaited<ReturnType<typeof faultyProxy>>;
  let n = 0;

  beforeAll(async () => {
    db = await startTestDynamo();
    store = new ProgramStateStore(db.doc, db.tables.programState);
    proxy = await faultyProxy(db.dynamo.endpoint);
  });
  afterAll(async () => {
    await proxy.close();
    await db.dynamo.stop();
  });

  /** A registered ACTIVE program and a gate reading it through the proxy, with its own client and feed. */
  const openGate = async () => {
    const programId = `fc${++n}`;
    await store.register(programId, new Date());
    proxy.set('pass');
    const client = new DynamoDBClient({
      endpoint: proxy.endpoint,
      region: 'eu-west-1',
      maxAttempts: 1,
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    const gate = new KillSwitchGate({
      tableName: db.tables.programState,
      programId,
      refreshIntervalMs: REFRESH_MS,
      maxStalenessMs: MAX_STALENESS_MS,
      // A good read may take what this machine needs; closing is staleness's job, not the timeout's.
      readTimeoutMs: 2000,
      client,
    });
    await gate.start();
    expect(await waitFor(() => gate.allowed(), 10_000)).toBe(true);
    return { gate, programId };
  };

  /** allowed() is never true again while the fault lasts; true again only after a good read of ACTIVE. */
  const closedWhile = async (gate: KillSwitchGate, ms: number) => {
    const until = performance.now() + ms;
    while (performance.now() < until) {
      if (gate.allowed()) return false;
      await new Promise((r) => setTimeout(r, 5));
    }
    return true;
  };

  it.each(['refuse', 'hang', 'garbage', 'wrong-shape', 'server-error'] as const)(
    'closes within maxStalenessMs when DynamoDB %s, and reopens only after a good read of ACTIVE',
    async (mode) => {
      const { gate } = await openGate();
      const t0 = performance.now();
      proxy.set(mode);
      const answers = await answersUntilClosed(gate, t0, 10_000);
      expect(answers.at(-1)!.allowed).toBe(false);
      expect(answers.filter((a) => a.allowed && a.at > MAX_STALENESS_MS + TIMER_SLACK_MS)).toEqual([]);
      expect(await closedWhile(gate, 4 * REFRESH_MS)).toBe(true);
      expect(gate.state()).toMatchObject({ allowed: false });

      const healedAt = performance.now();
      proxy.set('pass');
      expect(await waitFor(() => gate.allowed(), 3000)).toBe(true);
      // Reopened by a read issued after the network healed, not before.
      expect(Date.parse(gate.state().checkedAt!)).toBeGreaterThanOrEqual(Date.now() - (performance.now() - healedAt) - 5);
      await gate.stop();
    },
  );

  it('stays closed when the network heals but the program was paused meanwhile', async () => {
    const { gate, programId } = await openGate();
    proxy.set('refuse');
    expect(await waitFor(() => !gate.allowed(), MAX_STALENESS_MS + TIMER_SLACK_MS)).toBe(true);
    await store.pause({
      programId,
      scope: '*',
      incidentId: 'inc-20261127-00000000fc01',
      attemptId: 'test',
      summary: 'during the outage',
      verified: true,
      trigger: 'OPERATOR',
      at: new Date(),
    });
    proxy.set('pass');
    expect(await waitFor(() => gate.state().status === 'PAUSED', 2000)).toBe(true);
    expect(await closedWhile(gate, 6 * REFRESH_MS)).toBe(true);
    await gate.stop();
  });

  it('is closed when the state item is missing (never registered, or gone)', async () => {
    const client = new DynamoDBClient({ endpoint: db.dynamo.endpoint, region: 'eu-west-1' });
    const never = new KillSwitchGate({
      tableName: db.tables.programState,
      programId: 'never-registered',
      refreshIntervalMs: REFRESH_MS,
      client,
    });
    await never.start();
    expect(await closedWhile(never, 4 * REFRESH_MS)).toBe(true);
    expect(never.state().status).toBe('UNKNOWN');
    await never.stop();

    const { gate, programId } = await openGate();
    // Nothing in killswitch can delete a state item; an operator with table access could.
    await client.send(
      new DeleteItemCommand({ TableName: db.tables.programState, Key: { programId: { S: programId }, scope: { S: '*' } } }),
    );
    expect(await waitFor(() => !gate.allowed(), 4 * REFRESH_MS + TIMER_SLACK_MS)).toBe(true);
    await gate.stop();
  });

  it('closes at once when the wall clock jumps ahead (a laptop waking from sleep: the monotonic clock stood still) or steps back, and reopens with the next good read', async () => {
    const { gate } = await openGate();
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 86_400_000); // slept a day: performance.now() did not move
      expect(gate.allowed()).toBe(false);
      expect(gate.state()).toMatchObject({ allowed: false, stale: true });
      // The next good read (at the new time) reopens it.
      await gate.refresh();
      expect(gate.allowed()).toBe(true);
      // A step back could hide staleness: it closes the gate too, until the next good read.
      vi.setSystemTime(Date.now() - 2 * 86_400_000);
      expect(gate.allowed()).toBe(false);
      await gate.refresh();
      expect(gate.allowed()).toBe(true);
      const t0 = performance.now();
      proxy.set('hang');
      const answers = await answersUntilClosed(gate, t0, 10_000);
      expect(answers.at(-1)!.allowed).toBe(false);
      expect(answers.filter((a) => a.allowed && a.at > MAX_STALENESS_MS + TIMER_SLACK_MS)).toEqual([]);
    } finally {
      vi.useRealTimers();
      proxy.set('pass');
      await gate.stop();
    }
  });

  it("says no within maxStalenessMs even while the collector's thread is busy for seconds (no timer can fire)", async () => {
    const { gate } = await openGate();
    proxy.set('refuse');
    const lastGoodBefore = performance.now(); // every good read completed before this moment
    const answers: { at: number; allowed: boolean }[] = [];
    // Two seconds of synchronous work, asking the gate on every event, as a collector would.
    while (performance.now() - lastGoodBefore < 2000) answers.push({ at: performance.now() - lastGoodBefore, allowed: gate.allowed() });
    const lateYes = answers.filter((a) => a.allowed && a.at > MAX_STALENESS_MS);
    expect(lateYes).toEqual([]);
    expect(answers.at(-1)!.allowed).toBe(false);
    proxy.set('pass');
    await gate.stop();
  });
});
