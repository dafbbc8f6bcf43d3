/**
 * The program-state item, as collectors read it: the one definition of the kill switch flag's
 * shape. The product's schemas (shared/schemas) re-export these, so the flag a collector reads
 * and the flag killswitch writes cannot drift apart.
 */
import * as z from 'zod';

/** Lower-case slug used for program and dataset ids: stable, URL- and key-safe. */
export const SlugSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be 1-63 characters of a-z, 0-9 and "-", starting with a letter or digit');

export const ProgramIdSchema = SlugSchema;

export const IncidentIdSchema = z.string().regex(/^inc-\d{8}-[0-9a-f]{12}$/, 'must look like inc-YYYYMMDD-<12 hex>');

/**
 * A program scope: `*` (the whole program) or `<dimension>#<value>`,
 * for example `category#keystrokes` or `region#eu-west-1`.
 */
export const ScopeSchema = z
  .string()
  .regex(/^(\*|[a-z][a-z0-9-]{0,31}#[A-Za-z0-9._-]{1,64})$/, 'must be "*" or "<dimension>#<value>", e.g. "category#keystrokes"');

/** The scope of the whole program. */
export const GLOBAL_SCOPE = '*';

export const TimestampSchema = z.iso.datetime({ offset: true });

export const ProgramStatusSchema = z.enum(['ACTIVE', 'PAUSED']);
export type ProgramStatus = z.infer<typeof ProgramStatusSchema>;

/** What caused the current state. */
export const StateTriggerSchema = z.enum(['SEED', 'ANOMALY', 'OPERATOR', 'BREAK_GLASS', 'RESUME']);
export type StateTrigger = z.infer<typeof StateTriggerSchema>;

/** One item of the ProgramState table: the kill switch flag of one program scope. */
export const ProgramStateSchema = z.object({
  programId: ProgramIdSchema,
  scope: ScopeSchema,
  status: ProgramStatusSchema,
  version: z.number().int().min(1),
  changedAt: TimestampSchema,
  changedBy: z.string().min(1),
  changedByVerified: z.boolean(),
  reason: z.string(),
  trigger: StateTriggerSchema,
  incidentId: IncidentIdSchema.optional(),
  /** Set by an approved resume, so a retried approval can recognise its own write. */
  resumeRequestId: z.string().optional(),
});
export type ProgramState = z.infer<typeof ProgramStateSchema>;
