import { z } from './z.ts';
import { EventBridgeEnvelopeSchema } from './aws-events.ts';
import {
  DatasetIdSchema,
  ExternalIdSchema,
  ProgramIdSchema,
  ScopeSchema,
  SeveritySchema,
  TimestampSchema,
  textSchema,
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

/** The whole EventBridge event, as a Lambda target receives it. */
export const AnomalyEventSchema = EventBridgeEnvelopeSchema.extend({
  'detail-type': z.literal(ANOMALY_DETAIL_TYPE),
  detail: AnomalyDetailSchema,
});
export type AnomalyEvent = z.infer<typeof AnomalyEventSchema>;
