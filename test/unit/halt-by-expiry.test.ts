import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AckAggregator, MAX_DOCUMENT_VALIDITY_SECONDS, type AckStore, type HaltCounts, type ReceivedAck } from '#shared/killswitch/acks.ts';
import { MAX_VALIDITY_SECONDS } from '#agent/document.ts';
import type { ProgramState } from '#shared/schemas/program-state.ts';
import type { TimelineEntry } from '#shared/schemas/ledger.ts';

const FLIP = Date.parse('2026-12-03T10:00:00.000Z');
const SETTINGS = { validitySeconds: 300, publisherTimeoutSeconds: 30, marginSeconds: 60 };
const DUE = FLIP + (300 + 30 + 60) * 1000;

const state = (scope: string, status: 'ACTIVE' | 'PAUSED', version: number, changedAt = FLIP): ProgramState => ({
  programId: 'mci',
  scope,
  status,
  version,
  changedAt: new Date(changedAt).toISOString(),
  changedBy: 'detector:dlp',
  changedByVerified: false,
  reason: 'test',
  trigger: 'ANOMALY',
  ...(status === 'PAUSED' ? { incidentId: 'inc-20261203-000000000001' } : {}),
});

/** A fleet of `known` agents of which `halted` acknowledged; the ledger's conditional put, in memory. */
function world(fleet: { known: number; halted: number }) {
  let now = FLIP;
  const states = [state('*', 'PAUSED', 2), state('category#keystrokes', 'ACTIVE', 1)];
  const entries = new Map<string, TimelineEntry>();
  const recorded = new Set<string>();
  const store: AckStore = {
    // Redeliveries of the same acknowledgement are not `first`: the confirmation must not depend on it.
    record: async (a) => ({ first: !recorded.has(`${a.collectorId}#${a.seq}`) && !!recorded.add(`${a.collectorId}#${a.seq}`) }),
    counts: async (_p, seq): Promise<HaltCounts> => ({
      seq,
      halted: fleet.halted,
      collecting: 0,
      known: fleet.known,
      silent: fleet.known - fleet.halted,
    }),
  };
  const aggregator = new AckAggregator({
    store,
    states: { list: async () => states },
    incidents: {
      record: async (key, entry) => {
        if (entries.has(key)) return false;
        entries.set(key, entry);
        return true;
      },
    },
    now: () => new Date(now),
    checkEveryMs: 0,
  });
  return {
    aggregator,
    entries,
    at: (t: number) => void (now = t),
    ack: (): ReceivedAck => ({
      collectorId: 'laptop-1',
      programId: 'mci',
      seq: 3,
      allowed: false,
      at: new Date(now).toISOString(),
      kind: 'change',
      receivedAt: new Date(now).toISOString(),
    }),
  };
}

describe('HALT_CONFIRMED when every document signed before the pause has expired', () => {
  it('is recorded once the last ACTIVE document can have expired, with the silent agents named in numbers', async () => {
    const w = world({ known: 10, halted: 7 });
    w.at(DUE - 1);
    expect((await w.aggregator.confirmByExpiry(['mci'], SETTINGS)).confirmed).toEqual([]);
    w.at(DUE);
    expect(await w.aggregator.confirmByExpiry(['mci'], SETTINGS)).toEqual({ confirmed: ['inc-20261203-000000000001'], failed: [] });
    const [entry] = [...w.entries.values()];
    expect(entry).toMatchObject({
      type: 'HALT_CONFIRMED',
      data: { by: 'expiry', seq: 3, halted: 7, known: 10, silent: 3, scope: '*', expiredAt: new Date(DUE).toISOString() },
    });
    expect(entry!.message).toMatch(/7 of 10 known agents acknowledged the pause, 3 silent/);
  });

  it('never early, and once per pause however often the sweep runs, with redelivered acknowledgements, whichever proof comes first (random schedules)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ at: fc.integer({ min: FLIP - 60_000, max: DUE + 600_000 }), kind: fc.constantFrom('sweep', 'ack') }), {
          minLength: 1,
          maxLength: 20,
        }),
        fc.boolean(),
        async (steps, fleetHalted) => {
          const w = world({ known: 5, halted: fleetHalted ? 5 : 4 });
          for (const step of steps.sort((a, b) => a.at - b.at)) {
            w.at(step.at);
            if (step.kind === 'sweep') {
              const { confirmed } = await w.aggregator.confirmByExpiry(['mci'], SETTINGS);
              if (step.at < DUE) expect(confirmed).toEqual([]);
            } else await w.aggregator.apply(w.ack());
          }
          const halts = [...w.entries.values()].filter((e) => e.type === 'HALT_CONFIRMED');
          expect(halts.length).toBeLessThanOrEqual(1);
          for (const h of halts) {
            if (h.data?.by === 'expiry') expect(Date.parse(h.at)).toBeGreaterThanOrEqual(DUE);
            else expect(fleetHalted).toBe(true); // acknowledgements confirm only a fully halted fleet
          }
          const sweptLate = steps.some((s) => s.kind === 'sweep' && s.at >= DUE);
          const ackedAll = fleetHalted && steps.some((s) => s.kind === 'ack');
          expect(halts.length).toBe(sweptLate || ackedAll ? 1 : 0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('confirms nothing for a program that is not paused or has no state', async () => {
    const aggregator = new AckAggregator({
      store: { record: async () => ({ first: true }), counts: async () => ({ seq: 0, halted: 0, collecting: 0, known: 0, silent: 0 }) },
      states: { list: async (p) => (p === 'active' ? [{ ...state('*', 'ACTIVE', 1), programId: 'active' }] : []) },
      incidents: { record: async () => true },
      now: () => new Date(DUE + 3_600_000),
    });
    expect(await aggregator.confirmByExpiry(['active', 'none'], SETTINGS)).toEqual({ confirmed: [], failed: [] });
  });

  it('bounds validity by what any agent accepts, and one failing program does not stop the others', async () => {
    expect(MAX_DOCUMENT_VALIDITY_SECONDS).toBe(MAX_VALIDITY_SECONDS);
    const w = world({ known: 1, halted: 1 });
    const aggregator = new AckAggregator({
      store: { record: async () => ({ first: true }), counts: async (_p, seq) => ({ seq, halted: 1, collecting: 0, known: 1, silent: 0 }) },
      states: {
        list: async (p) => {
          if (p === 'broken') throw new Error('throttled');
          return [state('*', 'PAUSED', 2)];
        },
      },
      incidents: { record: async () => true },
      now: () => new Date(DUE),
    });
    expect(await aggregator.confirmByExpiry(['broken', 'mci'], SETTINGS)).toEqual({
      confirmed: ['inc-20261203-000000000001'],
      failed: [{ programId: 'broken', error: 'throttled' }],
    });
    expect(w.entries.size).toBe(0);
  });
});
