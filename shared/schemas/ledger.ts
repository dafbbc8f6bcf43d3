import { z } from './z.ts';
import {
  DatasetIdSchema,
  IncidentIdSchema,
  ProgramIdSchema,
  ScopeSchema,
  SeveritySchema,
  TimestampSchema,
} from './common.ts';
import { ExposureSchema } from './anomaly.ts';
import { NotifyModeSchema } from './domain-events.ts';
import { ProgramStatusSchema, StateTriggerSchema } from './program-state.ts';

/** What the system did when the incident opened. */
export const IncidentActionSchema = z.enum(['PAUSED', 'LINKED', 'RECORDED']);

export const IncidentSchema = z.object({
  incidentId: IncidentIdSchema,
  programId: ProgramIdSchema,
  scope: ScopeSchema,
  severity: SeveritySchema,
  status: z.enum(['OPEN', 'RESOLVED']),
  action: IncidentActionSchema,
  openedAt: TimestampSchema,
  openedBy: z.string(),
  trigger: StateTriggerSchema,
  anomalyId: z.string().optional(),
  detector: z.string().optional(),
  kind: z.string().optional(),
  summary: z.string().optional(),
  datasetIds: z.array(DatasetIdSchema),
  /** Datasets an anomaly named that the program does not have: reported, never acted on. */
  unknownDatasetIds: z.array(z.string()).default([]),
  exposure: ExposureSchema.optional(),
  stateVersion: z.number().int().optional(),
  /** Set when the scope was already paused by another incident, or when this incident continues a closed one. */
  linkedIncidentId: IncidentIdSchema.optional(),
  notify: NotifyModeSchema,
  /**
   * What a resume adds to the scope's closed causes, besides the incident id, so that a redelivered
   * report of the same anomaly cannot pause again (a hash: collectors read the closed causes).
   */
  causeKey: z.string().optional(),
  /** Reports recorded in this incident: 1, plus one per escalation (a higher severity, more datasets). */
  revision: z.number().int().min(1).default(1),
  /** Fields of the report that were cleaned or replaced instead of refusing the pause (over-long text, a scope the program does not declare…). */
  inputIssues: z.array(z.string()).default([]),
  openedByPerson: z.string().optional(),
  resolvedAt: TimestampSchema.optional(),
  resolvedBy: z.string().optional(),
  resolvedByPerson: z.string().optional(),
  /** The approved resume that resolved it. */
  resolvedByRequestId: z.string().optional(),
});
export type Incident = z.infer<typeof IncidentSchema>;

export const TimelineEntrySchema = z.object({
  incidentId: IncidentIdSchema,
  at: TimestampSchema,
  type: z.string(),
  actor: z.string(),
  message: z.string(),
  data: z.record(z.string(), z.unknown()).optional(),
});
export type TimelineEntry = z.infer<typeof TimelineEntrySchema>;

/** One entry per program-state version: the audit trail a regulator reads. */
export const AuditEntrySchema = z.object({
  programId: ProgramIdSchema,
  scope: ScopeSchema,
  version: z.number().int().min(1),
  status: ProgramStatusSchema,
  at: TimestampSchema,
  by: z.string(),
  verified: z.boolean(),
  reason: z.string(),
  trigger: StateTriggerSchema,
  incidentId: IncidentIdSchema.optional(),
  requestId: z.string().optional(),
  /** The person behind a verified operator identity (the two-person rule's name for them). */
  person: z.string().optional(),
});
export type AuditEntry = z.infer<typeof AuditEntrySchema>;

const ApprovalRequestBase = z.object({
  requestId: z.uuid(),
  programId: ProgramIdSchema,
  incidentId: IncidentIdSchema,
  reason: z.string(),
  requestedBy: z.string(),
  /**
   * The person who asked: the approver must be a different person, whatever their session names.
   * Absent only on requests made before people were identified (issue 13): those are refused.
   */
  requestedByPerson: z.string().optional(),
  requestedAt: TimestampSchema,
  status: z.enum(['PENDING', 'APPROVED', 'REJECTED']),
  /** Who decided (approved, or whose approval was refused). */
  approvedBy: z.string().optional(),
  approvedByPerson: z.string().optional(),
  decidedAt: TimestampSchema.optional(),
  decisionReason: z.string().optional(),
});

/** Two-person resume of a paused scope. */
export const ResumeRequestSchema = ApprovalRequestBase.extend({
  kind: z.literal('RESUME'),
  scope: ScopeSchema,
  /** The state version the requester saw; the approval applies only at this version. */
  expectedVersion: z.number().int().min(1),
  /** Pause attempts the scope had registered while paused when the request was made; one more and the approval refuses. */
  expectedLinks: z.number().int().min(0).default(0),
  /** The open incidents of the scope the request saw: the approval closes these, and refuses if any other is open. */
  closes: z.array(IncidentIdSchema).default([]),
  /** Each of those incidents' revision when the request was made: an escalation since then refuses the approval. */
  seenRevisions: z.record(z.string(), z.number().int()).default({}),
  stateVersion: z.number().int().optional(),
});
export type ResumeRequest = z.infer<typeof ResumeRequestSchema>;

/** Two-person restore of the grants an incident revoked. */
export const RestoreRequestSchema = ApprovalRequestBase.extend({
  kind: z.literal('RESTORE_GRANTS'),
  /** The incident's datasets when the request was made: only their grants are restored (an escalation's new datasets need a new request). */
  datasetIds: z.array(z.string()).optional(),
  /** The incident's revision when the request was made: an escalation since then refuses the approval. */
  revision: z.number().int().optional(),
});
export type RestoreRequest = z.infer<typeof RestoreRequestSchema>;

export const ApprovalRequestSchema = z.discriminatedUnion('kind', [ResumeRequestSchema, RestoreRequestSchema]);
export type ApprovalRequest = z.infer<typeof ApprovalRequestSchema>;
