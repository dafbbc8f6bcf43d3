import { z } from './z.ts';
import { EventBridgeEnvelopeSchema } from './aws-events.ts';
import { toFieldIssues, ValidationError } from '../domain/errors.ts';
import {
  DatasetIdSchema,
  ExternalIdSchema,
  GLOBAL_SCOPE,
  ProgramIdSchema,
  ScopeSchema,
  SeveritySchema,
  TimestampSchema,
  cutText,
  textSchema,
  wellFormed,
} from './common.ts';

export const ANOMALY_DETAIL_TYPE = 'Anomaly Detected';

export const ExposureSchema = z
  .object({
    /** Who could see the data, in words: "all-staff Google group", "public bucket". */
    audience: textSchema(500),
    /** The principals that were wrongly given access (ARNs or group ids). */
    principals: z.array(z.string().min(1).max(2048)).max(1000).default([]),
    window: z
      .object({ start: TimestampSchema, end: TimestampSchema })
      .refine((w) => Date.parse(w.end) >= Date.parse(w.start), { message: 'end must not be before start', path: ['end'] }),
  });
export type Exposure = z.infer<typeof ExposureSchema>;

/** The `detail` of an `Anomaly Detected` event that a detector puts on the bus. */
export const AnomalyDetailSchema = z.object({
  anomalyId: ExternalIdSchema,
  programId: ProgramIdSchema,
  detector: textSchema(128),
  severity: SeveritySchema,
  /** What kind of anomaly: `access-exposure`, `exfiltration`, `public-bucket`, … */
  kind: z.string().regex(/^[a-z][a-z0-9-]{0,63}$/, 'must be a lower-case kebab-case word, e.g. "access-exposure"'),
  /** Datasets concerned; empty means "all of the program's datasets". */
  datasetIds: z.array(DatasetIdSchema).max(100).default([]),
  scope: ScopeSchema.optional(),
  exposure: ExposureSchema.optional(),
  observedAt: TimestampSchema,
  summary: textSchema(2000),
});
export type AnomalyDetail = z.infer<typeof AnomalyDetailSchema>;
export type AnomalyDetailInput = z.input<typeof AnomalyDetailSchema>;

/**
 * The fields an anomaly must have for the kill switch to act on it: which anomaly, which program,
 * how severe. Everything else is cleaned or replaced instead of refusing the pause (issue 13):
 * free text never stands between a CRITICAL anomaly and the flag.
 */
export const MinimalAnomalySchema = z.object({
  anomalyId: ExternalIdSchema,
  programId: ProgramIdSchema,
  severity: SeveritySchema,
});

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;

/** Free text made storable: well-formed, control characters removed, trimmed, cut to `max` characters (never inside a surrogate pair). */
export function cleanText(value: unknown, max: number): string | undefined {
  if (typeof value !== 'string') return undefined;
  const cleaned = wellFormed(value).replace(CONTROL, ' ').trim();
  if (!cleaned) return undefined;
  return cleaned.length > max ? `${cutText(cleaned, max - 1)}…` : cleaned;
}

/**
 * An `Anomaly Detected` detail as the trigger acts on it: the minimal fields checked strictly
 * (anything wrong there is an error that names the field), every other field cleaned or replaced,
 * each replacement named in `issues` (they are kept in the incident for the investigators).
 */
export function normaliseAnomaly(raw: unknown, now: Date): { anomaly: AnomalyDetail; issues: string[] } {
  const minimal = MinimalAnomalySchema.safeParse(raw);
  if (!minimal.success) throw new ValidationError('Anomaly Detected event', toFieldIssues(minimal.error).map((i) => ({ ...i, path: i.path === '(root)' ? 'detail' : `detail.${i.path}` })));
  const input = raw as Record<string, unknown>;
  const issues: string[] = [];
  const field = <T>(name: string, schema: z.ZodType<T>, fallback: T, note: string): T => {
    if (input[name] === undefined) return fallback;
    const parsed = schema.safeParse(input[name]);
    if (parsed.success) return parsed.data;
    issues.push(`${name}: ${note}`);
    return fallback;
  };
  const text = (name: string, max: number, fallback: string): string => {
    const value = input[name];
    const cleaned = cleanText(value, max);
    if (cleaned === undefined) {
      issues.push(`${name}: ${value === undefined ? 'missing' : 'not usable text'}; replaced by "${fallback}"`);
      return fallback;
    }
    if (cleaned !== value) issues.push(`${name}: cleaned (control characters or over ${max} characters)`);
    return cleaned;
  };
  const named = Array.isArray(input.datasetIds) ? input.datasetIds : [];
  const datasetIds = named.filter((d): d is string => DatasetIdSchema.safeParse(d).success);
  if (named.length !== datasetIds.length || (input.datasetIds !== undefined && !Array.isArray(input.datasetIds))) issues.push('datasetIds: entries that are not dataset ids were left out');
  const anomaly = AnomalyDetailSchema.parse({
    ...minimal.data,
    detector: text('detector', 128, 'unknown detector'),
    kind: field('kind', AnomalyDetailSchema.shape.kind, 'unspecified', 'not a kebab-case word; recorded as "unspecified"'),
    datasetIds: datasetIds.slice(0, 100),
    ...(input.scope !== undefined ? { scope: field('scope', ScopeSchema, GLOBAL_SCOPE, 'not a scope; the whole program is paused') } : {}),
    ...(input.exposure !== undefined ? { exposure: field('exposure', ExposureSchema.optional(), undefined, 'malformed; left out') } : {}),
    observedAt: field('observedAt', TimestampSchema, now.toISOString(), 'not an ISO 8601 time; the time it was received is used'),
    summary: text('summary', 2000, '(no summary)'),
  });
  return { anomaly, issues };
}

/** The whole EventBridge event, as a Lambda target receives it. */
export const AnomalyEventSchema = EventBridgeEnvelopeSchema.extend({
  'detail-type': z.literal(ANOMALY_DETAIL_TYPE),
  detail: AnomalyDetailSchema,
});
export type AnomalyEvent = z.infer<typeof AnomalyEventSchema>;
