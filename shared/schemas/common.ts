import { z } from './z.ts';

/** Lower-case slug used for program and dataset ids: stable, URL- and key-safe. */
export const SlugSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be 1-63 characters of a-z, 0-9 and "-", starting with a letter or digit');

export const ProgramIdSchema = SlugSchema;
export const DatasetIdSchema = SlugSchema;

/** Opaque identifier from an external system (anomaly ids, finding ids, request ids). */
export const ExternalIdSchema = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[\w.:/@+=,-]+$/, 'may contain only letters, digits and . : / @ + = , _ -');

export const IncidentIdSchema = z.string().regex(/^inc-\d{8}-[0-9a-f]{12}$/, 'must look like inc-YYYYMMDD-<12 hex>');

/**
 * A program scope: `*` (the whole program) or `<dimension>#<value>`,
 * for example `category#keystrokes` or `region#eu-west-1`.
 */
export const ScopeSchema = z
  .string()
  .regex(/^(\*|[a-z][a-z0-9-]{0,31}#[A-Za-z0-9._-]{1,64})$/, 'must be "*" or "<dimension>#<value>", e.g. "category#keystrokes"');

export const GLOBAL_SCOPE = '*';

export const SeveritySchema = z.enum(['LOW', 'MEDIUM', 'HIGH', 'CRITICAL']);
export type Severity = z.infer<typeof SeveritySchema>;
export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { LOW: 1, MEDIUM: 2, HIGH: 3, CRITICAL: 4 };
export const higherSeverity = (a: Severity, b: Severity): Severity => (SEVERITY_RANK[a] >= SEVERITY_RANK[b] ? a : b);

export const TimestampSchema = z.iso.datetime({ offset: true });

// Control characters (other than tab/newline) never belong in human text that lands in an audit trail.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/** Free text written by a human or a detector: trimmed, bounded, no control characters. */
export const textSchema = (max: number) =>
  z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine((s) => !CONTROL_CHARS.test(s), 'must not contain control characters')
    .refine((s) => !LONE_SURROGATE.test(s), 'must be well-formed Unicode (it contains half of a surrogate pair)');

/** Half of a UTF-16 surrogate pair on its own: not a character, and not encodable as UTF-8 (which DynamoDB stores). */
export const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');

/** `text` with every lone surrogate replaced by U+FFFD (what String.prototype.toWellFormed does). */
export const wellFormed = (text: string): string => text.replace(LONE_SURROGATES, '\uFFFD');

/** At most `max` UTF-16 units of `text`, never cutting a surrogate pair in half. */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  const end = /[\uD800-\uDBFF]/.test(text[max - 1] ?? '') ? max - 1 : max;
  return text.slice(0, end);
}

export const ReasonSchema = textSchema(500);

/** Who caused a change: an IAM principal ARN, or `detector:<name>` for automation. */
export const PrincipalSchema = z.object({
  id: z.string().min(1).max(2048),
  /** True only when AWS verified the identity (Function URL with AWS_IAM auth). */
  verified: z.boolean(),
  /**
   * The person behind a verified operator identity, as the two-person rule compares it: a name
   * the caller cannot choose (see shared/killswitch/identity.ts), lower-cased. Absent for
   * automation and break-glass.
   */
  person: z.string().min(1).max(256).optional(),
});
export type Principal = z.infer<typeof PrincipalSchema>;
