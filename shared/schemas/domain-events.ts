import { z } from './z.ts';
import {
  DatasetIdSchema,
  IncidentIdSchema,
  ProgramIdSchema,
  ScopeSchema,
  SeveritySchema,
  TimestampSchema,
} from './common.ts';
import { StateTriggerSchema } from './program-state.ts';

/** The `source` of every event killswitch itself puts on the bus. */
export const KILLSWITCH_SOURCE = 'killswitch';

export const DetailType = {
  KillSwitchEngaged: 'Kill Switch Engaged',
  KillSwitchReleased: 'Kill Switch Released',
  GrantsRevoked: 'Grants Revoked',
  GrantsRestored: 'Grants Restored',
  IncidentEscalated: 'Incident Escalated',
  ExposureNoticesPlanned: 'Exposure Notices Planned',
} as const;

export const NotifyModeSchema = z.enum(['auto', 'manual']);

export const KillSwitchEngagedSchema = z.object({
  incidentId: IncidentIdSchema,
  programId: ProgramIdSchema,
  scope: ScopeSchema,
  stateVersion: z.number().int().min(1),
  /** False when the scope was already paused and this incident was linked to it. */
  stateChanged: z.boolean(),
  datasetIds: z.array(DatasetIdSchema),
  severity: SeveritySchema,
  trigger: StateTriggerSchema,
  /** `auto`: notices are planned as soon as this event is seen; `manual`: an operator runs `notify`. */
  notify: NotifyModeSchema,
  engagedAt: TimestampSchema,
});
export type KillSwitchEngaged = z.infer<typeof KillSwitchEngagedSchema>;

export const KillSwitchReleasedSchema = z.object({
  incidentId: IncidentIdSchema,
  programId: ProgramIdSchema,
  scope: ScopeSchema,
  stateVersion: z.number().int().min(1),
  requestId: z.uuid(),
  releasedAt: TimestampSchema,
});
export type KillSwitchReleased = z.infer<typeof KillSwitchReleasedSchema>;

/** An anomaly was reported again with more (a higher severity, more datasets): its incident now concerns more. */
export const IncidentEscalatedSchema = z.object({
  incidentId: IncidentIdSchema,
  programId: ProgramIdSchema,
  revision: z.number().int().min(2),
  severity: SeveritySchema,
  datasetIds: z.array(DatasetIdSchema),
  escalatedAt: TimestampSchema,
});
export type IncidentEscalated = z.infer<typeof IncidentEscalatedSchema>;
