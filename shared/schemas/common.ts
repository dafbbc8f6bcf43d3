import { z } from './z.ts';

// The ids the flag's item holds are defined by the collector SDK that reads it (packages/collector).
import { GLOBAL_SCOPE, IncidentIdSchema, ProgramIdSchema, ScopeSchema, SlugSchema, TimestampSchema } from '#collector/state.ts';
export { GLOBAL_SCOPE, IncidentIdSchema, ProgramIdSchema, ScopeSchema, SlugSchema, TimestampSchema };
export const DatasetIdSchema = SlugSchema;

/** Opaque identifier from an external system (anomaly ids, finding ids, request ids). */
export const ExternalIdSchema = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[\w.:/@+=,-]+$/, 'may contain only letters, digits and . : / @ + = , _ -');

export const SeveritySchema = z.enum(['LOW', 'MEDIUM', 'HIGH', 'CRITICAL']);
export type Severity = z.infer<typeof SeveritySchema>;
export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { LOW: 1, MEDIUM: 2, HIGH: 3, CRITICAL: 4 };
export const higherSeverity = (a: Severity, b: Severity): Severity => (SEVERITY_RANK[a] >= SEVERITY_RANK[b] ? a : b);

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
   * the caller cannot choose (see shared/domain/identity.ts), lower-cased. Absent for
   * automation and break-glass.
   */
  person: z.string().min(1).max(256).optional(),
});
export type Principal = z.infer<typeof PrincipalSchema>;
