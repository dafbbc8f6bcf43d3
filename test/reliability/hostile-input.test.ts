import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { z } from 'zod';
import { parseAnomalyEvent } from '#shared/killswitch/anomaly-event.ts';
import { ProgramConfigSchema } from '#shared/schemas/config.ts';
import { OperatorCommandSchema } from '#shared/schemas/operator.ts';
import { FunctionUrlEventSchema } from '#shared/schemas/aws-events.ts';
import { ProgramStateSchema } from '#shared/schemas/program-state.ts';
import { parseOrThrow, ValidationError } from '#shared/domain/errors.ts';
import { parseFindingEvent } from '#shared/findings/normalise.ts';
import { parseGrantWork } from '#shared/grants/grant-work.ts';
import { parsePlanWork, parseSendBatch } from '#shared/notices/notice-work.ts';
import {
  anomalyEvent,
  findingEvent,
  functionUrlEvent,
  grantWork,
  hostile,
  operatorCommand,
  planWork,
  programState,
  sendBatch,
  type Hostile,
} from './arbitraries.ts';

/** 10,000 generated-and-broken inputs per entry point (the issue's bar); override with KILLSWITCH_FUZZ_RUNS. */
const RUNS = Number(process.env.KILLSWITCH_FUZZ_RUNS ?? 10_000);

type Outcome = { ok: true; value: unknown } | { ok: false; issues: { path: string; message: string }[] };

/** The parse step of each entry point, exactly as its handler runs it. */
/** Every program id is deployed here: the anomaly trigger's parse is tested on its own. */
const anyProgram = { find: (programId: string) => ProgramConfigSchema.parse({ programId, datasetIds: ['d'] }), all: () => [] };

/**
 * `minRejected`: the share of breakages that must be refused. The anomaly trigger refuses only
 * broken minimal fields (anomaly id, program, severity) and cleans the rest, naming each cleaned
 * field in the issues it keeps: free text never stands between a CRITICAL anomaly and the flag.
 */
const ENTRY_POINTS: { name: string; valid: fc.Arbitrary<unknown>; parse: (input: unknown) => Outcome; minRejected?: number }[] = [
  {
    name: 'Anomaly Detected event (anomaly-trigger)',
    valid: anomalyEvent,
    parse: viaString((body) => parseAnomalyEvent(body, anyProgram, new Date())),
    minRejected: 0.05,
  },
  { name: 'operator command (Function URL body)', valid: operatorCommand, parse: viaSchema(OperatorCommandSchema) },
  { name: 'Function URL request (operator)', valid: functionUrlEvent(operatorCommand), parse: viaSchema(FunctionUrlEventSchema) },
  {
    name: 'AWS finding events (finding-trigger)',
    valid: findingEvent,
    // Sample, archived and suppressed findings (most of the real corpus) are decided before their
    // strict fields: breaking those fields changes nothing, so fewer breakages are refused.
    minRejected: 0.25,
    parse: (input) => {
      const results = parseFindingEvent(input);
      const bad = results.filter((r) => !r.ok);
      return bad.length ? { ok: false, issues: bad.flatMap((r) => (r.ok ? [] : r.error.issues)) } : { ok: true, value: results };
    },
  },
  { name: 'grant work message (revoke-grants)', valid: grantWork, parse: viaString(parseGrantWork) },
  { name: 'notice plan message (plan-notices)', valid: planWork, parse: viaString(parsePlanWork) },
  { name: 'notice send batch (send-notices)', valid: sendBatch, parse: viaString(parseSendBatch) },
  { name: 'program state item (collector SDK)', valid: programState, parse: viaSchema(ProgramStateSchema) },
];

function viaSchema(schema: z.ZodType) {
  return (input: unknown): Outcome => {
    try {
      return { ok: true, value: parseOrThrow(schema, input, 'input') };
    } catch (error) {
      if (error instanceof ValidationError) return { ok: false, issues: error.issues };
      throw error;
    }
  };
}
/** SQS workers receive a string body. */
function viaString(parse: (body: string) => unknown) {
  return (input: unknown): Outcome => {
    try {
      return { ok: true, value: parse(typeof input === 'string' ? input : (JSON.stringify(input) ?? 'undefined')) };
    } catch (error) {
      if (error instanceof ValidationError) return { ok: false, issues: error.issues };
      throw error;
    }
  };
}

const isPlainObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);

describe.each(ENTRY_POINTS)('Hostile input: $name', ({ valid, parse, minRejected = 0.4 }) => {
  it('accepts every generated valid input', () => {
    fc.assert(
      fc.property(valid, (input) => parse(input).ok),
      { numRuns: Math.min(RUNS, 2_000) },
    );
  });

  it(`survives ${RUNS} broken inputs: no exception, no pollution, every rejection names a field`, () => {
    const tally: Record<string, number> = {};
    fc.assert(
      fc.property(hostile(valid), ({ input, field, how }: Hostile) => {
        const outcome = parse(input); // throws only on a bug: fast-check then shrinks and reports it
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        expect(Object.prototype).not.toHaveProperty('polluted');
        tally[`${how}:${outcome.ok ? 'accepted' : 'rejected'}`] = (tally[`${how}:${outcome.ok ? 'accepted' : 'rejected'}`] ?? 0) + 1;
        if (outcome.ok) {
          // What gets through is a plain value: unknown keys (and any "__proto__") are dropped.
          if (isPlainObject(outcome.value)) expect(Object.getPrototypeOf(outcome.value)).toBe(Object.prototype);
          expect(JSON.stringify(outcome.value) ?? '').not.toContain('"polluted"');
          return;
        }
        expect(outcome.issues.length).toBeGreaterThan(0);
        // "(root)" only when the input as a whole is wrong (not an object at all).
        if (how !== 'replaced') expect(outcome.issues.map((i) => i.path)).not.toContain('(root)');
        for (const issue of outcome.issues) {
          expect(issue.path).toMatch(/\S/);
          expect(issue.message).toMatch(/\S/);
          // Messages are ours or zod's: they never echo the offending value back (no data in logs).
          expect(issue.message.length).toBeLessThan(400);
        }
        // A broken field is named: by its own path or (for a discriminated union) by its discriminator.
        if (field !== undefined) {
          const named = outcome.issues.some((i) => i.path === field || i.path.startsWith(`${field}.`));
          expect(named, JSON.stringify(outcome.issues)).toBe(true);
        }
      }),
      { numRuns: RUNS },
    );
    console.log(`${expect.getState().currentTestName}: ${JSON.stringify(tally)}`);
    const rejected = Object.entries(tally)
      .filter(([k]) => k.endsWith(':rejected'))
      .reduce((n, [, v]) => n + v, 0);
    // Most breakages must be caught (some are harmless: an optional field dropped, an unknown key added).
    expect(rejected).toBeGreaterThan(RUNS * minRejected);
  });
});
