import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { ProgramStateStore } from '#shared/adapters/dynamodb/program-state-store.ts';
import { fleetNow, startCollectorFleet } from '#local/collector-fleet.ts';
import { benchDb, percentile, round } from './support.ts';

/** Strongly consistent Queries per second the embedded DynamoDB serves (closed loop, 16 in flight). */
async function capacity(db: Awaited<ReturnType<typeof benchDb>>, seconds: number): Promise<number> {
  let reads = 0;
  const until = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (performance.now() < until) {
        await db.client.send(
          new QueryCommand({
            TableName: db.tables.programState,
            KeyConditionExpression: 'programId = :p',
            ExpressionAttributeValues: { ':p': { S: 'bench' } },
            ConsistentRead: true,
          }),
        );
        reads++;
      }
    }),
  );
  return reads / seconds;
}

/**
 * propagation: collectors (KillSwitchGate each) at refresh R, one pause; time from the acknowledged
 * pause until each collector's allowed() is false, and reads per collector per second. Collectors
 * are grouped into hosts that share one read per interval, with as many hosts as keep the reads
 * within 30 % of the embedded DynamoDB's measured capacity (the baseline printed).
 * Targets: max ≤ R + 50 ms; reads per collector per second ≤ 1.05 / R.
 */
export async function propagation({ quick }: { quick: boolean }) {
  const scenarios = quick
    ? [{ collectors: 50, refreshIntervalMs: 250 }]
    : [
        { collectors: 200, refreshIntervalMs: 250 },
        { collectors: 1000, refreshIntervalMs: 1000 },
      ];
  const db = await benchDb();
  try {
    const store = new ProgramStateStore(db.doc, db.tables.programState);
    await store.register('bench', new Date());
    const readsPerSecCapacity = await capacity(db, quick ? 1 : 3);
    const results = [];
    for (const [n, s] of scenarios.entries()) {
      const programId = `prop-${n}`;
      await store.register(programId, new Date());
      const hosts = Math.max(1, Math.min(s.collectors, Math.floor((0.3 * readsPerSecCapacity * s.refreshIntervalMs) / 1000)));
      const perHost = Math.ceil(s.collectors / hosts);
      const fleet = await startCollectorFleet({
        count: s.collectors,
        endpoint: db.dynamo.endpoint,
        region: 'eu-west-1',
        tableName: db.tables.programState,
        programId,
        refreshIntervalMs: s.refreshIntervalMs,
        collectorsPerHost: perHost,
      });
      try {
        const until = performance.now() + 20 * s.refreshIntervalMs;
        while ((await fleet.status()).allowed < s.collectors && performance.now() < until) await new Promise((r) => setTimeout(r, 50));
        const window = quick ? 1000 : 3000;
        const before = (await fleet.status()).reads;
        await new Promise((r) => setTimeout(r, window));
        const readsPerCollectorPerSec = ((await fleet.status()).reads - before) / s.collectors / (window / 1000);
        await store.pause({
          programId,
          scope: '*',
          incidentId: 'inc-20261127-000000000001',
          attemptId: 'bench',
          summary: 'bench',
          verified: true,
          trigger: 'OPERATOR',
          at: new Date(),
        });
        const pausedAt = fleetNow();
        const deadline = performance.now() + 5 * s.refreshIntervalMs + 2000;
        while (fleet.haltedAt.some((t) => t === undefined) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        const halts = fleet.haltedAt.filter((t): t is number => t !== undefined).map((t) => t - pausedAt);
        results.push({
          collectors: s.collectors,
          refreshIntervalMs: s.refreshIntervalMs,
          hosts: Math.ceil(s.collectors / perHost),
          collectorsPerHost: perHost,
          halted: halts.length,
          haltMs: { p50: round(percentile(halts, 50)), p99: round(percentile(halts, 99)), max: round(Math.max(...halts)) },
          readsPerCollectorPerSec: round(readsPerCollectorPerSec, 3),
          targets: { maxHaltMs: s.refreshIntervalMs + 50, readsPerCollectorPerSec: round(1.05 / (s.refreshIntervalMs / 1000), 3) },
        });
      } finally {
        await fleet.stop();
      }
    }
    return { name: 'propagation', baseline: { readsPerSecCapacity: Math.round(readsPerSecCapacity) }, scenarios: results };
  } finally {
    await db.stop();
  }
}
