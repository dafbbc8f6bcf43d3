import { z } from './z.ts';
import { EventBridgeEnvelopeSchema } from './aws-events.ts';
import { DatasetIdSchema, ProgramIdSchema, TimestampSchema } from './common.ts';

/*
 * The three AWS finding events killswitch takes, as AWS documents them:
 *
 * - Amazon Macie, `aws.macie` / `Macie Finding`: the detail is the Macie `Finding` object
 *   (Macie API reference, "Findings"; Macie user guide, "EventBridge event schema for Macie findings").
 * - Amazon GuardDuty, `aws.guardduty` / `GuardDuty Finding`: the detail is the GuardDuty `Finding`
 *   object in its JSON (camelCase) form, schemaVersion 2.0.
 * - AWS Security Hub, `aws.securityhub` / `Security Hub Findings - Imported`: the detail holds
 *   `findings`, an array of AWS Security Finding Format (ASFF) objects (Security Hub CSPM).
 * - AWS Security Hub, `aws.securityhub` / `Findings Imported V2`: the detail holds `findings`, an
 *   array of Open Cybersecurity Schema Framework (OCSF) finding objects (the Security Hub of 2025,
 *   "OCSF findings in Security Hub"). Its findings are the same findings as ASFF's where both are
 *   emitted: one anomaly id namespace, `securityhub:`, for both.
 *
 * Strict on the fields killswitch relies on (ids, type, severity, time, resources, account),
 * tolerant of everything else: zod drops unknown keys, and AWS adds fields over time.
 */

/** The finding events (and sweep sources) killswitch can take: each its own rule, sweep and watermark. */
export const FINDING_SOURCES = ['macie', 'guardduty', 'securityhub', 'securityhub-ocsf'] as const;
export type FindingSource = (typeof FINDING_SOURCES)[number];
/** Whose findings they are: the namespace of anomaly ids, relevance and kinds (ASFF and OCSF are both Security Hub's). */
export type FindingOrigin = 'macie' | 'guardduty' | 'securityhub';
export const originOf = (source: FindingSource): FindingOrigin => (source === 'securityhub-ocsf' ? 'securityhub' : source);

export const FindingEventTypes = {
  macie: { source: 'aws.macie', detailType: 'Macie Finding' },
  guardduty: { source: 'aws.guardduty', detailType: 'GuardDuty Finding' },
  securityhub: { source: 'aws.securityhub', detailType: 'Security Hub Findings - Imported' },
  'securityhub-ocsf': { source: 'aws.securityhub', detailType: 'Findings Imported V2' },
} as const satisfies Record<FindingSource, { source: string; detailType: string }>;

export const AwsAccountIdSchema = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');
export const AwsRegionSchema = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as eu-west-1');
/**
 * A bucket name in the deployment configuration: today's S3 naming rules (3-63 characters of a-z,
 * 0-9, "." and "-"), or a legacy name: buckets created in us-east-1 before 1 March 2018 may have
 * uppercase letters and underscores and up to 255 characters ("Bucket naming rules", "Legacy
 * bucket naming rules", Amazon S3 user guide). Strict, because killswitch acts on what it maps.
 */
export const BucketNameSchema = z
  .string()
  .regex(
    /^(?:[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]|[A-Za-z0-9._-]{3,255})$/,
    'must be an S3 bucket name: 3-63 characters of a-z, 0-9, "." and "-" (or a legacy us-east-1 name: up to 255 characters of A-Z, a-z, 0-9, ".", "_" and "-")',
  );
/**
 * A bucket name as a finding reports it: anything non-empty up to 255 characters. AWS reports
 * legacy names, and its own sample findings use placeholders ("bucketName", "DOC-EXAMPLE-BUCKET1");
 * a finding is never rejected for a name S3 could hold. Whether it maps is the mapping's business.
 */
export const FindingBucketNameSchema = z.string().min(1, 'must not be empty').max(255, 'must be at most 255 characters');
/**
 * A time as AWS writes it in findings (ISO 8601, with or without fraction or offset), normalised
 * to UTC ISO form. Tolerant because sources differ; a time that does not parse is still an error.
 */
export const FindingTimeSchema = z
  .string()
  .refine((s) => /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(s) && !Number.isNaN(Date.parse(s)), 'must be an ISO 8601 date and time')
  .transform((s) => new Date(s).toISOString());

const FindingIdSchema = z.string().min(1, 'must not be empty').max(1024, 'must be at most 1024 characters');
const FindingTypeSchema = z.string().min(1, 'must not be empty').max(256, 'must be at most 256 characters');
const TitleSchema = z.string().max(4096).optional();

// ---------------------------------------------------------------------------------------------
// Amazon Macie
// ---------------------------------------------------------------------------------------------

/**
 * Macie severity: `description` Low | Medium | High decides. `score` (1 to 3 in the API reference,
 * 7.4 in AWS's own CLI example) is not read, so it is not held to either.
 */
export const MacieSeveritySchema = z.object({
  description: z.enum(['Low', 'Medium', 'High'], 'must be Low, Medium or High'),
  score: z.number().optional(),
});

export const MacieFindingSchema = z.object({
  id: FindingIdSchema,
  accountId: AwsAccountIdSchema,
  region: z.string().min(1).max(64),
  type: FindingTypeSchema,
  title: TitleSchema,
  /** CLASSIFICATION (sensitive data) or POLICY. */
  category: z.string().optional(),
  severity: MacieSeveritySchema,
  createdAt: FindingTimeSchema,
  updatedAt: FindingTimeSchema,
  archived: z.boolean().optional(),
  sample: z.boolean().optional(),
  /** Policy findings: how many times Macie has seen it (an update increments it). */
  count: z.number().optional(),
  resourcesAffected: z.object({
    s3Bucket: z.object({ name: FindingBucketNameSchema, arn: z.string().optional() }),
    s3Object: z.object({ key: z.string().min(1).max(1024) }).nullish(),
  }),
});
export type MacieFinding = z.infer<typeof MacieFindingSchema>;

/** The envelope; the detail is parsed on its own, so that a rejection can still name the finding. */
export const MacieFindingEventSchema = EventBridgeEnvelopeSchema.extend({
  source: z.literal(FindingEventTypes.macie.source),
  'detail-type': z.literal(FindingEventTypes.macie.detailType),
  detail: z.record(z.string(), z.unknown()),
});

// ---------------------------------------------------------------------------------------------
// Amazon GuardDuty
// ---------------------------------------------------------------------------------------------

export const GuardDutyFindingSchema = z.object({
  id: FindingIdSchema,
  accountId: AwsAccountIdSchema,
  region: z.string().min(1).max(64),
  type: FindingTypeSchema,
  title: TitleSchema,
  /** 1.0 to 10.0: Low 1.0-3.9, Medium 4.0-6.9, High 7.0-8.9, Critical 9.0-10.0. */
  severity: z.number().min(0, 'must be between 0 and 10').max(10, 'must be between 0 and 10'),
  createdAt: FindingTimeSchema,
  updatedAt: FindingTimeSchema,
  resource: z.object({
    resourceType: z.string().min(1),
    s3BucketDetails: z.array(z.object({ name: FindingBucketNameSchema, arn: z.string().optional() })).max(100).optional(),
    accessKeyDetails: z.object({ userType: z.string().optional(), principalId: z.string().optional() }).optional(),
  }),
  service: z
    .object({
      archived: z.boolean().optional(),
      /** How many times GuardDuty has seen the activity (an update increments it). */
      count: z.number().optional(),
      eventFirstSeen: FindingTimeSchema.optional(),
      eventLastSeen: FindingTimeSchema.optional(),
      additionalInfo: z.object({ sample: z.boolean().optional() }).nullish(),
    })
    .optional(),
});
export type GuardDutyFinding = z.infer<typeof GuardDutyFindingSchema>;

export const GuardDutyFindingEventSchema = EventBridgeEnvelopeSchema.extend({
  source: z.literal(FindingEventTypes.guardduty.source),
  'detail-type': z.literal(FindingEventTypes.guardduty.detailType),
  detail: z.record(z.string(), z.unknown()),
});

// ---------------------------------------------------------------------------------------------
// AWS Security Hub (ASFF)
// ---------------------------------------------------------------------------------------------

export const ASFF_SEVERITY_LABELS = ['INFORMATIONAL', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;

export const AsffFindingSchema = z.object({
  SchemaVersion: z.string().optional(),
  Id: FindingIdSchema,
  ProductArn: z.string().min(1),
  ProductName: z.string().optional(),
  /** Older ASFF (and copies from GuardDuty's guide) name the product only here, as `aws/securityhub/ProductName`. */
  ProductFields: z.record(z.string(), z.unknown()).optional(),
  GeneratorId: z.string().optional(),
  AwsAccountId: AwsAccountIdSchema,
  Region: z.string().max(64).optional(),
  Types: z.array(z.string().max(256)).max(50).optional(),
  Title: TitleSchema,
  CreatedAt: FindingTimeSchema,
  UpdatedAt: FindingTimeSchema,
  FirstObservedAt: FindingTimeSchema.optional(),
  LastObservedAt: FindingTimeSchema.optional(),
  /** Label is preferred; Normalized (0-100) is deprecated but still filled in by Security Hub. */
  Severity: z
    .object({
      Label: z.enum(ASFF_SEVERITY_LABELS, `must be one of ${ASFF_SEVERITY_LABELS.join(', ')}`).optional(),
      Normalized: z.number().int().min(0).max(100).optional(),
      /** The product's own severity, as text ("8.0", "High"). */
      Original: z.string().max(256).optional(),
    })
    .refine((s) => s.Label !== undefined || s.Normalized !== undefined, { message: 'must have Label or Normalized', path: ['Label'] }),
  Resources: z
    .array(z.object({ Type: z.string().min(1).max(256), Id: z.string().min(1).max(2048), Region: z.string().max(64).optional() }))
    .min(1, 'must list at least one resource')
    .max(32),
  RecordState: z.enum(['ACTIVE', 'ARCHIVED']).optional(),
  Workflow: z.object({ Status: z.string() }).optional(),
  Sample: z.boolean().optional(),
});
export type AsffFinding = z.infer<typeof AsffFindingSchema>;

/** The envelope alone: each finding in `detail.findings` is parsed on its own, so one bad finding never sinks the others. */
export const SecurityHubFindingsEventSchema = EventBridgeEnvelopeSchema.extend({
  source: z.literal(FindingEventTypes.securityhub.source),
  'detail-type': z.literal(FindingEventTypes.securityhub.detailType),
  detail: z.object({ findings: z.array(z.unknown()).min(1, 'must hold at least one finding').max(100) }),
});

// ---------------------------------------------------------------------------------------------
// AWS Security Hub (OCSF)
// ---------------------------------------------------------------------------------------------

/** OCSF `severity_id`: 0 Unknown, 1 Informational, 2 Low, 3 Medium, 4 High, 5 Critical, 6 Fatal, 99 Other. */
export const OCSF_SEVERITY_IDS = [0, 1, 2, 3, 4, 5, 6, 99] as const;
/** OCSF `status_id` of findings: 1 New, 2 In Progress, 3 Suppressed, 4 Resolved, 5 Archived, 6 Deleted, 99 Other. */
export const OCSF_CLOSED_STATUS_IDS = [3, 4, 5, 6] as const;

const OcsfTimeSchema = FindingTimeSchema.optional();
/** OCSF times are also given as epoch milliseconds (`time`, `created_time`), beside the `_dt` strings. */
const OcsfEpochSchema = z.number().int().min(0).max(8.64e15, "must be a time in epoch milliseconds").optional();

export const OcsfFindingSchema = z
  .object({
    class_uid: z.number().int().optional(),
    class_name: z.string().max(256).optional(),
    finding_info: z.object({
      uid: FindingIdSchema,
      uid_alt: z.string().max(1024).optional(),
      title: TitleSchema,
      types: z.array(z.string().max(256)).max(50).optional(),
      created_time_dt: OcsfTimeSchema,
      created_time: OcsfEpochSchema,
      modified_time_dt: OcsfTimeSchema,
      modified_time: OcsfEpochSchema,
      first_seen_time_dt: OcsfTimeSchema,
      last_seen_time_dt: OcsfTimeSchema,
    }),
    severity_id: z.number().int('must be an OCSF severity_id').min(0).max(99),
    severity: z.string().max(64).optional(),
    status_id: z.number().int().optional(),
    status: z.string().max(64).optional(),
    time_dt: OcsfTimeSchema,
    time: OcsfEpochSchema,
    count: z.number().optional(),
    cloud: z.object({
      account: z.object({ uid: AwsAccountIdSchema }),
      region: z.string().max(64).optional(),
    }),
    resources: z
      .array(
        z.object({
          type: z.string().max(256).optional(),
          uid: z.string().max(2048).optional(),
          name: z.string().max(1024).optional(),
          region: z.string().max(64).optional(),
        }),
      )
      .max(100)
      .optional(),
    metadata: z
      .object({
        product: z.object({ name: z.string().max(256).optional(), uid: z.string().max(2048).optional() }).optional(),
        modified_time_dt: OcsfTimeSchema,
      })
      .optional(),
  })
  .refine(
    (f) =>
      f.finding_info.created_time_dt !== undefined ||
      f.finding_info.created_time !== undefined ||
      f.time_dt !== undefined ||
      f.time !== undefined,
    { message: 'must say when the finding was created (finding_info.created_time_dt or time_dt)', path: ['finding_info', 'created_time_dt'] },
  );
export type OcsfFinding = z.infer<typeof OcsfFindingSchema>;

/** The envelope alone: each OCSF finding in `detail.findings` is parsed on its own. */
export const SecurityHubOcsfEventSchema = EventBridgeEnvelopeSchema.extend({
  source: z.literal(FindingEventTypes['securityhub-ocsf'].source),
  'detail-type': z.literal(FindingEventTypes['securityhub-ocsf'].detailType),
  detail: z.object({ findings: z.array(z.unknown()).min(1, 'must hold at least one finding').max(100) }),
});

// ---------------------------------------------------------------------------------------------
// Resource mapping: which program and dataset an AWS resource belongs to
// ---------------------------------------------------------------------------------------------

export const S3MappingSchema = z.object({
  bucket: BucketNameSchema,
  /** Object key prefix; empty (the default) means the whole bucket. The longest matching prefix wins. */
  prefix: z.string().max(1024).default(''),
  programId: ProgramIdSchema,
  datasetId: DatasetIdSchema,
  /** Only findings from this account match (recommended when bucket names are reused across partitions). */
  account: AwsAccountIdSchema.optional(),
});

export const AccountMappingSchema = z.object({
  account: AwsAccountIdSchema,
  /** Only findings from this region match; all regions when omitted. */
  region: AwsRegionSchema.optional(),
  /** Findings about identities (IAM users, roles, access keys) in this account concern this program, all its datasets. */
  programId: ProgramIdSchema,
});

export const FindingMapSchema = z.object({
  s3: z.array(S3MappingSchema).max(100).default([]),
  accounts: z.array(AccountMappingSchema).max(50).default([]),
  /**
   * The sources taken directly (their own rules and sweep). A Security Hub copy of a GuardDuty or
   * Macie finding is left to that source when it is one of these, and taken from Security Hub when
   * it is not, so that a finding is neither handled twice nor missed.
   */
  sources: z.array(z.enum(FINDING_SOURCES)).default([...FINDING_SOURCES]),
});
export type FindingMap = z.infer<typeof FindingMapSchema>;
export type FindingMapInput = z.input<typeof FindingMapSchema>;

/** Watermark of the finding sweep, one per source. */
export const SweepWatermarkSchema = z.object({
  source: z.enum(FINDING_SOURCES),
  /** Findings updated at or after this time (less an overlap) are listed by the next run. */
  watermark: TimestampSchema,
  lastRunAt: TimestampSchema,
  lastRun: z.object({ listed: z.number().int(), handled: z.number().int(), seen: z.number().int(), complete: z.boolean() }),
});
export type SweepWatermark = z.infer<typeof SweepWatermarkSchema>;
