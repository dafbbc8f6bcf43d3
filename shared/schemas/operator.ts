import { z } from './z.ts';
import { EmployeeIdSchema, NoticeTypeSchema } from './notices.ts';
import {
  ExternalIdSchema,
  IncidentIdSchema,
  ProgramIdSchema,
  ReasonSchema,
  ScopeSchema,
  SeveritySchema,
  TimestampSchema,
  GLOBAL_SCOPE,
  textSchema,
} from './common.ts';

/**
 * A client-chosen key that makes a retried command a no-op: the same key with the same
 * command returns the first result instead of acting twice.
 */
const IdempotencyKeySchema = ExternalIdSchema.optional();

export const PauseCommandSchema = z.object({
  action: z.literal('pause'),
  programId: ProgramIdSchema,
  scope: ScopeSchema.default(GLOBAL_SCOPE),
  reason: ReasonSchema,
  /** Link the pause to an existing incident; a new incident is opened when omitted. */
  incidentId: IncidentIdSchema.optional(),
  idempotencyKey: IdempotencyKeySchema,
  /** Say what would stop and what would be revoked, and change nothing. */
  dryRun: z.boolean().optional(),
});

export const StatusCommandSchema = z.object({
  action: z.literal('status'),
  programId: ProgramIdSchema.optional(),
});

export const RequestResumeCommandSchema = z.object({
  action: z.literal('request-resume'),
  programId: ProgramIdSchema,
  scope: ScopeSchema.default(GLOBAL_SCOPE),
  reason: ReasonSchema,
  /** The incident this resume closes. */
  incidentId: IncidentIdSchema,
  idempotencyKey: IdempotencyKeySchema,
});

export const ApproveResumeCommandSchema = z.object({
  action: z.literal('approve-resume'),
  programId: ProgramIdSchema,
  requestId: z.uuid(),
  reason: ReasonSchema.optional(),
});

export const IncidentCommandSchema = z.object({
  action: z.literal('incident'),
  incidentId: IncidentIdSchema,
});


export const ListIncidentsCommandSchema = z.object({
  action: z.literal('list-incidents'),
  programId: ProgramIdSchema.optional(),
  limit: z.number().int().min(1).max(100).default(20),
  /** Only incidents in this status. */
  status: z.enum(['OPEN', 'RESOLVED']).optional(),
  /** Only incidents at least this severe. */
  severity: SeveritySchema.optional(),
  /** Only incidents opened at or after this time. */
  since: TimestampSchema.optional(),
});
export type ListIncidentsCommand = z.infer<typeof ListIncidentsCommandSchema>;

/** Two-person requests (resume, grant restore), by default the ones still waiting for a second person. */
export const ListRequestsCommandSchema = z.object({
  action: z.literal('list-requests'),
  programId: ProgramIdSchema.optional(),
  kind: z.enum(['RESUME', 'RESTORE_GRANTS']).optional(),
  status: z.enum(['PENDING', 'APPROVED', 'REJECTED']).default('PENDING'),
  limit: z.number().int().min(1).max(100).default(50),
});

export const RestoreGrantsCommandSchema = z.object({
  action: z.literal('restore-grants'),
  incidentId: IncidentIdSchema,
  reason: ReasonSchema,
  idempotencyKey: IdempotencyKeySchema,
});

export const ApproveRestoreGrantsCommandSchema = z.object({
  action: z.literal('approve-restore-grants'),
  requestId: z.uuid(),
  reason: ReasonSchema.optional(),
});

/**
 * The notice to send: the exposure notice, then — once per employee each — an `update` (what has
 * changed since) and a `resolved` notice (what was done, whether collection resumed).
 */
const SendableNoticeTypeSchema = NoticeTypeSchema.default('exposure');

export const NotifyCommandSchema = z.object({
  action: z.literal('notify'),
  incidentId: IncidentIdSchema,
  noticeType: SendableNoticeTypeSchema,
});

export const ResendFailedCommandSchema = z.object({
  action: z.literal('resend-failed'),
  incidentId: IncidentIdSchema,
  noticeType: SendableNoticeTypeSchema,
});

/** One employee's notice of an incident: its delivery entry and the exact text sent (the employee's right of access). */
export const NoticeCommandSchema = z.object({
  action: z.literal('notice'),
  incidentId: IncidentIdSchema,
  employeeId: EmployeeIdSchema,
  noticeType: NoticeTypeSchema.default('exposure'),
});

/** Recompute an incident's hash chains (its timeline, its scope's audit trail) against the exported heads. */
export const VerifyCommandSchema = z.object({
  action: z.literal('verify'),
  incidentId: IncidentIdSchema,
});

/**
 * An Art. 33 decision on an incident: the supervisory authority was notified (with its reference),
 * an update was sent to it (Art. 33(4), information in phases), or the breach is not notifiable
 * ("unlikely to result in a risk", with the documented reason). Recorded in the incident's
 * hash-chained timeline; it stops the 72-hour alerts.
 */
export const AuthorityCommandSchema = z.object({
  action: z.literal('authority'),
  incidentId: IncidentIdSchema,
  decision: z.enum(['notified', 'update', 'not-notifiable']),
  /** Which supervisory authority (for example "ICO", "CNIL", "BfDI"). Required for `notified`. */
  authority: textSchema(120).optional(),
  /** The authority's reference (case number) for the notification. Required for `notified`. */
  reference: textSchema(120).optional(),
  /** When it happened (default: now). A notification made earlier is recorded with its own time. */
  at: TimestampSchema.optional(),
  /** `not-notifiable`: why there is no risk; `update`: what it adds; `notified` after 72 h: the reasons for the delay. */
  reason: ReasonSchema.optional(),
});
export type AuthorityCommand = z.infer<typeof AuthorityCommandSchema>;

/** What an incident report is made of: the incident, its register entry, its integrity proof. */
export const ReportCommandSchema = z.object({
  action: z.literal('report'),
  incidentId: IncidentIdSchema,
});

/** The breach register (GDPR Art. 33(5)): every incident opened in a period, notified or not. */
export const RegisterCommandSchema = z
  .object({
    action: z.literal('register'),
    /** Incidents opened at or after this time (default: all). */
    since: TimestampSchema.optional(),
    /** …and at or before this time (default: now). */
    until: TimestampSchema.optional(),
    programId: ProgramIdSchema.optional(),
  })
  .refine((c) => !c.since || !c.until || Date.parse(c.until) >= Date.parse(c.since), {
    message: 'must not be before since',
    path: ['until'],
  });

export const OperatorCommandSchema = z.discriminatedUnion('action', [
  PauseCommandSchema,
  StatusCommandSchema,
  RequestResumeCommandSchema,
  ApproveResumeCommandSchema,
  IncidentCommandSchema,
  ListIncidentsCommandSchema,
  ListRequestsCommandSchema,
  RestoreGrantsCommandSchema,
  ApproveRestoreGrantsCommandSchema,
  NotifyCommandSchema,
  ResendFailedCommandSchema,
  NoticeCommandSchema,
  VerifyCommandSchema,
  AuthorityCommandSchema,
  RegisterCommandSchema,
  ReportCommandSchema,
]);
export type OperatorCommand = z.infer<typeof OperatorCommandSchema>;
export type OperatorCommandInput = z.input<typeof OperatorCommandSchema>;
/** The action a command names: `OperatorCommandSchema`'s discriminator. */
export type OperatorAction = OperatorCommand['action'];
/** One action's command as a client writes it (fields with a default may be left out). */
export type OperatorCommandInputFor<A extends OperatorAction> = Extract<OperatorCommandInput, { action: A }>;
export type PauseCommand = z.infer<typeof PauseCommandSchema>;
export type RequestResumeCommand = z.infer<typeof RequestResumeCommandSchema>;
export type ApproveResumeCommand = z.infer<typeof ApproveResumeCommandSchema>;
export type ListRequestsCommand = z.infer<typeof ListRequestsCommandSchema>;
export type NotifyCommand = z.infer<typeof NotifyCommandSchema>;
export type ResendFailedCommand = z.infer<typeof ResendFailedCommandSchema>;
export type RestoreGrantsCommand = z.infer<typeof RestoreGrantsCommandSchema>;
export type ApproveRestoreGrantsCommand = z.infer<typeof ApproveRestoreGrantsCommandSchema>;

/** The only action a break-glass (direct, unverified) invocation may perform. */
export const BreakGlassCommandSchema = PauseCommandSchema;
