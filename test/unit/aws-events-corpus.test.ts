import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Template } from 'aws-cdk-lib/assertions';
import { parseFindingEvent, type NormalisedFinding } from '#shared/findings/normalise.ts';
import { FindingIntake, type FindingOutcome } from '#shared/findings/intake.ts';
import { ResourceMap } from '#shared/findings/resource-map.ts';
import { decide } from '#shared/domain/policy.ts';
import { FindingMapSchema, type FindingMapInput } from '#shared/schemas/findings.ts';
import { ProgramConfigSchema } from '#shared/schemas/config.ts';
import type { AnomalyDetail } from '#shared/schemas/anomaly.ts';
import { matchesEventPattern } from '#local/event-pattern.ts';
import { sampleApp } from '../support/cdk.ts';

/*
 * The corpus: EventBridge events as Amazon Macie, Amazon GuardDuty and AWS Security Hub (ASFF and
 * OCSF) emit them, gathered from AWS documentation, AWS sample repositories and open-source
 * projects, never written here (test/fixtures/aws-events/SOURCES.md says where each came from).
 *
 * Every finding in it must parse: a real event that is rejected is a bug in our parser, not in the
 * event. What the rules and the intake make of each is recorded next to the corpus, in
 * OUTCOMES.md (a file snapshot: a change of outcome shows in review).
 */

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const CORPUS = join(import.meta.dirname, '../fixtures/aws-events');

function corpusFiles(dir = CORPUS): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? corpusFiles(join(dir, e.name)) : e.name.endsWith('.json') ? [join(dir, e.name)] : []))
    .sort();
}

/**
 * A deployment's mapping of some of the corpus's own buckets and accounts, as an operator would
 * write it: a legacy bucket name (uppercase, from AWS's documentation), a documentation bucket,
 * and accounts for identity findings.
 */
const CORPUS_MAP: FindingMapInput = {
  s3: [
    { bucket: 'DOC-EXAMPLE-BUCKET1', programId: 'corpus', datasetId: 'legacy' },
    { bucket: 'amzn-s3-demo-bucket', programId: 'corpus', datasetId: 'docs' },
  ],
  accounts: [{ account: '123456789012', programId: 'corpus' }],
};
const PROGRAM = ProgramConfigSchema.parse({ programId: 'corpus', datasetIds: ['legacy', 'docs', 'other'] });

function intakeFor(handled: AnomalyDetail[]) {
  return new FindingIntake({
    map: new ResourceMap(FindingMapSchema.parse(CORPUS_MAP)),
    trigger: {
      handle: async (a) => (handled.push(a), { outcome: 'RECORDED', incidentId: 'inc-20261201-000000000000', escalated: false }),
      coveredBy: async () => undefined,
    },
    incidents: { record: async () => true },
    findings: { recordUnmapped: async () => true },
  });
}

function describeOutcome(outcome: FindingOutcome, anomalies: AnomalyDetail[]): string {
  if (outcome.outcome === 'IGNORED') return outcome.reason === 'UNMAPPED' ? 'unmapped' : `ignored: ${outcome.reason}`;
  return anomalies
    .map((a) => `${decide(PROGRAM, a).action} ${a.programId}/${a.datasetIds.join('+') || '*'} (${a.severity} ${a.kind})`)
    .join('; ');
}

describe('Corpus of real AWS finding events (test/fixtures/aws-events)', () => {
  const files = corpusFiles();
  let patterns: [string, unknown][];

  beforeAll(() => {
    const { stateless }: { stateless: Template } = sampleApp();
    patterns = Object.entries(stateless.findResources('AWS::Events::Rule'))
      .filter(([id, r]) => id.startsWith('FindingTriggers') && r.Properties.EventPattern)
      .map(([id, r]) => [id.replace(/^FindingTriggers|Rule[0-9A-F]{8}$/g, ''), r.Properties.EventPattern]);
  });

  it('holds at least 30 events, each listed in SOURCES.md with where it came from', () => {
    expect(files.length).toBeGreaterThanOrEqual(30);
    const sources = readFileSync(join(CORPUS, 'SOURCES.md'), 'utf8');
    const listed = new Set([...sources.matchAll(/^\| `([^`]+\.json)` \|/gm)].map((m) => m[1]));
    expect([...listed].sort()).toEqual(files.map((f) => relative(CORPUS, f)).sort());
    for (const file of files) {
      const row = sources.split('\n').find((l) => l.startsWith(`| \`${relative(CORPUS, file)}\` |`))!;
      // file | source | taken as | licence | what it is
      expect(row.split(' | ').length, `${relative(CORPUS, file)}: a row of five columns`).toBeGreaterThanOrEqual(5);
    }
  });

  it('covers what AWS emits: every source and format, samples, archived, updated, multi-finding, S3 and IAM, unrelated resources', () => {
    const events = files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as Json);
    const kinds = new Set(events.map((e) => `${e.source} / ${e['detail-type']}`));
    expect([...kinds].sort()).toEqual([
      'aws.guardduty / GuardDuty Finding',
      'aws.macie / Macie Finding',
      'aws.securityhub / Findings Imported V2',
      'aws.securityhub / Security Hub Findings - Imported',
    ]);
    const findings = files.flatMap((f) => parseFindingEvent(JSON.parse(readFileSync(f, 'utf8'))));
    const ok = findings.flatMap((p) => (p.ok ? [p.finding] : []));
    const has = (what: string, test: (f: NormalisedFinding) => boolean) => expect(ok.some(test), what).toBe(true);
    has('a sample finding', (f) => f.sample);
    has('an archived or resolved finding', (f) => f.archived);
    has('an S3 bucket finding', (f) => f.resources.some((r) => r.kind === 's3' && r.key === undefined));
    has('an S3 object finding', (f) => f.resources.some((r) => r.kind === 's3' && r.key !== undefined));
    has('an IAM finding', (f) => f.resources.some((r) => r.kind === 'identity'));
    has('a finding seen more than once', (f) => (f.report.count ?? 0) > 1);
    has('a copy of a GuardDuty or Macie finding in Security Hub', (f) => f.copyOf !== undefined);
    has('a finding about an unrelated resource', (f) => f.resourceTypes.some((t) => /Ec2|Instance|Kubernetes|Eks|Ecr/i.test(t)));
    expect(events.some((e) => Array.isArray(e.detail?.findings) && e.detail.findings.length > 1)).toBe(true);
  });

  it('parses every finding of every event: none is rejected', () => {
    const rejected = files.flatMap((file) =>
      parseFindingEvent(JSON.parse(readFileSync(file, 'utf8'))).flatMap((p) =>
        p.ok ? [] : [`${relative(CORPUS, file)}: ${p.error.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`],
      ),
    );
    expect(rejected).toEqual([]);
  });

  it('records what the rules and the intake make of each finding (OUTCOMES.md)', async () => {
    const rows: string[] = [];
    for (const file of files) {
      const event = JSON.parse(readFileSync(file, 'utf8')) as Json;
      const rules = patterns.filter(([, p]) => matchesEventPattern(p, event)).map(([name]) => name);
      for (const parsed of parseFindingEvent(event)) {
        if (!parsed.ok) throw parsed.error;
        const handled: AnomalyDetail[] = [];
        const outcome = await intakeFor(handled).handle(parsed.finding);
        const f = parsed.finding;
        rows.push(
          `| \`${relative(CORPUS, file)}\` | ${f.type} | ${f.report.severity} | ${rules.join(', ') || 'none'} | ${describeOutcome(outcome, handled)} |`,
        );
      }
    }
    const table = [
      '# What killswitch makes of the corpus',
      '',
      'Generated by `test/unit/aws-events-corpus.test.ts` (a file snapshot: `npx vitest run test/unit/aws-events-corpus.test.ts -u` rewrites it).',
      "The mapping is the test's `CORPUS_MAP`: `DOC-EXAMPLE-BUCKET1` (a legacy name) → `corpus/legacy`, `amzn-s3-demo-bucket` → `corpus/docs`,",
      'identities of account 123456789012 → `corpus`; the program pauses at HIGH and CRITICAL. One row per finding.',
      '',
      '| event | finding type | source severity | rule that routes it | intake outcome |',
      '| --- | --- | --- | --- | --- |',
      ...rows,
      '',
    ].join('\n');
    await expect(table).toMatchFileSnapshot(join(CORPUS, 'OUTCOMES.md'));
  });
});
