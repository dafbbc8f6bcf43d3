import { createHash } from 'node:crypto';
import type { z } from '../schemas/z.ts';
import { cutText, wellFormed, type Severity } from '../schemas/common.ts';
import { ValidationError, toFieldIssues } from '../domain/errors.ts';
import {
  AsffFindingSchema,
  FindingEventTypes,
  GuardDutyFindingEventSchema,
  GuardDutyFindingSchema,
  MacieFindingEventSchema,
  MacieFindingSchema,
  OCSF_CLOSED_STATUS_IDS,
  OcsfFindingSchema,
  originOf,
  SecurityHubFindingsEventSchema,
  SecurityHubOcsfEventSchema,
  type FindingSource,
} from '../schemas/findings.ts';
import { asffSeverity, guardDutySeverity, macieSeverity } from './relevance.ts';

/** An AWS resource a finding is about, as far as the mapping needs it. */
export type ResourceRef =
  | { kind: 's3'; bucket: string; key?: string }
  /** An IAM user, role or access key: mapped by account and region. */
  | { kind: 'identity'; type: string };

/** A finding from any source, in the few terms killswitch acts on. Never the finding's data. */
export interface NormalisedFinding {
  source: FindingSource;
  findingId: string;
  type: string;
  /** On killswitch's scale; `undefined` for informational findings (no issue found). */
  severity: Severity | undefined;
  title: string;
  account: string;
  region: string;
  /** Stable across updates of the finding: the anomaly's `observedAt`. */
  createdAt: string;
  updatedAt: string;
  /** When the activity was seen, where the source says. */
  window?: { start: string; end: string };
  resources: ResourceRef[];
  /** The source's own resource type names (for relevance). */
  resourceTypes: string[];
  archived: boolean;
  sample: boolean;
  /** Security Hub: the product that produced the finding (`company/product` of its ProductArn, or its ProductName). */
  product?: string;
  /** Security Hub: a copy of a GuardDuty or Macie finding (recognised by ProductArn, else ProductName or GeneratorId). */
  copyOf?: 'guardduty' | 'macie';
  /** The source's own words for this report of the finding, for the incident's timeline: its severity, and how often it was seen. */
  report: { severity: string; count?: number };
}

export type ParsedFinding =
  | { ok: true; finding: NormalisedFinding }
  | { ok: false; source: FindingSource | undefined; error: ValidationError; findingId?: string; raw: unknown };

function parse<S extends z.ZodType>(schema: S, input: unknown, what: string): { data: z.infer<S> } | { error: ValidationError } {
  const result = schema.safeParse(input);
  return result.success ? { data: result.data } : { error: new ValidationError(what, toFieldIssues(result.error)) };
}

const idOf = (raw: unknown, field: string): string | undefined => {
  const v = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>)[field] : undefined;
  return typeof v === 'string' ? v.slice(0, 1024) : undefined;
};

/** A value at a path of plain objects, or undefined. */
const at = (raw: unknown, ...path: string[]): unknown => {
  let v = raw;
  for (const key of path) v = typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>)[key] : undefined;
  return v;
};
const text = (v: unknown): string | undefined => (typeof v === 'string' && v.length ? v.slice(0, 1024) : undefined);
const time = (v: unknown): string | undefined => {
  const t = typeof v === 'string' ? Date.parse(v) : Number.NaN;
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
};

/**
 * A sample or archived finding is decided before its strict fields (issue: GuardDuty's generated
 * samples name a bucket "bucketName"): it is never acted on, so it is never rejected either.
 * What it carries is read loosely, for the log and the sweep's watermark.
 */
function triaged(
  source: FindingSource,
  raw: unknown,
  flags: { sample: boolean; archived: boolean },
  fields: { id: unknown; type: unknown; title: unknown; account: unknown; region: unknown; createdAt: unknown; updatedAt: unknown },
): ParsedFinding | undefined {
  if (!flags.sample && !flags.archived) return undefined;
  const updatedAt = time(fields.updatedAt) ?? time(fields.createdAt) ?? new Date(0).toISOString();
  const type = text(fields.type) ?? 'unknown';
  return {
    ok: true,
    finding: {
      source,
      findingId: text(fields.id) ?? '(no id)',
      type,
      severity: undefined,
      title: clean(text(fields.title), type),
      account: text(fields.account) ?? '',
      region: text(fields.region) ?? '',
      createdAt: time(fields.createdAt) ?? updatedAt,
      updatedAt,
      resources: [],
      resourceTypes: [],
      archived: flags.archived,
      sample: flags.sample,
      report: { severity: 'n/a' },
    },
  };
}

// Control characters never reach the ledger; titles are capped.
const clean = (s: string | undefined, fallback: string) =>
  cutText(
    wellFormed(s ?? '')
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u001f\u007f]+/g, ' ')
      .trim(),
    500,
  ) || fallback;

/** The fields triage reads of a Macie or GuardDuty finding (both camelCase, with the same names). */
const camelFields = (raw: unknown) => ({
  id: at(raw, 'id'),
  type: at(raw, 'type'),
  title: at(raw, 'title'),
  account: at(raw, 'accountId'),
  region: at(raw, 'region'),
  createdAt: at(raw, 'createdAt'),
  updatedAt: at(raw, 'updatedAt'),
});

/** A Macie `Finding` object (the event's detail, or GetFindings output once dates are strings). */
export function parseMacieFinding(raw: unknown): ParsedFinding {
  const skip = triaged('macie', raw, { sample: at(raw, 'sample') === true, archived: at(raw, 'archived') === true }, camelFields(raw));
  if (skip) return skip;
  const r = parse(MacieFindingSchema, raw, 'Macie finding');
  if ('error' in r) return { ok: false, source: 'macie', error: r.error, findingId: idOf(raw, 'id'), raw };
  const f = r.data;
  const { s3Bucket, s3Object } = f.resourcesAffected;
  return {
    ok: true,
    finding: {
      source: 'macie',
      findingId: f.id,
      type: f.type,
      severity: macieSeverity(f.severity.description),
      title: clean(f.title, f.type),
      account: f.accountId,
      region: f.region,
      createdAt: f.createdAt,
      updatedAt: f.updatedAt,
      ...(Date.parse(f.updatedAt) >= Date.parse(f.createdAt) ? { window: { start: f.createdAt, end: f.updatedAt } } : {}),
      resources: [{ kind: 's3', bucket: s3Bucket.name, ...(s3Object?.key ? { key: s3Object.key } : {}) }],
      resourceTypes: [s3Object?.key ? 'S3Object' : 'S3Bucket'],
      archived: false,
      sample: false,
      report: { severity: f.severity.description, ...(f.count !== undefined ? { count: f.count } : {}) },
    },
  };
}

/** A GuardDuty `Finding` in its JSON (camelCase) form, as in the event's detail. */
export function parseGuardDutyFinding(raw: unknown): ParsedFinding {
  const skip = triaged(
    'guardduty',
    raw,
    { sample: at(raw, 'service', 'additionalInfo', 'sample') === true, archived: at(raw, 'service', 'archived') === true },
    camelFields(raw),
  );
  if (skip) return skip;
  const r = parse(GuardDutyFindingSchema, raw, 'GuardDuty finding');
  if ('error' in r) return { ok: false, source: 'guardduty', error: r.error, findingId: idOf(raw, 'id'), raw };
  const f = r.data;
  const { resource, service } = f;
  const resources: ResourceRef[] =
    resource.resourceType === 'S3Bucket'
      ? (resource.s3BucketDetails ?? []).map((b) => ({ kind: 's3' as const, bucket: b.name }))
      : resource.resourceType === 'AccessKey'
        ? [{ kind: 'identity', type: resource.accessKeyDetails?.userType ?? 'AccessKey' }]
        : [];
  const first = service?.eventFirstSeen;
  const last = service?.eventLastSeen;
  return {
    ok: true,
    finding: {
      source: 'guardduty',
      findingId: f.id,
      type: f.type,
      severity: guardDutySeverity(f.severity),
      title: clean(f.title, f.type),
      account: f.accountId,
      region: f.region,
      createdAt: f.createdAt,
      updatedAt: f.updatedAt,
      ...(first && last && Date.parse(last) >= Date.parse(first) ? { window: { start: first, end: last } } : {}),
      resources,
      resourceTypes: [resource.resourceType],
      archived: false,
      sample: false,
      report: { severity: f.severity.toFixed(1), ...(service?.count !== undefined ? { count: service.count } : {}) },
    },
  };
}

const S3_ARN = /^arn:aws[a-z-]*:s3:::([^/]+)(?:\/(.+))?$/;

/** One ASFF finding (an element of `detail.findings`, or GetFindings output). */
export function parseAsffFinding(raw: unknown): ParsedFinding {
  const workflow = at(raw, 'Workflow', 'Status') ?? at(raw, 'WorkflowState');
  const skip = triaged(
    'securityhub',
    raw,
    {
      // GuardDuty's samples reach Security Hub with the flag among the product's own fields.
      sample: at(raw, 'Sample') === true || sampleInProductFields(at(raw, 'ProductFields')),
      archived: at(raw, 'RecordState') === 'ARCHIVED' || workflow === 'RESOLVED' || workflow === 'SUPPRESSED',
    },
    {
      id: at(raw, 'Id'),
      type: (at(raw, 'Types') as unknown[] | undefined)?.[0] ?? at(raw, 'GeneratorId'),
      title: at(raw, 'Title'),
      account: at(raw, 'AwsAccountId'),
      region: at(raw, 'Region'),
      createdAt: at(raw, 'CreatedAt'),
      updatedAt: at(raw, 'UpdatedAt'),
    },
  );
  if (skip) return skip;
  const r = parse(AsffFindingSchema, raw, 'Security Hub finding');
  if ('error' in r) return { ok: false, source: 'securityhub', error: r.error, findingId: idOf(raw, 'Id'), raw };
  const f = r.data;
  const resources: ResourceRef[] = [];
  for (const res of f.Resources) {
    const s3 = S3_ARN.exec(res.Id);
    if ((res.Type === 'AwsS3Bucket' || res.Type === 'AwsS3Object') && s3) {
      resources.push({ kind: 's3', bucket: s3[1]!, ...(res.Type === 'AwsS3Object' && s3[2] ? { key: s3[2] } : {}) });
    } else if (res.Type.startsWith('AwsIam')) {
      resources.push({ kind: 'identity', type: res.Type });
    }
  }
  const first = f.FirstObservedAt;
  const last = f.LastObservedAt;
  return {
    ok: true,
    finding: {
      source: 'securityhub',
      findingId: f.Id,
      type: f.Types?.[0] ?? f.GeneratorId ?? 'unknown',
      severity: asffSeverity(f.Severity),
      title: clean(f.Title, f.Types?.[0] ?? 'Security Hub finding'),
      account: f.AwsAccountId,
      // The region it was imported in, where the finding does not say: a copy's ProductArn names it.
      region: f.Region ?? productRegion(f.ProductArn) ?? f.Resources[0]?.Region ?? '',
      createdAt: f.CreatedAt,
      updatedAt: f.UpdatedAt,
      ...(first && last && Date.parse(last) >= Date.parse(first) ? { window: { start: first, end: last } } : {}),
      resources,
      resourceTypes: f.Resources.map((res) => res.Type),
      archived: false,
      sample: false,
      ...productOf(f.ProductArn, f.ProductName ?? text(f.ProductFields?.['aws/securityhub/ProductName']), f.GeneratorId),
      report: { severity: f.Severity.Original ?? f.Severity.Label ?? String(f.Severity.Normalized) },
    },
  };
}

/** `arn:<partition>:securityhub:<region>:<account?>:product/<company>/<product>` (productv2 in the OCSF findings). */
// Tolerant of an empty field before the service ("arn:aws::securityhub:…", as AWS's own GuardDuty guide printed it for years).
const PRODUCT_ARN = /^arn:aws[a-z-]*::?securityhub:[a-z0-9-]*:\d*:product(?:v2)?\/([^/]+)\/([^/]+)$/;
const COPIED: ReadonlyMap<string, 'guardduty' | 'macie'> = new Map([
  ['guardduty', 'guardduty'],
  ['macie', 'macie'],
]);

/** The region in a Security Hub product ARN (`arn:aws:securityhub:<region>::product/…`). */
const productRegion = (arn: string | undefined): string | undefined =>
  arn ? /^arn:[^:]*::?securityhub:([a-z0-9-]+):/.exec(arn)?.[1] : undefined;

/** `ProductFields` (strings only, in ASFF) holding a product's sample flag, e.g. `aws/guardduty/service/additionalInfo/sample`. */
function sampleInProductFields(fields: unknown): boolean {
  if (typeof fields !== 'object' || fields === null) return false;
  return Object.entries(fields).some(([k, v]) => /(^|\/)sample$/i.test(k) && (v === 'true' || v === true));
}

/**
 * Which product a Security Hub finding comes from, and whether it is a copy of a GuardDuty or
 * Macie finding. ProductArn is required in ASFF and names AWS's own integrations as
 * `product/aws/<name>`: it decides. Where it names no AWS integration (an aggregator re-importing
 * findings under its own ARN), ProductName, then GeneratorId, are the fallbacks.
 */
export function productOf(
  productArn: string | undefined,
  productName: string | undefined,
  generatorId: string | undefined,
): { product?: string; copyOf?: 'guardduty' | 'macie' } {
  const arn = productArn ? PRODUCT_ARN.exec(productArn) : null;
  const product = productName ?? (arn ? `${arn[1]}/${arn[2]}` : undefined);
  const named = (copyOf: 'guardduty' | 'macie' | undefined) => ({ ...(product ? { product } : {}), ...(copyOf ? { copyOf } : {}) });
  if (arn?.[1] === 'aws') return named(COPIED.get(arn[2]!.toLowerCase()));
  const byName = productName
    ? COPIED.get(
        productName
          .trim()
          .toLowerCase()
          .replace(/^amazon\s+/, ''),
      )
    : undefined;
  if (byName) return named(byName);
  const generator = generatorId?.toLowerCase() ?? '';
  if (/^arn:aws[a-z-]*::?guardduty:/.test(generator) || generator.startsWith('aws/guardduty')) return named('guardduty');
  if (/^arn:aws[a-z-]*::?macie2?:/.test(generator) || generator.startsWith('aws/macie')) return named('macie');
  return named(undefined);
}

/** `AWS::S3::Bucket` (CloudFormation's name, used in some OCSF findings) → `AwsS3Bucket` (ASFF's, used in others). */
export function asffResourceType(type: string): string {
  if (!type.includes('::')) return type;
  return type
    .split('::')
    .map((part, i) => (i === 0 && part === 'AWS' ? 'Aws' : /^[A-Z0-9]+$/.test(part) ? part.charAt(0) + part.slice(1).toLowerCase() : part))
    .join('');
}

const ms = (epoch: number | undefined): string | undefined => (epoch === undefined ? undefined : new Date(epoch).toISOString());

/** OCSF `severity_id` onto killswitch's scale: Informational is no anomaly; Unknown and Other are taken as LOW (the policy decides). */
export function ocsfSeverity(severityId: number): Severity | undefined {
  switch (severityId) {
    case 1:
      return undefined;
    case 3:
      return 'MEDIUM';
    case 4:
      return 'HIGH';
    case 5:
    case 6:
      return 'CRITICAL';
    default:
      return 'LOW';
  }
}

/**
 * One OCSF finding (an element of `detail.findings` of a "Findings Imported V2" event, or of
 * GetFindingsV2 output), onto the same normalised finding as ASFF's. Suppressed, resolved,
 * archived and deleted findings (`status_id` 3-6) are decided first, like ASFF's.
 */
export function parseOcsfFinding(raw: unknown): ParsedFinding {
  const statusId = at(raw, 'status_id');
  const status = text(at(raw, 'status'))?.toLowerCase() ?? '';
  const skip = triaged(
    'securityhub-ocsf',
    raw,
    {
      // OCSF has no sample flag; GuardDuty's and Macie's samples reach Security Hub as copies (left to their source).
      sample: false,
      archived:
        (typeof statusId === 'number' && (OCSF_CLOSED_STATUS_IDS as readonly number[]).includes(statusId)) ||
        ['suppressed', 'resolved', 'archived', 'deleted'].includes(status),
    },
    {
      id: at(raw, 'finding_info', 'uid'),
      type: (at(raw, 'finding_info', 'types') as unknown[] | undefined)?.[0] ?? at(raw, 'class_name'),
      title: at(raw, 'finding_info', 'title'),
      account: at(raw, 'cloud', 'account', 'uid'),
      region: at(raw, 'cloud', 'region'),
      createdAt: at(raw, 'finding_info', 'created_time_dt') ?? at(raw, 'time_dt'),
      updatedAt: at(raw, 'finding_info', 'modified_time_dt') ?? at(raw, 'time_dt'),
    },
  );
  if (skip) return skip;
  const r = parse(OcsfFindingSchema, raw, 'Security Hub OCSF finding');
  if ('error' in r) return { ok: false, source: 'securityhub-ocsf', error: r.error, findingId: text(at(raw, 'finding_info', 'uid')), raw };
  const f = r.data;
  const info = f.finding_info;
  const createdAt = (info.created_time_dt ?? ms(info.created_time) ?? f.time_dt ?? ms(f.time))!;
  const updatedAt = info.modified_time_dt ?? ms(info.modified_time) ?? f.metadata?.modified_time_dt ?? f.time_dt ?? ms(f.time) ?? createdAt;
  const resources: ResourceRef[] = [];
  const resourceTypes: string[] = [];
  for (const res of f.resources ?? []) {
    const type = asffResourceType(res.type ?? '');
    resourceTypes.push(type);
    if (type === 'AwsS3Bucket' || type === 'AwsS3Object') {
      const arn = res.uid ? S3_ARN.exec(res.uid) : null;
      const bucket = arn?.[1] ?? (type === 'AwsS3Bucket' ? (res.name ?? res.uid) : undefined);
      if (bucket) resources.push({ kind: 's3', bucket, ...(type === 'AwsS3Object' && arn?.[2] ? { key: arn[2] } : {}) });
    } else if (type.startsWith('AwsIam')) {
      resources.push({ kind: 'identity', type });
    }
  }
  const first = info.first_seen_time_dt;
  const last = info.last_seen_time_dt;
  const type = info.types?.[0] ?? f.class_name ?? 'unknown';
  return {
    ok: true,
    finding: {
      source: 'securityhub-ocsf',
      findingId: info.uid,
      type,
      severity: ocsfSeverity(f.severity_id),
      title: clean(info.title, type),
      account: f.cloud.account.uid,
      region: f.cloud.region ?? productRegion(f.metadata?.product?.uid) ?? f.resources?.[0]?.region ?? '',
      createdAt,
      updatedAt,
      ...(first && last && Date.parse(last) >= Date.parse(first) ? { window: { start: first, end: last } } : {}),
      resources,
      resourceTypes,
      archived: false,
      sample: false,
      ...productOf(f.metadata?.product?.uid, f.metadata?.product?.name, undefined),
      report: { severity: f.severity ?? `severity_id ${f.severity_id}`, ...(f.count !== undefined ? { count: f.count } : {}) },
    },
  };
}

const SOURCES_BY_EVENT_TYPE = new Map<string, FindingSource>(
  Object.entries(FindingEventTypes).map(([name, t]) => [`${t.source}/${t.detailType}`, name as FindingSource]),
);
const EVENT_SOURCES = [...new Set(Object.values(FindingEventTypes).map((t) => t.source))];

/**
 * Any of the finding events, as EventBridge delivers it, into one parse result per finding
 * (Security Hub events carry several). A bad finding is a result of its own: the others go on.
 */
export function parseFindingEvent(event: unknown): ParsedFinding[] {
  const eventSource = idOf(event, 'source') ?? '';
  const source = SOURCES_BY_EVENT_TYPE.get(`${eventSource}/${idOf(event, 'detail-type') ?? ''}`);
  const reject = (error: ValidationError): ParsedFinding[] => [
    { ok: false, source: source ?? (eventSource === 'aws.securityhub' ? 'securityhub' : undefined), error, raw: event },
  ];
  switch (source) {
    case 'macie': {
      const r = parse(MacieFindingEventSchema, event, 'Macie Finding event');
      return 'error' in r ? reject(r.error) : [within('detail', parseMacieFinding(r.data.detail))];
    }
    case 'guardduty': {
      const r = parse(GuardDutyFindingEventSchema, event, 'GuardDuty Finding event');
      return 'error' in r ? reject(r.error) : [within('detail', parseGuardDutyFinding(r.data.detail))];
    }
    case 'securityhub': {
      const r = parse(SecurityHubFindingsEventSchema, event, 'Security Hub Findings - Imported event');
      return 'error' in r ? reject(r.error) : r.data.detail.findings.map((f, i) => within(`detail.findings.${i}`, parseAsffFinding(f)));
    }
    case 'securityhub-ocsf': {
      const r = parse(SecurityHubOcsfEventSchema, event, 'Findings Imported V2 event');
      return 'error' in r ? reject(r.error) : r.data.detail.findings.map((f, i) => within(`detail.findings.${i}`, parseOcsfFinding(f)));
    }
    default:
      return reject(
        new ValidationError(
          'finding event',
          EVENT_SOURCES.includes(eventSource as (typeof EVENT_SOURCES)[number])
            ? [
                {
                  path: 'detail-type',
                  message: `must be one of ${Object.values(FindingEventTypes)
                    .filter((t) => t.source === eventSource)
                    .map((t) => `"${t.detailType}"`)
                    .join(', ')}`,
                },
              ]
            : [{ path: 'source', message: `must be one of ${EVENT_SOURCES.join(', ')}` }],
        ),
      );
  }
}

/** Issue paths of a finding parsed out of an event, as paths in the event. */
function within(prefix: string, parsed: ParsedFinding): ParsedFinding {
  if (parsed.ok) return parsed;
  const issues = parsed.error.issues.map((i) => ({ ...i, path: i.path === '(root)' ? prefix : `${prefix}.${i.path}` }));
  return { ...parsed, error: new ValidationError(parsed.error.message.replace(/^invalid ([^:]+):.*$/, '$1'), issues) };
}

const EXTERNAL_ID = /^[\w.:/@+=,-]{1,256}$/;

/**
 * The anomaly id of a finding: `<origin>:<finding id>`, the key both the event path and the sweep
 * claim. Ids too long or with other characters (some ASFF ids) are hashed.
 */
export function anomalyIdOf(source: FindingSource, findingId: string): string {
  // ASFF and OCSF findings are both Security Hub's: a finding emitted in both formats is one anomaly.
  const origin = originOf(source);
  const plain = `${origin}:${findingId}`;
  if (EXTERNAL_ID.test(plain)) return plain;
  return `${origin}:sha256:${createHash('sha256').update(findingId).digest('hex').slice(0, 40)}`;
}
