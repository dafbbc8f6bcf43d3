import { z } from './z.ts';
import { IncidentIdSchema, ProgramIdSchema, ScopeSchema, TimestampSchema } from './common.ts';

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
