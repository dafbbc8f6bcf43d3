import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { INVARIANTS } from './invariants.ts';
import { modelProperty } from './run.ts';
import { systemV2 } from './system-v2.ts';
import { modelWorld } from './world.ts';

/** Sequences per run: at least 1,000 in CI (MODEL_RUNS raises it for a longer hunt). */
const RUNS = Math.max(1000, Number(process.env.MODEL_RUNS ?? 1000));
/** The seed is printed; MODEL_SEED=<seed> replays a failing run exactly (and fast-check prints the shrunk counterexample). */
const SEED = Number(process.env.MODEL_SEED ?? Date.now() % 2 ** 31);

describe('Model: the kill switch keeps its promises over any sequence of commands, crashes, outages, duplicates and forgeries', () => {
  const world = modelWorld();

  it('simulates delivery as the synthesized templates configure it', () => {
    const { facts } = world;
    // The durable intake: SQS, redelivered for far longer than a multi-hour DynamoDB outage.
    expect(facts.anomalyDelivery).toMatchObject({ kind: 'sqs' });
    if (facts.anomalyDelivery.kind === 'sqs')
      expect(facts.anomalyDelivery.visibilityMs * facts.anomalyDelivery.maxReceives).toBeGreaterThan(24 * 3_600_000);
    expect(facts.detectorsCanPublishDomainEvents).toBe(false);
    expect(facts.anyRuleCanEnqueueGrantWork).toBe(false);
    // A redelivered send batch always finds a dead sender's claim stale.
    if (facts.sendWork.kind === 'sqs') expect(facts.noticeStaleClaimMs).toBeLessThan(facts.sendWork.visibilityMs);
  });

  it(`holds every invariant after every step of ${RUNS} sequences`, async () => {
    console.log(
      `model test: seed ${SEED}, ${RUNS} sequences of up to 14 commands (replay with MODEL_SEED=${SEED}); invariants: ${Object.keys(INVARIANTS).join(', ')}`,
    );
    const stats: Record<string, number> = {};
    const started = Date.now();
    await fc.assert(
      modelProperty(world.db, world.facts, systemV2, () => true, { stats }),
      { numRuns: RUNS, seed: SEED },
    );
    console.log(`model test: ${RUNS} sequences in ${((Date.now() - started) / 1000).toFixed(0)} s; ${JSON.stringify(stats)}`);
    // The sequences reach what they are meant to: resumes, restores, notices, escalations, forgeries.
    expect(stats.resumes).toBeGreaterThan(10);
    expect(stats.restores).toBeGreaterThan(10);
    expect(stats.notifications).toBeGreaterThan(50);
    expect(stats['pause:PAUSED']).toBeGreaterThan(50);
    expect(stats['pause:ALREADY_PAUSED']).toBeGreaterThan(10);
    expect(stats['forged events refused']).toBeGreaterThan(20);
  }, 1_500_000);
});
