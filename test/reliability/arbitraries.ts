import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { sampleFindingEvent } from '#local/samples.ts';
import type { FindingSource } from '#shared/schemas/findings.ts';

/*
 * fast-check arbitraries for every event and command killswitch accepts, written beside the
 * schemas' tests: no maintained bridge generates fast-check arbitraries from zod 4 schemas
 * (zod-fast-check supports zod 3 and fast-check 3 only). Each yields valid inputs; `hostile`
 * then breaks them in the ways attackers and buggy producers do.
 */

type Json = Record<string, unknown>;

export const slug = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,20}$/);
const hex = (n: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${n}}$`));
export const incidentId = hex(12).map((h) => `inc-20261127-${h}`);
export const iso = fc
  .date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2030-01-01T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString());
/** Human text as operators and detectors write it: any script, emoji, combining marks, RTL, zero-width. */
export const humanText = fc
  .string({
    unit: fc.constantFrom(
      'a',
      'Z',
      ' ',
      'é',
      'ß',
      'Ω',
      '漢',
      '字',
      'ع',
      '\u05D0',
      '🙂',
      '👩‍💻',
      'e\u0301',
      '\u200B',
      '\u202E',
      '\u00A0',
      '.',
      '-',
      '\n',
      '\t',
    ),
    minLength: 1,
    maxLength: 120,
  })
  .filter((s) => s.trim().length > 0);
export const severity = fc.constantFrom('LOW', 'MEDIUM', 'HIGH', 'CRITICAL');
export const scope = fc.oneof(
  fc.constant('*'),
  slug.map((s) => `category#${s || 'x'}`),
);
export const uuid = fc.uuid({ version: 4 });
export const employeeId = fc.stringMatching(/^E[0-9]{6}$/);

export const anomalyDetail = fc.record(
  {
    anomalyId: fc.stringMatching(/^[A-Za-z0-9._:-]{1,40}$/),
    programId: fc.constantFrom('mci', 'other'),
    detector: humanText,
    severity,
    kind: fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
    datasetIds: fc.array(fc.constantFrom('keystrokes', 'mouse', 'transcripts'), { maxLength: 3 }),
    scope,
    exposure: fc.record({
      audience: humanText,
      principals: fc.array(fc.string({ minLength: 1, maxLength: 30 }), { maxLength: 3 }),
      window: fc.constant({ start: '2026-11-27T07:00:00Z', end: '2026-11-27T10:00:00Z' }),
    }),
    observedAt: iso,
    summary: humanText,
  },
  { requiredKeys: ['anomalyId', 'programId', 'detector', 'severity', 'kind', 'observedAt', 'summary'] },
);

const envelope = (source: fc.Arbitrary<string>, detailType: string, detail: fc.Arbitrary<unknown>) =>
  fc.record({
    version: fc.constant('0'),
    id: fc.uuid(),
    'detail-type': fc.constant(detailType),
    source,
    account: fc.constant('111111111111'),
    time: iso,
    region: fc.constant('eu-west-1'),
    resources: fc.constant([]),
    detail,
  });

export const anomalyEvent = envelope(fc.constantFrom('com.example.access-monitor', 'com.example.dlp'), 'Anomaly Detected', anomalyDetail);

export const operatorCommand = fc.oneof(
  fc.record(
    {
      action: fc.constant('pause'),
      programId: fc.constantFrom('mci', 'other'),
      scope,
      reason: humanText,
      idempotencyKey: fc.option(fc.stringMatching(/^[a-z0-9-]{1,30}$/), { nil: undefined }),
    },
    { requiredKeys: ['action', 'programId', 'reason'] },
  ),
  fc.record({ action: fc.constant('status'), programId: fc.constantFrom('mci', 'other') }, { requiredKeys: ['action'] }),
  fc.record({ action: fc.constant('request-resume'), programId: fc.constant('mci'), scope, reason: humanText, incidentId }),
  fc.record(
    { action: fc.constant('approve-resume'), programId: fc.constant('mci'), requestId: uuid, reason: humanText },
    { requiredKeys: ['action', 'programId', 'requestId'] },
  ),
  fc.record({ action: fc.constant('incident'), incidentId }),
  fc.record({ action: fc.constant('list-incidents'), limit: fc.integer({ min: 1, max: 100 }) }),
  fc.record({ action: fc.constant('restore-grants'), incidentId, reason: humanText }),
  fc.record({ action: fc.constant('approve-restore-grants'), requestId: uuid }),
  fc.record({ action: fc.constantFrom('notify', 'resend-failed'), incidentId, noticeType: fc.constant('exposure') }),
);

export const functionUrlEvent = (body: fc.Arbitrary<unknown>) =>
  fc.record({
    version: fc.constant('2.0'),
    rawPath: fc.constant('/'),
    headers: fc.constant({ 'content-type': 'application/json' }),
    requestContext: fc.record({
      accountId: fc.constant('111111111111'),
      requestId: fc.uuid(),
      http: fc.record({ method: fc.constant('POST'), path: fc.constant('/'), sourceIp: fc.constant('192.0.2.1') }),
      authorizer: fc.constant({
        iam: { userArn: 'arn:aws:sts::111111111111:assumed-role/KillswitchOperators/alice', accountId: '111111111111' },
      }),
    }),
    body: body.map((b) => JSON.stringify(b)),
    isBase64Encoded: fc.constant(false),
  });

/** The documented sample of each source, with its ids, times, severity and bucket varied. */
const sampleFinding = fc
  .record({
    source: fc.constantFrom('macie', 'guardduty', 'securityhub', 'securityhub-ocsf') as fc.Arbitrary<FindingSource>,
    at: fc.date({ min: new Date('2024-01-01T00:00:00Z'), max: new Date('2030-01-01T00:00:00Z'), noInvalidDate: true }),
    suffix: fc.stringMatching(/^[a-z0-9]{1,8}$/),
    bucket: fc.constantFrom('mci-keystrokes', 'mci-mouse', 'mci-transcripts', 'someone-else', 'Legacy_Bucket.2017'),
    level: fc.integer({ min: 0, max: 3 }),
  })
  .map(({ source, at, suffix, bucket, level }) => {
    const event = sampleFindingEvent(source, { at, suffix }) as unknown as { detail: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
    const d = event.detail;
    if (source === 'macie') {
      d.severity = { score: Math.max(1, level), description: ['Low', 'Low', 'Medium', 'High'][level] };
      d.resourcesAffected.s3Bucket.name = bucket;
    } else if (source === 'guardduty') {
      d.severity = [2, 5, 8, 9.5][level];
      d.resource.s3BucketDetails[0].name = bucket;
    } else if (source === 'securityhub') {
      d.findings[0].Severity = { Label: ['INFORMATIONAL', 'LOW', 'HIGH', 'CRITICAL'][level] };
      d.findings[0].Resources[0].Id = `arn:aws:s3:::${bucket}`;
    } else {
      d.findings[0].severity_id = [1, 2, 4, 5][level];
      d.findings[0].resources[0].uid = `arn:aws:s3:::${bucket}`;
      d.findings[0].resources[0].name = bucket;
    }
    return event as unknown;
  });

/** Every event of the corpus of real AWS finding events (test/fixtures/aws-events), as AWS emitted it. */
const CORPUS = join(import.meta.dirname, '../fixtures/aws-events');
export const corpusEvents: unknown[] = readdirSync(CORPUS, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(CORPUS, f), 'utf8')) as unknown);

/** Finding events: our samples varied, and the real events of the corpus. */
export const findingEvent = fc.oneof(
  sampleFinding,
  fc.constantFrom(...corpusEvents).map((e) => structuredClone(e)),
);

export const grantWork = fc.oneof(
  fc.record(
    {
      type: fc.constant('revoke'),
      incidentId,
      programId: fc.constant('mci'),
      datasetIds: fc.array(fc.constantFrom('keystrokes', 'mouse'), { minLength: 1, maxLength: 2 }),
      datasetIndex: fc.nat(2),
      cursor: fc.option(fc.string(), { nil: undefined }),
      continuation: fc.nat(10),
    },
    { requiredKeys: ['type', 'incidentId', 'programId', 'datasetIds'] },
  ),
  fc.record({
    type: fc.constant('restore'),
    incidentId,
    programId: fc.constant('mci'),
    requestId: uuid,
    approvedBy: fc.constant('arn:aws:sts::1:assumed-role/Ops/bob'),
  }),
);
export const planWork = fc.record(
  {
    type: fc.constant('plan'),
    incidentId,
    programId: fc.constant('mci'),
    mode: fc.constantFrom('all', 'failed'),
    datasetIds: fc.array(fc.constantFrom('keystrokes', 'mouse'), { minLength: 1, maxLength: 2 }),
    after: fc.option(employeeId, { nil: undefined }),
  },
  { requiredKeys: ['type', 'incidentId', 'programId', 'datasetIds'] },
);
export const sendBatch = fc.record({
  type: fc.constant('send'),
  incidentId,
  noticeType: fc.constant('exposure'),
  employeeIds: fc.array(employeeId, { minLength: 1, maxLength: 50 }),
});
export const programState = fc.record({
  programId: slug.filter((s) => s.length > 0),
  scope,
  status: fc.constantFrom('ACTIVE', 'PAUSED'),
  version: fc.integer({ min: 1, max: 1_000_000 }),
  changedAt: iso,
  changedBy: fc.constant('detector:access-monitor'),
  changedByVerified: fc.boolean(),
  reason: fc.string(),
  trigger: fc.constantFrom('SEED', 'ANOMALY', 'OPERATOR', 'BREAK_GLASS', 'RESUME'),
});

// ---------------------------------------------------------------------------------------------
// Breaking valid inputs
// ---------------------------------------------------------------------------------------------

/** Values no field of ours accepts in place of another, plus the classics. */
const badValue = fc.oneof(
  fc.constantFrom(
    null,
    true,
    0,
    -1,
    Number.POSITIVE_INFINITY,
    Number.NaN,
    '',
    ' ',
    '\u0000',
    '\uD800',
    '\u202Eevil',
    'a'.repeat(300_000),
    [],
    {},
    [[[[]]]],
    '__proto__',
    'constructor',
  ),
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ unit: 'binary', maxLength: 50 }),
);

/** A value nested `depth` levels deep (arrays or objects). */
const deep = (depth: number, leaf: unknown = 1): unknown => {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { d: v };
  return v;
};

export interface Hostile {
  input: unknown;
  /** Top-level field the mutation broke, when it broke one field. */
  field?: string;
  how: string;
}

const paths = (value: unknown, prefix: string[] = [], out: string[][] = []): string[][] => {
  if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      out.push([...prefix, k]);
      if (prefix.length < 6) paths(v, [...prefix, k], out);
    }
  }
  return out;
};

const setAt = (root: Json, path: string[], fn: (parent: Record<string, unknown>, key: string) => void) => {
  let node: Record<string, unknown> = root;
  for (const k of path.slice(0, -1)) node = node[k] as Record<string, unknown>;
  fn(node, path.at(-1)!);
};

/**
 * A valid input broken in one way: a field dropped or replaced by a bad value, prototype-pollution
 * keys injected, deep nesting, an oversized payload, or the whole input replaced.
 */
export const hostile = (valid: fc.Arbitrary<unknown>): fc.Arbitrary<Hostile> =>
  fc
    .tuple(valid, fc.nat(), fc.integer({ min: 0, max: 6 }), badValue, fc.constantFrom('__proto__', 'constructor', 'prototype'))
    .map(([v, pick, how, bad, pollutionKey]) => {
      const input = structuredClone(v) as Json;
      const all = paths(input);
      const path = all.length ? all[pick % all.length]! : undefined;
      switch (path ? how : 6) {
        case 0:
          setAt(input, path!, (parent, key) => delete parent[key]);
          return { input, field: path![0], how: 'dropped' };
        case 1:
        case 2:
          setAt(input, path!, (parent, key) => (parent[key] = bad));
          return { input, field: path![0], how: 'bad value' };
        case 3:
          // JSON.parse makes "__proto__" an own property, as a request body would.
          setAt(input, path!, (parent, key) => (parent[key] = JSON.parse(`{"${pollutionKey}": {"polluted": true}, "toString": 1}`)));
          return {
            input: JSON.parse(JSON.stringify(input).replace(/^\{/, `{"${pollutionKey}":{"polluted":true},`)),
            field: path![0],
            how: 'prototype pollution',
          };
        case 4:
          setAt(input, path!, (parent, key) => (parent[key] = deep(1_000)));
          return { input, field: path![0], how: 'deep nesting' };
        case 5:
          return { input: { ...input, padding: 'x'.repeat(300_000) }, how: 'oversized' };
        default:
          return { input: bad, how: 'replaced' };
      }
    });
