import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { KillSwitchGate } from '#collector/gate.ts';

/*
 * The collector's half of the kill switch, hunted the same way: a model of what `allowed()` may
 * answer, and sequences of reads (good, paused in some scope, failed, garbage), seconds of
 * synchronous work on the collector's thread (no timer can fire), system suspends (the wall clock
 * jumps, the monotonic clock does not) and wall-clock jumps back. After every step, and at every
 * call during the busy stretches, `allowed()` may be true only if the model allows collection:
 * a good read, of an ACTIVE state for this gate's scopes, fresh on both clocks.
 */

const MAX_STALENESS_MS = 200;
const RUNS = Math.max(100, Number(process.env.GATE_MODEL_RUNS ?? 100));
const SEED = Number(process.env.MODEL_SEED ?? Date.now() % 2 ** 31);

type ReadKind = 'active' | 'pausedGlobal' | 'pausedOwn' | 'pausedOther' | 'fail' | 'garbage';
const item = (scope: string, status: 'ACTIVE' | 'PAUSED', version = 2) =>
  marshall({
    programId: 'g',
    scope,
    status,
    version,
    changedAt: '2026-12-01T09:00:00Z',
    changedBy: 'operator',
    changedByVerified: true,
    reason: 'r',
    trigger: status === 'PAUSED' ? 'OPERATOR' : 'SEED',
  });
const responses: Record<ReadKind, () => unknown> = {
  active: () => ({ Items: [item('*', 'ACTIVE')] }),
  pausedGlobal: () => ({ Items: [item('*', 'PAUSED', 3)] }),
  pausedOwn: () => ({ Items: [item('*', 'ACTIVE'), item('category#a', 'PAUSED', 1)] }),
  pausedOther: () => ({ Items: [item('*', 'ACTIVE'), item('category#b', 'PAUSED', 1)] }),
  fail: () => {
    throw Object.assign(new Error('connection refused'), { name: 'ECONNREFUSED' });
  },
  garbage: () => ({ Items: [marshall({ programId: 'g', scope: '*', status: 'MAYBE' })] }),
};

interface GateModel {
  scopes: string[];
  /** When the last good read was observed to complete (after the gate saw it: an upper bound of its own time). */
  lastGood?: { mono: number; wall: number };
  /** What the last read said about this gate's scopes (false after a failed or malformed read). */
  collect: boolean;
}
interface GateReal {
  gate: KillSwitchGate;
  respond: (kind: ReadKind) => void;
}

/** The model's verdict at (mono, wall): may the gate say yes? */
const mayCollect = (m: GateModel, mono: number, wall: number) =>
  m.collect && m.lastGood !== undefined && mono - m.lastGood.mono <= MAX_STALENESS_MS && wall - m.lastGood.wall <= MAX_STALENESS_MS;

function check(m: GateModel, r: GateReal, what: string): void {
  // The clocks first, then the gate: the model judges an instant before the call, when the read was
  // younger than at the call, so "stale for the model" means stale for the gate too (read after
  // the call, the model would judge a later instant and blame the gate for the gap between them).
  const [mono, wall] = [performance.now(), Date.now()];
  const allowed = r.gate.allowed();
  if (allowed && !mayCollect(m, mono, wall)) {
    const age = m.lastGood
      ? `last good read ${(mono - m.lastGood.mono).toFixed(0)} ms ago (monotonic), ${wall - m.lastGood.wall} ms ago (wall clock)`
      : 'no good read yet';
    throw new Error(
      `${what}: allowed() said yes for scopes [${m.scopes.join(', ')}] although ${m.collect ? age : 'the last read did not allow collection'} (max ${MAX_STALENESS_MS} ms)`,
    );
  }
}

class Read implements fc.AsyncCommand<GateModel, GateReal> {
  constructor(readonly kind: ReadKind) {}
  check = () => true;
  async run(m: GateModel, r: GateReal) {
    r.respond(this.kind);
    await r.gate.refresh();
    const good = this.kind !== 'fail' && this.kind !== 'garbage';
    if (good) {
      m.lastGood = { mono: performance.now(), wall: Date.now() };
      m.collect = this.kind === 'active' || (this.kind === 'pausedOther' && m.scopes.length > 0);
    } else m.collect = false;
    check(m, r, `after a ${this.kind} read`);
    // Right after a good read that allows collection, the gate opens (unless this machine stalled for half the window).
    if (m.collect && performance.now() - m.lastGood!.mono < MAX_STALENESS_MS / 2)
      expect(r.gate.allowed(), `open after a ${this.kind} read`).toBe(true);
  }
  toString = () => `Read(${this.kind})`;
}

/** The collector's thread is busy: no timer fires, every event asks the gate. */
class Busy implements fc.AsyncCommand<GateModel, GateReal> {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(m: GateModel, r: GateReal) {
    const until = performance.now() + this.ms;
    while (performance.now() < until) check(m, r, `${this.ms} ms of synchronous work`);
  }
  toString = () => `Busy(${this.ms} ms)`;
}

let wallOffset = 0;
/** The laptop slept: the wall clock moved on, the monotonic clock did not. */
class Suspend implements fc.AsyncCommand<GateModel, GateReal> {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(m: GateModel, r: GateReal) {
    wallOffset += this.ms;
    check(m, r, `the first call after a ${this.ms} ms suspend`);
  }
  toString = () => `Suspend(${this.ms} ms)`;
}

class WallBack implements fc.AsyncCommand<GateModel, GateReal> {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(m: GateModel, r: GateReal) {
    wallOffset -= this.ms;
    check(m, r, `after the wall clock went back ${this.ms} ms`);
  }
  toString = () => `WallBack(${this.ms} ms)`;
}

class Sleep implements fc.AsyncCommand<GateModel, GateReal> {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(m: GateModel, r: GateReal) {
    await new Promise((resolve) => setTimeout(resolve, this.ms));
    check(m, r, `after ${this.ms} ms idle`);
  }
  toString = () => `Sleep(${this.ms} ms)`;
}

const commands = [
  fc
    .constantFrom<ReadKind>('active', 'active', 'pausedGlobal', 'pausedOwn', 'pausedOther', 'pausedOther', 'fail', 'garbage')
    .map((k) => new Read(k)),
  fc.integer({ min: MAX_STALENESS_MS / 2, max: 2 * MAX_STALENESS_MS }).map((ms) => new Busy(ms)),
  fc.integer({ min: MAX_STALENESS_MS + 1, max: 3_600_000 }).map((ms) => new Suspend(ms)),
  fc.integer({ min: 1, max: 86_400_000 }).map((ms) => new WallBack(ms)),
  fc.integer({ min: 1, max: MAX_STALENESS_MS }).map((ms) => new Sleep(ms)),
];

describe('Model: the collector gate says no whenever it must, whatever the thread, the clocks and the reads do', () => {
  const realNow = Date.now;
  beforeAll(() => {
    Date.now = () => realNow() + wallOffset;
  });
  afterAll(() => {
    Date.now = realNow;
  });

  it(`holds over ${RUNS} sequences, for a gate with and without declared scopes`, async () => {
    console.log(`gate model test: seed ${SEED}, ${RUNS} sequences (replay with MODEL_SEED=${SEED})`);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom<string[]>([], ['category#a']), fc.commands(commands, { maxCommands: 8 }), async (scopes, cmds) => {
        let next: ReadKind = 'active';
        const client = { send: async () => responses[next]() } as unknown as DynamoDBClient;
        // An hour between scheduled reads: only the commands read.
        const gate = new KillSwitchGate({
          tableName: 'ProgramState',
          programId: 'g',
          scopes,
          refreshIntervalMs: 3_600_000,
          maxStalenessMs: MAX_STALENESS_MS,
          readTimeoutMs: 1000,
          client,
        });
        const real: GateReal = { gate, respond: (kind) => (next = kind) };
        const model: GateModel = { scopes, collect: true };
        await gate.start();
        model.lastGood = { mono: performance.now(), wall: Date.now() };
        try {
          await fc.asyncModelRun(() => ({ model, real }), cmds);
        } finally {
          await gate.stop();
          wallOffset = 0;
        }
      }),
      { numRuns: RUNS, seed: SEED },
    );
  }, 600_000);
});
