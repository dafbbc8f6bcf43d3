import { beforeAll, describe, expect, it } from 'vitest';
import type { Template } from 'aws-cdk-lib/assertions';
import {
  anomalyIdOf,
  asffResourceType,
  ocsfSeverity,
  parseAsffFinding,
  parseFindingEvent,
  parseGuardDutyFinding,
  parseOcsfFinding,
  productOf,
  type NormalisedFinding,
} from '#shared/findings/normalise.ts';
import { asffSeverity, guardDutySeverity, macieSeverity } from '#shared/findings/relevance.ts';
import { ResourceMap } from '#shared/findings/resource-map.ts';
import { anomalyOf, FindingIntake } from '#shared/findings/intake.ts';
import { handleFindingEvent } from '#shared/findings/finding-event.ts';
import { SILENT } from '#shared/killswitch/ports.ts';
import { ValidationError } from '#shared/domain/errors.ts';
import { BucketNameSchema, FindingMapSchema, FindingTimeSchema, type FindingSource } from '#shared/schemas/findings.ts';
import type { AnomalyDetail } from '#shared/schemas/anomaly.ts';
import type { TimelineEntry } from '#shared/schemas/ledger.ts';
import { matchesEventPattern } from '#local/event-pattern.ts';
import { sampleFindingEvent } from '#local/samples.ts';
import { loadDeploymentConfig, parseDeploymentConfig } from '#infra/config.ts';
import { sampleApp } from '../support/cdk.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const sample = (source: FindingSource): Json => sampleFindingEvent(source) as unknown as Json;
const only = (event: unknown): NormalisedFinding => {
  const [parsed, ...rest] = parseFindingEvent(event);
  expect(rest).toHaveLength(0);
  if (!parsed?.ok) throw new Error(`expected a parsed finding: ${parsed?.error.message}`);
  return parsed.finding;
};
const sampleMap = new ResourceMap(FindingMapSchema.parse(loadDeploymentConfig().findings));

describe('Finding normalisers (documented event shapes)', () => {
  it('reads a Macie policy finding: id, type, severity, bucket, window', () => {
    const f = only(sample('macie'));
    expect(f).toMatchObject({
      source: 'macie',
      findingId: '4a1d7c2e9b8f60e1c3d5a7b9f2e4c6a8',
      type: 'Policy:IAMUser/S3BucketPublic',
      severity: 'HIGH',
      account: '111111111111',
      region: 'eu-west-1',
      resources: [{ kind: 's3', bucket: 'mci-transcripts' }],
      archived: false,
      sample: false,
    });
    expect(f.window).toEqual({ start: f.createdAt, end: f.updatedAt });
  });

  it('reads a Macie sensitive data finding with its object key', () => {
    const event = sample('macie');
    event.detail.type = 'SensitiveData:S3Object/Personal';
    event.detail.category = 'CLASSIFICATION';
    event.detail.resourcesAffected.s3Object = {
      bucketArn: 'arn:aws:s3:::mci-transcripts',
      key: 'raw/2026/11/27/session-1.jsonl',
      size: 1024,
    };
    event.detail.severity = { score: 2, description: 'Medium' };
    expect(only(event)).toMatchObject({
      severity: 'MEDIUM',
      resources: [{ kind: 's3', bucket: 'mci-transcripts', key: 'raw/2026/11/27/session-1.jsonl' }],
    });
  });

  it('reads a GuardDuty S3 finding (numeric severity, buckets, activity window) and an IAM access key finding', () => {
    const f = only(sample('guardduty'));
    expect(f).toMatchObject({
      source: 'guardduty',
      type: 'Exfiltration:S3/AnomalousBehavior',
      severity: 'HIGH',
      resources: [{ kind: 's3', bucket: 'mci-keystrokes' }],
    });
    expect(f.window).toEqual({ start: '2026-11-27T08:12:40.000Z', end: '2026-11-27T09:31:18.000Z' });

    const iam = sample('guardduty');
    iam.detail.type = 'CredentialAccess:IAMUser/AnomalousBehavior';
    iam.detail.resource = {
      resourceType: 'AccessKey',
      accessKeyDetails: { accessKeyId: 'ASIAEXAMPLE', principalId: 'AROAEXAMPLE', userName: 'analyst', userType: 'IAMUser' },
    };
    iam.detail.severity = 5.5;
    expect(only(iam)).toMatchObject({ severity: 'MEDIUM', resources: [{ kind: 'identity', type: 'IAMUser' }] });
  });

  it('reads each ASFF finding of a Security Hub event on its own; a malformed one does not sink the others', () => {
    const event = sample('securityhub');
    const good = event.detail.findings[0];
    const object = { ...good, Id: `${good.Id}-2`, Resources: [{ Type: 'AwsS3Object', Id: 'arn:aws:s3:::mci-transcripts/raw/a.jsonl' }] };
    const broken = { ...good, Id: `${good.Id}-3`, Severity: { Label: 'SEVERE' }, AwsAccountId: '12' };
    event.detail.findings = [good, object, broken];
    const parsed = parseFindingEvent(event);
    expect(parsed.map((p) => p.ok)).toEqual([true, true, false]);
    expect(parsed[0]).toMatchObject({
      finding: { severity: 'HIGH', resources: [{ kind: 's3', bucket: 'mci-mouse' }], product: 'Security Hub' },
    });
    expect(parsed[1]).toMatchObject({ finding: { resources: [{ kind: 's3', bucket: 'mci-transcripts', key: 'raw/a.jsonl' }] } });
    const rejected = parsed[2]!;
    if (rejected.ok) throw new Error('expected a rejection');
    expect(rejected.findingId).toBe(`${good.Id}-3`);
    expect(rejected.error.issues.map((i) => i.path).sort()).toEqual(['detail.findings.2.AwsAccountId', 'detail.findings.2.Severity.Label']);
  });

  it('tolerates fields AWS adds later, and rejects a missing relied-on field by name', () => {
    const event = sample('guardduty');
    event.detail.someFutureField = { nested: [1, 2, 3] };
    event.newEnvelopeField = 'x';
    expect(only(event).findingId).toBe('b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1');

    delete event.detail.severity;
    const [parsed] = parseFindingEvent(event);
    expect(parsed?.ok).toBe(false);
    if (parsed && !parsed.ok) expect(parsed.error.message).toMatch(/detail\.severity/);

    const envelope = sample('macie');
    delete envelope['detail-type'];
    const [bad] = parseFindingEvent(envelope);
    if (!bad || bad.ok) throw new Error('expected a rejection');
    expect(bad.error.issues.map((i) => i.path)).toContain('detail-type');
  });

  it('rejects an event from another source by naming the source field', () => {
    const [parsed] = parseFindingEvent({ ...sample('macie'), source: 'aws.inspector2' });
    if (!parsed || parsed.ok) throw new Error('expected a rejection');
    expect(parsed.error.issues).toEqual([{ path: 'source', message: expect.stringContaining('aws.macie') }]);
  });

  it('keeps anomaly ids the same for the event path and the sweep, and hashes ids that do not fit', () => {
    expect(anomalyIdOf('guardduty', 'b6c7d8e9')).toBe('guardduty:b6c7d8e9');
    const long = `arn:aws:securityhub:eu-west-1:111111111111:finding/${'x'.repeat(300)}`;
    expect(anomalyIdOf('securityhub', long)).toMatch(/^securityhub:sha256:[0-9a-f]{40}$/);
    expect(anomalyIdOf('securityhub', long)).toBe(anomalyIdOf('securityhub', long));
    expect(anomalyIdOf('securityhub', 'id with spaces')).toMatch(/^securityhub:sha256:/);
  });

  it('parses GuardDuty GetFindings output once its member names are the event JSON names', () => {
    expect(parseGuardDutyFinding(sample('guardduty').detail).ok).toBe(true);
    expect(parseAsffFinding(sample('securityhub').detail.findings[0]).ok).toBe(true);
  });
});

describe('Tolerant where AWS is loose, strict where we act', () => {
  it('decides samples and archived findings before the strict fields: a GuardDuty sample naming "bucketName" is ignored, never rejected', () => {
    const event = sample('guardduty');
    event.detail.resource.s3BucketDetails[0].name = 'bucketName';
    event.detail.service.additionalInfo = { sample: true };
    event.detail.severity = 'not even a number';
    const [parsed] = parseFindingEvent(event);
    expect(parsed).toMatchObject({ ok: true, finding: { sample: true, findingId: event.detail.id, resources: [] } });
    const archived = sample('securityhub');
    archived.detail.findings[0].RecordState = 'ARCHIVED';
    archived.detail.findings[0].Resources = [];
    expect(parseFindingEvent(archived)[0]).toMatchObject({ ok: true, finding: { archived: true } });
    const suppressed = sample('securityhub-ocsf');
    suppressed.detail.findings[0].status_id = 3;
    delete suppressed.detail.findings[0].cloud;
    expect(parseFindingEvent(suppressed)[0]).toMatchObject({ ok: true, finding: { archived: true, source: 'securityhub-ocsf' } });
  });

  it('takes any bucket name S3 can hold in a finding, and maps a legacy name the configuration names', () => {
    const legacy = 'Legacy_Training.Data-2017';
    const event = sample('macie');
    event.detail.resourcesAffected.s3Bucket.name = legacy;
    const [parsed] = parseFindingEvent(event);
    if (!parsed?.ok) throw new Error('a legacy bucket name must parse');
    const map = new ResourceMap(FindingMapSchema.parse({ s3: [{ bucket: legacy, programId: 'mci', datasetId: 'keystrokes' }] }));
    expect(map.resolve(parsed.finding)).toEqual([{ programId: 'mci', datasetIds: ['keystrokes'] }]);
    for (const name of ['a'.repeat(255), 'x', 'bucketName']) {
      event.detail.resourcesAffected.s3Bucket.name = name;
      expect(parseFindingEvent(event)[0]?.ok, name).toBe(true);
    }
    event.detail.resourcesAffected.s3Bucket.name = 'a'.repeat(256);
    expect(parseFindingEvent(event)[0]).toMatchObject({
      ok: false,
      error: { issues: [{ path: 'detail.resourcesAffected.s3Bucket.name' }] },
    });
  });

  it("holds the configuration to S3's rules, current or legacy, naming the field", () => {
    for (const bucket of ['mci-keystrokes', 'DOC-EXAMPLE-BUCKET1', 'legacy_bucket', 'a'.repeat(255)])
      expect(BucketNameSchema.safeParse(bucket).success, bucket).toBe(true);
    for (const bucket of ['ab', 'has space', 'a'.repeat(256), 'tab\there', ''])
      expect(BucketNameSchema.safeParse(bucket).success, bucket).toBe(false);
    const config = JSON.parse(JSON.stringify(loadDeploymentConfig()));
    config.findings.s3[0].bucket = 'not a bucket';
    expect(() => parseDeploymentConfig(config)).toThrow(/findings\.s3\.0\.bucket: must be an S3 bucket name/);
  });

  it('reads times as AWS writes them (offsets, microseconds, a space for T) and refuses what is no time', () => {
    for (const [given, iso] of [
      ['2023-05-07T20:21:01.656000+00:00', '2023-05-07T20:21:01.656Z'],
      ['2020-10-26 13:47:03.127000+00:00', '2020-10-26T13:47:03.127Z'],
      ['2024-11-15T21:39:26.337224100Z', '2024-11-15T21:39:26.337Z'],
      ['2026-11-27T09:45:51Z', '2026-11-27T09:45:51.000Z'],
    ])
      expect(FindingTimeSchema.parse(given)).toBe(iso);
    for (const bad of ['yesterday', '2026-13-45T99:99:99Z', '1', '']) expect(FindingTimeSchema.safeParse(bad).success, bad).toBe(false);
  });

  it('tells Security Hub copies by ProductArn first, then ProductName, then GeneratorId', () => {
    const arn = (company: string, product: string, v2 = false) =>
      `arn:aws:securityhub:eu-west-1::product${v2 ? 'v2' : ''}/${company}/${product}`;
    expect(productOf(arn('aws', 'guardduty'), undefined, undefined)).toEqual({ product: 'aws/guardduty', copyOf: 'guardduty' });
    expect(productOf(arn('aws', 'macie', true), 'Macie', undefined)).toEqual({ product: 'Macie', copyOf: 'macie' });
    // ProductArn decides over a name.
    expect(productOf(arn('aws', 'securityhub'), 'GuardDuty', undefined)).toEqual({ product: 'GuardDuty' });
    // An aggregator's own ARN: the name, then the generator.
    expect(
      productOf('arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default', 'Amazon GuardDuty', undefined),
    ).toMatchObject({
      copyOf: 'guardduty',
    });
    expect(productOf('not an arn', undefined, 'arn:aws:guardduty:eu-west-1:111111111111:detector/abc')).toMatchObject({
      copyOf: 'guardduty',
    });
    // AWS's own guide printed "arn:aws::securityhub:…" for years.
    expect(productOf('arn:aws::securityhub:us-east-1::product/aws/guardduty', undefined, undefined)).toMatchObject({ copyOf: 'guardduty' });
    expect(productOf(arn('aws', 'inspector'), 'Inspector', 'x')).toEqual({ product: 'Inspector' });
  });

  it('maps OCSF findings: severity_id, status, either resource naming, epoch times, and names the field it cannot do without', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 99].map(ocsfSeverity)).toEqual(['LOW', undefined, 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL', 'CRITICAL', 'LOW']);
    expect(['AWS::S3::Bucket', 'AWS::IAM::AccessKey', 'AwsS3Object', 'AWS::::Account', 'AWS::EC2::Instance'].map(asffResourceType)).toEqual(
      ['AwsS3Bucket', 'AwsIamAccessKey', 'AwsS3Object', 'AwsAccount', 'AwsEc2Instance'],
    );
    const base = sample('securityhub-ocsf').detail.findings[0];
    const role = { ...structuredClone(base), resources: [{ type: 'AWS::IAM::Role', uid: 'arn:aws:iam::111111111111:role/reader' }] };
    expect(parseOcsfFinding(role)).toMatchObject({ ok: true, finding: { resources: [{ kind: 'identity', type: 'AwsIamRole' }] } });
    const object = {
      ...structuredClone(base),
      resources: [{ type: 'AWS::S3::Object', uid: 'arn:aws:s3:::mci-keystrokes/raw/2026/x.json' }],
    };
    expect(parseOcsfFinding(object)).toMatchObject({
      ok: true,
      finding: { resources: [{ kind: 's3', bucket: 'mci-keystrokes', key: 'raw/2026/x.json' }] },
    });
    const epoch = structuredClone(base);
    delete epoch.finding_info.created_time_dt;
    delete epoch.finding_info.modified_time_dt;
    delete epoch.time_dt;
    epoch.time = Date.parse('2026-11-27T10:00:00Z');
    expect(parseOcsfFinding(epoch)).toMatchObject({
      ok: true,
      finding: { createdAt: '2026-11-27T10:00:00.000Z', updatedAt: '2026-11-27T10:00:00.000Z' },
    });
    delete epoch.time;
    expect(parseOcsfFinding(epoch)).toMatchObject({ ok: false, error: { issues: [{ path: 'finding_info.created_time_dt' }] } });
    const noAccount = structuredClone(base);
    delete noAccount.cloud.account;
    expect(parseOcsfFinding(noAccount)).toMatchObject({ ok: false, error: { issues: [{ path: 'cloud.account' }] } });
  });

  it('takes a GuardDuty sample copied into Security Hub for a sample (the flag is among its ProductFields)', () => {
    const copy = sample('securityhub');
    copy.detail.findings[0].ProductArn = 'arn:aws:securityhub:eu-west-1::product/aws/guardduty';
    copy.detail.findings[0].ProductFields = { 'aws/guardduty/service/additionalInfo/sample': 'true' };
    expect(parseFindingEvent(copy)[0]).toMatchObject({ ok: true, finding: { sample: true } });
  });

  it('builds an anomaly from any finding that parses: windows only forward, titles cut on whole characters', () => {
    const event = sample('macie');
    event.detail.updatedAt = '2020-01-01T00:00:00.000Z';
    event.detail.title = `${'x'.repeat(499)}😀 and more`;
    const [parsed] = parseFindingEvent(event);
    if (!parsed?.ok) throw new Error('must parse');
    expect(parsed.finding.window).toBeUndefined();
    expect(parsed.finding.title).toBe('x'.repeat(499));
    expect(() => anomalyOf(parsed.finding, { programId: 'mci', datasetIds: ['transcripts'] })).not.toThrow();
  });

  it('rejects (keeps and alerts, never retries) a finding that parses but that the trigger cannot take', async () => {
    const rejected: string[] = [];
    const result = await handleFindingEvent(sample('macie'), {
      intake: {
        handle: async () => {
          throw new ValidationError('anomaly', [{ path: 'summary', message: 'too long' }]);
        },
      },
      rejections: { reject: async (r) => void rejected.push(r.error.issues[0]!.path) },
      telemetry: SILENT,
    });
    expect(result.outcomes).toEqual(['REJECTED']);
    expect(rejected).toEqual(['summary']);
  });

  it('names the detail-type when a Security Hub event is of a kind it does not take', () => {
    const action = sample('securityhub');
    action['detail-type'] = 'Security Hub Findings - Custom Action';
    expect(parseFindingEvent(action)[0]).toMatchObject({
      ok: false,
      source: 'securityhub',
      error: { issues: [{ path: 'detail-type', message: 'must be one of "Security Hub Findings - Imported", "Findings Imported V2"' }] },
    });
  });
});

describe('Severity table', () => {
  it.each([
    ['Low', 'LOW'],
    ['Medium', 'MEDIUM'],
    ['High', 'HIGH'],
  ] as const)('Macie %s -> %s', (label, expected) => expect(macieSeverity(label)).toBe(expected));

  it.each([
    [1, 'LOW'],
    [3.9, 'LOW'],
    [4, 'MEDIUM'],
    [6.9, 'MEDIUM'],
    [7, 'HIGH'],
    [8.9, 'HIGH'],
    [9, 'CRITICAL'],
    [10, 'CRITICAL'],
  ] as const)('GuardDuty %s -> %s', (score, expected) => expect(guardDutySeverity(score)).toBe(expected));

  it.each([
    [{ Label: 'INFORMATIONAL' }, undefined],
    [{ Label: 'LOW' }, 'LOW'],
    [{ Label: 'MEDIUM' }, 'MEDIUM'],
    [{ Label: 'HIGH' }, 'HIGH'],
    [{ Label: 'CRITICAL' }, 'CRITICAL'],
    [{ Normalized: 0 }, undefined],
    [{ Normalized: 39 }, 'LOW'],
    [{ Normalized: 40 }, 'MEDIUM'],
    [{ Normalized: 70 }, 'HIGH'],
    [{ Normalized: 90 }, 'CRITICAL'],
  ] as const)('ASFF %j -> %s', (severity, expected) => expect(asffSeverity(severity)).toBe(expected));
});

describe('Resource map', () => {
  const map = new ResourceMap(
    FindingMapSchema.parse({
      s3: [
        { bucket: 'lake', prefix: 'mci/keys/', programId: 'mci', datasetId: 'keystrokes' },
        { bucket: 'lake', prefix: 'mci/', programId: 'mci', datasetId: 'transcripts' },
        { bucket: 'lake', prefix: 'other/', programId: 'other', datasetId: 'chat' },
        { bucket: 'acct-only', programId: 'mci', datasetId: 'mouse', account: '222222222222' },
      ],
      accounts: [{ account: '111111111111', region: 'eu-west-1', programId: 'mci' }],
    }),
  );
  const at = (resources: NormalisedFinding['resources'], account = '111111111111', region = 'eu-west-1') =>
    map.resolve({ account, region, resources });

  it('takes the longest matching prefix for an object key', () => {
    expect(at([{ kind: 's3', bucket: 'lake', key: 'mci/keys/2026/a' }])).toEqual([{ programId: 'mci', datasetIds: ['keystrokes'] }]);
    expect(at([{ kind: 's3', bucket: 'lake', key: 'mci/raw/a' }])).toEqual([{ programId: 'mci', datasetIds: ['transcripts'] }]);
    expect(at([{ kind: 's3', bucket: 'lake', key: 'unowned/a' }])).toEqual([]);
  });

  it('maps a bucket-level finding to every program and dataset in the bucket', () => {
    expect(at([{ kind: 's3', bucket: 'lake' }])).toEqual([
      { programId: 'mci', datasetIds: ['keystrokes', 'transcripts'] },
      { programId: 'other', datasetIds: ['chat'] },
    ]);
  });

  it('honours the account of a mapping, and maps identities by account and region to all datasets', () => {
    expect(at([{ kind: 's3', bucket: 'acct-only' }])).toEqual([]);
    expect(at([{ kind: 's3', bucket: 'acct-only' }], '222222222222')).toEqual([{ programId: 'mci', datasetIds: ['mouse'] }]);
    expect(at([{ kind: 'identity', type: 'IAMUser' }])).toEqual([{ programId: 'mci', datasetIds: [] }]);
    expect(at([{ kind: 'identity', type: 'IAMUser' }], '111111111111', 'us-east-1')).toEqual([]);
  });

  it('maps the sample buckets (any prefix) to the mci datasets', () => {
    for (const [bucket, dataset] of [
      ['mci-keystrokes', 'keystrokes'],
      ['mci-mouse', 'mouse'],
      ['mci-transcripts', 'transcripts'],
    ]) {
      expect(
        sampleMap.resolve({ account: '111111111111', region: 'eu-west-1', resources: [{ kind: 's3', bucket: bucket!, key: 'raw/x' }] }),
      ).toEqual([{ programId: 'mci', datasetIds: [dataset] }]);
    }
  });

  it('refuses a configuration whose mapping names an unknown program or dataset, by field', () => {
    const config = JSON.parse(JSON.stringify(loadDeploymentConfig()));
    config.findings.s3[1].datasetId = 'webcam';
    config.findings.accounts[0].programId = 'nope';
    expect(() => parseDeploymentConfig(config)).toThrow(
      /findings\.s3\.1\.datasetId: "webcam" is not a dataset of program "mci".*findings\.accounts\.0\.programId/,
    );
  });
});

describe('Finding intake', () => {
  const run = async (
    finding: NormalisedFinding,
    options: { complete?: boolean; skipHandled?: boolean; directSources?: ('macie' | 'guardduty' | 'securityhub')[] } = {},
  ) => {
    const handled: AnomalyDetail[] = [];
    const unmapped: NormalisedFinding[] = [];
    const timeline: { key: string; entry: TimelineEntry }[] = [];
    const intake = new FindingIntake({
      map: sampleMap,
      trigger: {
        handle: async (a) => (
          handled.push(a),
          { outcome: 'PAUSED', incidentId: 'inc-20261127-000000000000', stateVersion: 2, stateChanged: true, escalated: false }
        ),
        coveredBy: async () => (options.complete ? 'inc-20261127-000000000000' : undefined),
      },
      incidents: { record: async (key, entry) => (timeline.push({ key, entry }), true) },
      findings: { recordUnmapped: async (f) => (unmapped.push(f), true) },
      ...(options.directSources ? { directSources: options.directSources } : {}),
    });
    const outcome = await intake.handle(finding, { skipHandled: options.skipHandled });
    return { outcome, handled, unmapped, timeline };
  };

  it('turns a sample finding of each source into one anomaly on the right program and dataset', async () => {
    const expected = {
      macie: ['transcripts', 'public-bucket', 'HIGH'],
      guardduty: ['keystrokes', 'exfiltration', 'HIGH'],
      securityhub: ['mouse', 'data-exposure', 'HIGH'],
    };
    for (const source of ['macie', 'guardduty', 'securityhub'] as const) {
      const finding = only(sample(source));
      const { outcome, handled } = await run(finding);
      expect(outcome.outcome).toBe('HANDLED');
      expect(handled).toHaveLength(1);
      const [dataset, kind, severity] = expected[source];
      expect(handled[0]).toMatchObject({
        anomalyId: `${source}:${finding.findingId}`,
        programId: 'mci',
        detector: `aws.${source}`,
        datasetIds: [dataset],
        kind,
        severity,
        observedAt: finding.createdAt,
      });
      expect(handled[0]!.exposure?.window).toEqual(finding.window);
    }
  });

  it('ignores archived, sample, informational, other-source and irrelevant findings; records unmapped ones', async () => {
    const base = only(sample('guardduty'));
    expect((await run({ ...base, archived: true })).outcome).toEqual({ outcome: 'IGNORED', reason: 'ARCHIVED' });
    expect((await run({ ...base, sample: true })).outcome).toEqual({ outcome: 'IGNORED', reason: 'SAMPLE' });
    expect((await run({ ...base, type: 'Backdoor:EC2/C&CActivity.B', resourceTypes: ['Instance'] })).outcome).toEqual({
      outcome: 'IGNORED',
      reason: 'NOT_RELEVANT',
    });
    const asff = only(sample('securityhub'));
    expect((await run({ ...asff, severity: undefined })).outcome).toEqual({ outcome: 'IGNORED', reason: 'INFORMATIONAL' });
    expect((await run({ ...asff, copyOf: 'guardduty' })).outcome).toEqual({ outcome: 'IGNORED', reason: 'OTHER_SOURCE' });
    // A copy of a source not taken directly is taken from Security Hub: neither twice nor missed.
    const copy = await run({ ...asff, copyOf: 'guardduty' }, { directSources: ['macie', 'securityhub'] });
    expect(copy.outcome).toMatchObject({ outcome: 'HANDLED' });
    expect(copy.handled[0]?.anomalyId).toBe(`securityhub:${asff.findingId}`);
    const unmapped = await run({ ...base, resources: [{ kind: 's3', bucket: 'somebody-elses-bucket' }] });
    expect(unmapped.outcome).toEqual({ outcome: 'IGNORED', reason: 'UNMAPPED' });
    expect(unmapped.unmapped).toHaveLength(1);
    expect(unmapped.handled).toHaveLength(0);
  });

  it('passes LOW findings on: the program policy decides, not the intake', async () => {
    const { handled } = await run({ ...only(sample('macie')), severity: 'LOW' });
    expect(handled[0]?.severity).toBe('LOW');
  });

  it('skips, on request, anomalies already completed (the sweep after the event path), and still records the report once', async () => {
    const finding = only(sample('macie'));
    const { outcome, handled, timeline } = await run(finding, { complete: true, skipHandled: true });
    expect(handled).toHaveLength(0);
    expect(outcome).toMatchObject({ outcome: 'HANDLED', anomalies: [{ programId: 'mci', outcome: 'ALREADY_HANDLED' }] });
    const handledByEvent = await run(finding);
    // The sweep and the event path write the same entry (the ledger keeps the first).
    expect(timeline.map((t) => t.key)).toEqual(handledByEvent.timeline.map((t) => t.key));
    expect(timeline[0]!.entry).toMatchObject({
      type: 'FINDING_REPORTED',
      data: { updatedAt: finding.updatedAt, outcome: 'ALREADY_HANDLED' },
    });
    expect(handledByEvent.timeline[0]!.entry.message).toMatch(
      /^Amazon Macie reported .* at severity High.*: paused the program at state version 2$/,
    );
  });
});

describe('Finding rules (synthesized patterns)', () => {
  let patterns: Record<string, unknown>;
  beforeAll(() => {
    const { stateless }: { stateless: Template } = sampleApp();
    const rules = stateless.findResources('AWS::Events::Rule');
    patterns = Object.fromEntries(
      Object.entries(rules)
        .filter(([id]) => id.startsWith('FindingTriggers') && !id.includes('Sweep'))
        .map(([id, r]) => [id.replace(/^FindingTriggers|Rule[0-9A-F]{8}$/g, ''), r.Properties.EventPattern]),
    );
    expect(Object.keys(patterns).sort()).toEqual(['GuardDuty', 'Macie', 'SecurityHub', 'SecurityHubOcsf']);
    for (const rule of Object.values(rules))
      if (rule.Properties.EventPattern?.source?.[0]?.startsWith('aws.')) expect(rule.Properties.EventBusName).toBeUndefined();
  });
  const matches = (event: Json) =>
    Object.entries(patterns)
      .filter(([, p]) => matchesEventPattern(p, event))
      .map(([name]) => name);

  it('routes the sample finding of each source to the finding trigger, by its own rule', () => {
    expect(matches(sample('macie'))).toEqual(['Macie']);
    expect(matches(sample('guardduty'))).toEqual(['GuardDuty']);
    expect(matches(sample('securityhub'))).toEqual(['SecurityHub']);
    expect(matches(sample('securityhub-ocsf'))).toEqual(['SecurityHubOcsf']);
  });

  it('routes OCSF findings by severity_id and resource type, with either naming of the type; the intake decides on status', () => {
    const cfnNamed = sample('securityhub-ocsf');
    cfnNamed.detail.findings[0].resources[0].type = 'AWS::S3::Bucket';
    const suppressed = sample('securityhub-ocsf');
    suppressed.detail.findings[0].status_id = 3;
    for (const event of [cfnNamed, suppressed]) expect(matches(event)).toEqual(['SecurityHubOcsf']);
    const low = sample('securityhub-ocsf');
    low.detail.findings[0].severity_id = 2;
    const lambda = sample('securityhub-ocsf');
    lambda.detail.findings[0].resources[0].type = 'AwsLambdaFunction';
    for (const event of [low, lambda]) expect(matches(event)).toEqual([]);
  });

  it('takes Security Hub copies of GuardDuty and Macie findings, with or without ProductName: the intake tells them by ProductArn', () => {
    const guardDutyCopy = sample('securityhub');
    guardDutyCopy.detail.findings[0].ProductName = 'GuardDuty';
    const noName = sample('securityhub');
    delete noName.detail.findings[0].ProductName;
    for (const event of [guardDutyCopy, noName]) expect(matches(event)).toEqual(['SecurityHub']);
  });

  it('leaves out low severity and finding types that say nothing about a program', () => {
    const low = sample('macie');
    low.detail.severity = { score: 1, description: 'Low' };
    const encryption = sample('macie');
    encryption.detail.type = 'Policy:IAMUser/S3BucketEncryptionDisabled';
    const gdLow = sample('guardduty');
    gdLow.detail.severity = 2;
    const ec2 = sample('guardduty');
    ec2.detail.type = 'Backdoor:EC2/C&CActivity.B';
    const informational = sample('securityhub');
    informational.detail.findings[0].Severity = { Label: 'INFORMATIONAL', Normalized: 0 };
    const resolved = sample('securityhub');
    resolved.detail.findings[0].Workflow = { Status: 'RESOLVED' };
    const ec2Resource = sample('securityhub');
    ec2Resource.detail.findings[0].Resources = [{ Type: 'AwsEc2Instance', Id: 'arn:aws:ec2:eu-west-1:111111111111:instance/i-1' }];
    for (const event of [low, encryption, gdLow, ec2, informational, resolved, ec2Resource]) expect(matches(event)).toEqual([]);
  });

  it('routes medium and critical findings and the other relevant types', () => {
    const sensitive = sample('macie');
    sensitive.detail.type = 'SensitiveData:S3Object/Credentials';
    sensitive.detail.severity = { score: 2, description: 'Medium' };
    const critical = sample('guardduty');
    critical.detail.severity = 9.5;
    critical.detail.type = 'Policy:S3/BucketAnonymousAccessGranted';
    expect(matches(sensitive)).toEqual(['Macie']);
    expect(matches(critical)).toEqual(['GuardDuty']);
  });
});
