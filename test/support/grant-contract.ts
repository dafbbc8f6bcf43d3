import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { GrantRevoker } from '#shared/grants/revoker.ts';
import { GrantRestorer } from '#shared/grants/restorer.ts';
import type { RevocationSnapshot, RestoreOutcome } from '#shared/schemas/grants.ts';
import type { GrantBackend, RevocationCounts, RevocationRecords, UnrevokedEntry } from '#shared/grants/ports.ts';

/**
 * One access system behind GrantBackend, as the contract sees it: a dataset with one owner
 * entry and one entry of somebody else (the over-broad access of the incident).
 */
export interface ContractWorld {
  backend: GrantBackend;
  datasetId: string;
  /** A fresh dataset: the owner's entry and the exposed one, in force. */
  reset(): Promise<void>;
  /** Is the exposed entry in force, in the access system itself? */
  exposedInForce(): Promise<boolean>;
  /** Is the owner's entry in force? (It must always be.) */
  ownerInForce(): Promise<boolean>;
  /** Change the exposed entry while it is revoked, so that giving it back is no longer "exactly as it was"; absent when the system has no such notion. */
  changeWhileRevoked?(): Promise<void>;
  /** Make the exposed entry impossible to revoke (the system would refuse or cannot); absent when nothing can. */
  makeUnrevocable?(): Promise<void>;
}

/** The ledger's revocation records, in memory: keyed as the DynamoDB ledger keys them. */
export class MemoryRevocations implements RevocationRecords {
  readonly snapshotsByIncident = new Map<string, Map<string, RevocationSnapshot>>();
  readonly unrevokedEntries = new Map<string, UnrevokedEntry>();
  readonly restores = new Map<string, { outcome: RestoreOutcome; reason?: string }>();
  readonly done = new Map<string, Set<string>>();
  #key = (s: RevocationSnapshot) => `${s.datasetId}#${s.backend}#${s.key ?? `${s.principal}#${s.permission}`}`;
  async recordSnapshots(snapshots: RevocationSnapshot[]) {
    for (const s of snapshots) {
      const m = this.snapshotsByIncident.get(s.incidentId) ?? new Map();
      m.set(this.#key(s), s);
      this.snapshotsByIncident.set(s.incidentId, m);
    }
  }
  async snapshots(incidentId: string) {
    return { snapshots: [...(this.snapshotsByIncident.get(incidentId)?.values() ?? [])] };
  }
  async recordRestore(requestId: string, snapshot: RevocationSnapshot, outcome: RestoreOutcome, _at: Date, reason?: string) {
    const key = `${requestId}#${this.#key(snapshot)}`;
    if (this.restores.has(key)) return false;
    this.restores.set(key, { outcome, ...(reason ? { reason } : {}) });
    return true;
  }
  async recordUnrevoked(entries: UnrevokedEntry[]) {
    for (const e of entries) {
      const key = `${e.incidentId}#${e.datasetId}#${e.backend}#${e.key}`;
      if (!this.unrevokedEntries.has(key)) this.unrevokedEntries.set(key, e);
    }
  }
  async unrevoked(incidentId: string) {
    return [...this.unrevokedEntries.values()].filter((e) => e.incidentId === incidentId);
  }
  async counts(incidentId: string, requestId?: string): Promise<RevocationCounts> {
    const snaps = [...(this.snapshotsByIncident.get(incidentId)?.values() ?? [])];
    const restores = [...this.restores.entries()].filter(([k]) => requestId && k.startsWith(`${requestId}#`)).map(([, v]) => v);
    const byBackend: Record<string, number> = {};
    for (const s of snaps) byBackend[s.backend] = (byBackend[s.backend] ?? 0) + 1;
    return {
      revoked: snaps.filter((s) => s.previousStatus === 'ACTIVE').length,
      alsoHeld: snaps.filter((s) => s.previousStatus === 'REVOKED').length,
      restored: restores.filter((r) => r.outcome === 'RESTORED').length,
      stillHeld: restores.filter((r) => r.outcome === 'STILL_HELD').length,
      skipped: restores.filter((r) => r.outcome === 'SKIPPED').length,
      notRevoked: (await this.unrevoked(incidentId)).length,
      byBackend,
    };
  }
  async markDatasetDone(incidentId: string, datasetId: string) {
    const s = this.done.get(incidentId) ?? new Set();
    const added = !s.has(datasetId);
    s.add(datasetId);
    this.done.set(incidentId, s);
    return added;
  }
  async datasetsDone(incidentId: string) {
    return this.done.get(incidentId) ?? new Set<string>();
  }
  async datasetCounts(incidentId: string, datasetId: string) {
    const snaps = [...(this.snapshotsByIncident.get(incidentId)?.values() ?? [])].filter((s) => s.datasetId === datasetId);
    return {
      revoked: snaps.filter((s) => s.previousStatus === 'ACTIVE').length,
      notRevoked: (await this.unrevoked(incidentId)).filter((e) => e.datasetId === datasetId).length,
    };
  }
}

const INCIDENTS = ['inc-20261202-aaaaaaaaaaaa', 'inc-20261202-bbbbbbbbbbbb'] as const;
const always = { hasTime: () => true };
let requests = 0;
const requestId = () => `00000000-0000-4000-8000-${String(++requests).padStart(12, '0')}`;

/** The use cases themselves (revoker, restorer) over the world's backend and an in-memory ledger. */
export function useCases(world: ContractWorld, ledger = new MemoryRevocations()) {
  const revoker = new GrantRevoker(world.backend, ledger, { pageSize: 2 });
  const restorer = new GrantRestorer(world.backend, ledger, { pageSize: 2 });
  return {
    ledger,
    revoke: (incidentId: string) =>
      revoker.run(
        {
          type: 'revoke',
          incidentId,
          programId: 'mci',
          datasetIds: [world.datasetId],
          datasetIndex: 0,
          counts: { scanned: 0, owners: 0, notRevoked: 0 },
          continuation: 0,
        },
        always,
      ),
    restore: async (incidentId: string) => {
      const id = requestId();
      await restorer.run({ type: 'restore', incidentId, programId: 'mci', requestId: id, continuation: 0 }, always, 'bob@example.com');
      return [...ledger.restores.entries()].filter(([k]) => k.startsWith(`${id}#`)).map(([, v]) => v);
    },
  };
}

/**
 * The contract every grant backend passes (issue 16): revoking twice is revoking once; two
 * incidents on one entry; an entry comes back only when no incident holds it and nobody changed
 * it since; what cannot be done is reported. The property runs random sequences of revokes and
 * restores by two incidents, each delivered once or twice, one at a time or both at once, and
 * after every step compares the access system itself with the model: the exposed entry is in
 * force exactly when no incident holds it, and the owner's always is.
 */
export function grantBackendContract(name: string, world: () => ContractWorld, options: { runs?: number; timeoutMs?: number } = {}) {
  const timeout = options.timeoutMs ?? 240_000;
  describe(`GrantBackend contract: ${name}`, () => {
    it(
      'revokes the exposed entry once however often it is delivered, and never the owner',
      async () => {
        const w = world();
        await w.reset();
        const { revoke, ledger } = useCases(w);
        const first = await revoke(INCIDENTS[0]);
        const again = await revoke(INCIDENTS[0]);
        expect(first.done && first.counts.revoked).toBe(1);
        expect(again.done && again.counts.revoked).toBe(1);
        expect(ledger.snapshotsByIncident.get(INCIDENTS[0])?.size).toBe(1);
        expect(await w.exposedInForce()).toBe(false);
        expect(await w.ownerInForce()).toBe(true);
      },
      timeout,
    );

    it(
      'holds for two incidents: the first restore leaves it revoked, the last gives it back',
      async () => {
        const w = world();
        await w.reset();
        const { revoke, restore } = useCases(w);
        await revoke(INCIDENTS[0]);
        const second = await revoke(INCIDENTS[1]);
        expect(second.done && second.counts.alsoHeld + second.counts.revoked).toBe(1);
        expect((await restore(INCIDENTS[0])).map((r) => r.outcome)).toEqual(['STILL_HELD']);
        expect(await w.exposedInForce()).toBe(false);
        expect((await restore(INCIDENTS[1])).map((r) => r.outcome)).toEqual(['RESTORED']);
        expect(await w.exposedInForce()).toBe(true);
        expect(await w.ownerInForce()).toBe(true);
      },
      timeout,
    );

    it(
      'does not give back an entry changed since it was revoked, and says so',
      async (ctx) => {
        const w = world();
        if (!w.changeWhileRevoked) {
          // The system keeps no version of an entry (a quarantine statement is the incident's own): nothing to compare.
          expect(w.changeWhileRevoked).toBeUndefined();
          return;
        }
        await w.reset();
        const { revoke, restore } = useCases(w);
        await revoke(INCIDENTS[0]);
        await w.changeWhileRevoked();
        const outcomes = await restore(INCIDENTS[0]);
        expect(outcomes.map((r) => r.outcome)).toEqual(['SKIPPED']);
        expect(outcomes[0]!.reason).toBeTruthy();
        ctx.annotate(outcomes[0]!.reason!);
      },
      timeout,
    );

    it(
      'reports what it could not revoke, in the ledger, instead of passing it off as done',
      async () => {
        const w = world();
        if (!w.makeUnrevocable) {
          expect(w.makeUnrevocable).toBeUndefined();
          return;
        }
        await w.reset();
        await w.makeUnrevocable();
        const { revoke, ledger } = useCases(w);
        const step = await revoke(INCIDENTS[0]);
        expect(step.done && step.counts.notRevoked).toBeGreaterThanOrEqual(1);
        const [entry] = await ledger.unrevoked(INCIDENTS[0]);
        expect(entry?.reason).toBeTruthy();
        expect(await w.ownerInForce()).toBe(true);
      },
      timeout,
    );

    type Op = { kind: 'revoke' | 'restore'; incident: 0 | 1; twice: boolean } | { kind: 'both'; op: 'revoke' | 'restore' };
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      fc.record({
        kind: fc.constantFrom('revoke' as const, 'restore' as const),
        incident: fc.constantFrom(0 as const, 1 as const),
        twice: fc.boolean(),
      }),
      fc.record({ kind: fc.constant('both' as const), op: fc.constantFrom('revoke' as const, 'restore' as const) }),
    );

    it(
      'matches the model over random revokes and restores by two incidents, duplicated and concurrent',
      async () => {
        await fc.assert(
          fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 6 }), async (ops) => {
            const w = world();
            await w.reset();
            const { revoke, restore } = useCases(w);
            const held = new Set<number>();
            const act = async (kind: 'revoke' | 'restore', i: 0 | 1) => {
              if (kind === 'revoke') await revoke(INCIDENTS[i]);
              else await restore(INCIDENTS[i]);
            };
            for (const op of ops) {
              if (op.kind === 'both') {
                await Promise.all([act(op.op, 0), act(op.op, 1)]);
                for (const i of [0, 1]) {
                  if (op.op === 'revoke') held.add(i);
                  else held.delete(i);
                }
              } else {
                await act(op.kind, op.incident);
                if (op.twice) await act(op.kind, op.incident);
                if (op.kind === 'revoke') held.add(op.incident);
                else held.delete(op.incident);
              }
              expect(await w.exposedInForce(), `after ${JSON.stringify(op)} with holders ${[...held].join(',')}`).toBe(held.size === 0);
              expect(await w.ownerInForce()).toBe(true);
            }
          }),
          { numRuns: Number(process.env.KILLSWITCH_CONTRACT_RUNS ?? options.runs ?? 12), endOnFailure: true },
        );
      },
      timeout * 3,
    );
  });
}
