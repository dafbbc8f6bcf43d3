import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { startLocalStack, type LocalStack } from '#local/stack.ts';
import { seedGrants, seedPrograms, seedDataSubjects } from '#local/seed.ts';
import { parseAnomalyEvent } from '#shared/killswitch/anomaly-event.ts';
import { ProgramRegistry } from '#shared/runtime/env.ts';
import { OperatorCommandSchema } from '#shared/schemas/operator.ts';
import { parseFindingEvent } from '#shared/findings/normalise.ts';
import { ALICE, asSqsEvent, drainAll, operatorCall } from '../support/local.ts';
import { anomalyEvent, findingEvent, hostile, operatorCommand } from './arbitraries.ts';

/** Invalid inputs per external entry point, through the real functions on the local stack. */
const PER_ENTRY_POINT = Number(process.env.KILLSWITCH_INVALID_E2E ?? 200);

describe('Invalid input changes nothing (end to end, local stack)', () => {
  let stack: LocalStack;
  let ddb: DynamoDBClient;

  /** Every item of every table, in a stable order. */
  const snapshot = async () => {
    const out: Record<string, string[]> = {};
    for (const [role, table] of Object.entries(stack.tables)) {
      const items: string[] = [];
      let ExclusiveStartKey: Record<string, never> | undefined;
      do {
        const page = await ddb.send(new ScanCommand({ TableName: table, ExclusiveStartKey }));
        items.push(...(page.Items ?? []).map((i) => JSON.stringify(i, Object.keys(i).sort())));
        ExclusiveStartKey = page.LastEvaluatedKey as typeof ExclusiveStartKey;
      } while (ExclusiveStartKey);
      out[role] = items.sort();
    }
    return out;
  };
  const invalid = (arb: fc.Arbitrary<unknown>, isInvalid: (input: unknown) => boolean) =>
    fc.sample(
      hostile(arb)
        .map((h) => h.input)
        .filter(isInvalid),
      { numRuns: PER_ENTRY_POINT, seed: 42 },
    );

  beforeAll(async () => {
    stack = await startLocalStack({ asyncRetryDelaysMs: [10, 20] });
    await seedPrograms(stack);
    await seedGrants(stack, 5);
    await seedDataSubjects(stack, 50);
    ddb = new DynamoDBClient({});
  }, 120_000);
  afterAll(() => stack?.stop());

  it('anomaly-trigger: keeps each whose minimal fields (anomaly id, program, severity) are broken in the DLQ, naming the field; no table changes', async () => {
    // Broken free text (summary, detector, kind, exposure…) is cleaned and still pauses: that is the promise, tested in test/model.
    const programs = new ProgramRegistry(stack.config.programs);
    const unpausable = (i: unknown) => {
      try {
        parseAnomalyEvent(JSON.stringify(i), programs, new Date());
        return false;
      } catch {
        return true;
      }
    };
    const before = await snapshot();
    const inputs = invalid(anomalyEvent, unpausable);
    for (const input of inputs)
      expect(await stack.functions.invoke('anomaly-trigger', asSqsEvent(input))).toEqual({ batchItemFailures: [] });
    const kept = await drainAll(stack, 'AnomalyTriggerIntakeDlq');
    expect(kept).toHaveLength(inputs.length);
    for (const m of kept) expect(m.MessageAttributes?.ErrorMessage?.StringValue).toMatch(/^invalid Anomaly Detected event: \S+: /);
    expect(await snapshot()).toEqual(before);
  });

  it('finding-trigger: rejects each (kept for replay), pauses nothing; no table changes', async () => {
    const before = await snapshot();
    const inputs = invalid(findingEvent, (i) => parseFindingEvent(i).every((r) => !r.ok));
    for (const input of inputs)
      expect(await stack.functions.invoke('finding-trigger', asSqsEvent(input))).toEqual({ batchItemFailures: [] });
    const rejected = await drainAll(stack, 'FindingTriggersRejectedFindings');
    expect(rejected.length).toBe(inputs.reduce<number>((n, i) => n + parseFindingEvent(i).length, 0));
    expect(await snapshot()).toEqual(before);
  });

  it('operator Function URL: answers 400 naming the field; no table changes', async () => {
    const before = await snapshot();
    for (const command of invalid(operatorCommand, (i) => !OperatorCommandSchema.safeParse(i).success)) {
      const { status, body } = await operatorCall(stack, ALICE, command);
      expect(status).toBe(400);
      expect(body).toMatchObject({
        ok: false,
        error: { kind: 'BAD_INPUT', issues: expect.arrayContaining([expect.objectContaining({ path: expect.stringMatching(/\S/) })]) },
      });
    }
    expect(await snapshot()).toEqual(before);
  });
});
