import { z } from './z.ts';
import { DatasetIdSchema, IncidentIdSchema, ProgramIdSchema, TimestampSchema } from './common.ts';

export const EmployeeIdSchema = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 characters of letters, digits, ".", "_" or "-"');

/** A category of collected data, as the DataSubjects index names it (`keystrokes`, `chat-transcripts`, …). */
export const DataCategorySchema = z.string().regex(/^[a-z][a-z0-9-]{0,63}$/, 'must be a lower-case kebab-case word');

/** DataSubjects item: whose data a dataset holds, which categories, and over which period. */
export const DataSubjectSchema = z.object({
  datasetId: DatasetIdSchema,
  employeeId: EmployeeIdSchema,
  categories: z.array(DataCategorySchema).min(1),
  heldFrom: TimestampSchema,
  heldTo: TimestampSchema,
  /** BCP 47 language tag for the notice; the default locale when absent. */
  locale: z.string().regex(/^[a-z]{2,3}(-[A-Z]{2})?$/).optional(),
});
export type DataSubject = z.infer<typeof DataSubjectSchema>;

/** One affected employee, merged across the incident's datasets. */
export interface AffectedEmployee {
  employeeId: string;
  categories: string[];
  datasetIds: string[];
  heldFrom: string;
  heldTo: string;
  locale?: string;
}

export const NoticeTypeSchema = z.enum(['exposure', 'update', 'resolved']);
export type NoticeType = z.infer<typeof NoticeTypeSchema>;

export const NoticeStatusSchema = z.enum(['PENDING', 'SENDING', 'SENT', 'FAILED']);

/** Who employees contact, and in whose name notices are sent (deployment configuration). */
export const NoticeSettingsSchema = z.object({
  organisation: z.string().min(1).max(200),
  contact: z.object({
    email: z.email().optional(),
    phone: z.string().max(40).optional(),
    url: z.url().optional(),
    postal: z.string().max(300).optional(),
  }),
  defaultLocale: z.string().default('en'),
});
export type NoticeSettings = z.infer<typeof NoticeSettingsSchema>;

/**
 * What a sent notice said, kept with its entry so that its exact text can be shown again (an
 * employee's right of access): the template that rendered it, the incident's facts as they were
 * when it was sent (they change: access revoked later), and the hash of the text. Never the text
 * itself, and never the exposed data.
 */
export const SentNoticeSchema = z.object({
  templateId: z.string(),
  textSha256: z.string().regex(/^[0-9a-f]{64}$/),
  facts: z.object({
    openedAt: TimestampSchema,
    exposure: z.object({ audience: z.string(), window: z.object({ start: z.string(), end: z.string() }) }).optional(),
    pausedAt: TimestampSchema.optional(),
    accessRevoked: z.boolean(),
    resumedAt: TimestampSchema.optional(),
    resolvedAt: TimestampSchema.optional(),
    accessRestored: z.boolean().optional(),
    /** The sender's notice settings (organisation, contact) then: they may be changed since. */
    settings: NoticeSettingsSchema.optional(),
  }),
});
export type SentNotice = z.infer<typeof SentNoticeSchema>;

/** The delivery ledger: one entry per employee, incident and notice type. */
export const NoticeEntrySchema = z.object({
  incidentId: IncidentIdSchema,
  employeeId: EmployeeIdSchema,
  noticeType: NoticeTypeSchema,
  categories: z.array(z.string()),
  datasetIds: z.array(z.string()),
  heldFrom: TimestampSchema,
  heldTo: TimestampSchema,
  locale: z.string().optional(),
  status: NoticeStatusSchema,
  attempts: z.number().int().min(0),
  plannedAt: TimestampSchema,
  claimedAt: TimestampSchema.optional(),
  sentAt: TimestampSchema.optional(),
  /** The SNS message id: the delivery record. */
  messageId: z.string().optional(),
  /** How the text that was sent is shown again (absent on entries sent before it was kept). */
  sent: SentNoticeSchema.optional(),
  error: z.string().optional(),
});
export type NoticeEntry = z.infer<typeof NoticeEntrySchema>;

/**
 * Work for the notice planner: resolve the audience and write the ledger, page by page. The
 * audience comes from the incident as the ledger records it (its datasets), never from the message.
 */
export const PlanWorkSchema = z.object({
  type: z.literal('plan'),
  incidentId: IncidentIdSchema,
  programId: ProgramIdSchema,
  noticeType: NoticeTypeSchema.default('exposure'),
  /** `all`: plan everyone affected. `failed`: queue FAILED (and stalled SENDING) entries again. */
  mode: z.enum(['all', 'failed']).default('all'),
  /** The operator who asked (absent: the program notifies automatically on `Kill Switch Engaged`). */
  requestedBy: z.string().optional(),
  /** Continue after this employee id (employees are planned in id order). */
  after: EmployeeIdSchema.optional(),
  /**
   * A round interrupted part-way: it runs from `after` to `until` (inclusive), and the ledger's
   * buckets in `done` were planned and queued (a continuation redoes only the others).
   */
  round: z
    .object({ until: EmployeeIdSchema, done: z.array(z.number().int().min(0).max(1023)).max(1024) })
    .optional(),
  continuation: z.number().int().min(0).default(0),
  planned: z.number().int().min(0).default(0),
  /** The categories of data of the employees planned so far (the breach register's "categories"). */
  categories: z.array(DataCategorySchema).max(200).optional(),
  /** Follow-ups: employees left out so far because their exposure notice was not sent. */
  notSent: z.number().int().min(0).optional(),
});
export type PlanWork = z.infer<typeof PlanWorkSchema>;

/** Work for the notice sender: up to 100 employees of one incident (the planner makes one batch per bucket of the delivery ledger). */
export const SendBatchSchema = z.object({
  type: z.literal('send'),
  incidentId: IncidentIdSchema,
  noticeType: NoticeTypeSchema,
  employeeIds: z.array(EmployeeIdSchema).min(1).max(100),
});
export type SendBatch = z.infer<typeof SendBatchSchema>;


/** Detail of `Exposure Notices Dispatched`: planning finished. */
export const NoticesPlannedSchema = z.object({
  incidentId: IncidentIdSchema,
  programId: ProgramIdSchema,
  noticeType: NoticeTypeSchema,
  planned: z.number().int(),
  finishedAt: TimestampSchema,
});
