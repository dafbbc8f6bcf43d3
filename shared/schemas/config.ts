import { z } from './z.ts';
import { DatasetIdSchema, ProgramIdSchema, SeveritySchema } from './common.ts';
import { NotifyModeSchema } from './domain-events.ts';

/** What the trigger does with an anomaly of a given severity. */
export const PolicyActionSchema = z.enum(['PAUSE', 'RECORD']);
export type PolicyAction = z.infer<typeof PolicyActionSchema>;

export const SeverityPolicySchema = z
  .object({
    LOW: PolicyActionSchema.default('RECORD'),
    MEDIUM: PolicyActionSchema.default('RECORD'),
    HIGH: PolicyActionSchema.default('PAUSE'),
    CRITICAL: PolicyActionSchema.default('PAUSE'),
  })
  .default({ LOW: 'RECORD', MEDIUM: 'RECORD', HIGH: 'PAUSE', CRITICAL: 'PAUSE' })
  .refine((p) => p.CRITICAL === 'PAUSE', { message: 'CRITICAL anomalies must always pause', path: ['CRITICAL'] });
export type SeverityPolicy = z.infer<typeof SeverityPolicySchema>;

/** One collection program that killswitch protects, as configured at deploy time. */
export const ProgramConfigSchema = z.object({
  programId: ProgramIdSchema,
  /** Every dataset the program writes; an incident that names none concerns all of them. */
  datasetIds: z.array(DatasetIdSchema).min(1),
  severityPolicy: SeverityPolicySchema,
  /** Whether exposure notices go out as soon as the switch engages, or wait for an operator. */
  notify: NotifyModeSchema.default('manual'),
  /** Regions the program collects in: each is a scope (`region#<name>`) that can be paused alone. */
  regions: z.array(z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'must be an AWS region such as eu-west-1')).max(30).default([]),
  /** Groups of collectors (teams, sites): each is a scope (`group#<name>`) that can be paused alone. */
  groups: z.array(z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 characters of letters, digits, ".", "_" or "-"')).max(50).default([]),
});
export type ProgramConfig = z.infer<typeof ProgramConfigSchema>;
export type ProgramConfigInput = z.input<typeof ProgramConfigSchema>;

export const ProgramsConfigSchema = z
  .array(ProgramConfigSchema)
  .min(1)
  .refine((ps) => new Set(ps.map((p) => p.programId)).size === ps.length, 'program ids must be unique');

export { SeveritySchema };
