import { z } from './z.ts';
import { DatasetIdSchema, IncidentIdSchema, ProgramIdSchema, TimestampSchema } from './common.ts';

/** Permissions in increasing order of power: ADMIN implies WRITE implies READ. */
export const PermissionSchema = z.enum(['READ', 'WRITE', 'ADMIN']);
export type Permission = z.infer<typeof PermissionSchema>;
export const PERMISSION_RANK: Record<Permission, number> = { READ: 1, WRITE: 2, ADMIN: 3 };

/** An IAM role/user ARN, or a group id such as `group:all-staff`. */
export const GrantPrincipalSchema = z
  .string()
  .min(1)
  .max(2048)
  .regex(/^(arn:aws[a-z-]*:iam::\d{12}:(role|user)\/.+|group:[A-Za-z0-9._@-]{1,256})$/, 'must be an IAM role/user ARN or group:<id>');

/** Which access system holds a grant: the grant registry (the Grants table) or one of the AWS systems a dataset maps to. */
export const GrantBackendNameSchema = z.enum(['dynamodb', 'bucketPolicy', 'lakeFormation', 's3AccessGrants']);
export type GrantBackendName = z.infer<typeof GrantBackendNameSchema>;

export const GrantSchema = z.object({
  datasetId: DatasetIdSchema,
  /** The registry's grants are IAM ARNs or group ids (GrantPrincipalSchema, checked where they are written); an access system's are its own. */
  principal: z.string().min(1).max(2048),
  permission: PermissionSchema,
  grantedBy: z.string().min(1),
  grantedAt: TimestampSchema,
  /** Dataset owners are never revoked. */
  owner: z.boolean().default(false),
  status: z.enum(['ACTIVE', 'REVOKED']),
  /** Bumped by every change to the grant itself (never by revocation): "changed since" is a version mismatch. */
  version: z.number().int().min(1),
  revokedAt: TimestampSchema.optional(),
  revokedBy: z.string().optional(),
  /** The first incident that revoked it. */
  incidentId: IncidentIdSchema.optional(),
  /** Every incident currently holding the grant revoked; it returns to ACTIVE only when all release it. */
  revokedByIncidents: z.array(IncidentIdSchema).default([]),
  backend: GrantBackendNameSchema.default('dynamodb'),
  /** An access system's own id of the entry (stable across listings); absent for the registry, whose key is principal#permission. */
  key: z.string().min(1).max(200).optional(),
  /** The access system's whole entry (JSON), kept in the snapshot so that a restore gives back exactly it. */
  entry: z.string().max(8000).optional(),
  /** What the entry is, for people (never personal data: principals and resources). */
  label: z.string().max(500).optional(),
  /** Why this entry cannot be revoked (an implicit permission, IAM_ALLOWED_PRINCIPALS): reported in the incident, never passed off as done. */
  notRevocable: z.string().max(500).optional(),
});
export type Grant = z.infer<typeof GrantSchema>;
/** A grant as the registry (the Grants table) accepts it: its principals are IAM ARNs or group ids. */
export const RegistryGrantSchema = GrantSchema.extend({ principal: GrantPrincipalSchema });
export type GrantInput = z.input<typeof GrantSchema>;

/** The ledger's record of one grant this incident revoked (or held revoked): what restore works from. */
export const RevocationSnapshotSchema = z.object({
  incidentId: IncidentIdSchema,
  datasetId: DatasetIdSchema,
  principal: z.string(),
  permission: PermissionSchema,
  /** The grant's version when it was revoked; restore applies only at this version. */
  version: z.number().int(),
  /** ACTIVE: this incident revoked it. REVOKED: another incident had already; this one holds it too. */
  previousStatus: z.enum(['ACTIVE', 'REVOKED']),
  revokedAt: TimestampSchema,
  backend: GrantBackendNameSchema.default('dynamodb'),
  key: z.string().min(1).max(200).optional(),
  entry: z.string().max(8000).optional(),
  label: z.string().max(500).optional(),
});
export type RevocationSnapshot = z.infer<typeof RevocationSnapshotSchema>;

export const RestoreOutcomeSchema = z.enum(['RESTORED', 'STILL_HELD', 'SKIPPED']);
export type RestoreOutcome = z.infer<typeof RestoreOutcomeSchema>;

/**
 * Work on the grant-work queue: a revocation or a restore, possibly continuing an earlier run. The
 * worker acts on the incident and the approval as the ledger records them: the message only says
 * which incident (and where to continue).
 */
export const GrantWorkSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('revoke'),
    incidentId: IncidentIdSchema,
    programId: ProgramIdSchema,
    /** Set by the worker on a continuation (the datasets this run revokes); a fresh message takes them from the incident. */
    datasetIds: z.array(DatasetIdSchema).min(1).optional(),
    /** Where to continue: the dataset index and the page cursor within it. */
    datasetIndex: z.number().int().min(0).default(0),
    cursor: z.string().optional(),
    counts: z
      .object({ scanned: z.number().int(), owners: z.number().int(), notRevoked: z.number().int().default(0) })
      .default({ scanned: 0, owners: 0, notRevoked: 0 }),
    continuation: z.number().int().min(0).default(0),
  }),
  z.object({
    type: z.literal('restore'),
    incidentId: IncidentIdSchema,
    programId: ProgramIdSchema,
    /** The two-person restore request: the worker checks in the ledger that it is approved, for this incident. */
    requestId: z.uuid(),
    cursor: z.string().optional(),
    continuation: z.number().int().min(0).default(0),
  }),
]);
export type GrantWork = z.infer<typeof GrantWorkSchema>;
export type RevokeWork = Extract<GrantWork, { type: 'revoke' }>;
export type RestoreWork = Extract<GrantWork, { type: 'restore' }>;

/** Detail of the `Grants Revoked` event. */
export const GrantsRevokedSchema = z.object({
  incidentId: IncidentIdSchema,
  programId: ProgramIdSchema,
  datasetIds: z.array(DatasetIdSchema),
  /** Grants this incident revoked (they were ACTIVE). */
  revoked: z.number().int(),
  /** Grants already revoked by another incident, now also held by this one. */
  alsoHeld: z.number().int(),
  /** Owner grants left untouched. */
  owners: z.number().int(),
  /** Entries the access system would not or could not revoke (reported in the incident's timeline). */
  notRevoked: z.number().int().default(0),
  /** Revoked and held, per access system. */
  byBackend: z.record(z.string(), z.number().int()).default({}),
  scanned: z.number().int(),
  continuations: z.number().int(),
  finishedAt: TimestampSchema,
});
export type GrantsRevoked = z.infer<typeof GrantsRevokedSchema>;

export const GrantsRestoredSchema = z.object({
  incidentId: IncidentIdSchema,
  programId: ProgramIdSchema,
  requestId: z.uuid(),
  restored: z.number().int(),
  stillHeld: z.number().int(),
  skipped: z.number().int(),
  finishedAt: TimestampSchema,
});
export type GrantsRestored = z.infer<typeof GrantsRestoredSchema>;

// ---------------------------------------------------------------------------------------------
// The access systems that really guard a dataset (issue 16): per dataset in the deployment
// configuration, `datasets[].access`, validated with errors that name the field; revoked through
// RoutedGrantBackend (docs/architecture.md, "Revoking the access that guards the data").
// ---------------------------------------------------------------------------------------------

const AccountSchema = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');
/** Glue Data Catalog names: lower case letters, digits and underscores, at most 255 characters. */
const CatalogNameSchema = z.string().regex(/^[a-z0-9_]{1,255}$/, 'must be a Glue catalog name (a-z, 0-9 and "_", at most 255 characters)');
const PrefixSchema = z
  .string()
  .max(1024, 'must be at most 1024 characters')
  .refine((p) => !p.startsWith('/'), 'must not start with "/" (an S3 key prefix, such as "raw/")')
  .default('');

/** A bucket-policy quarantine of the dataset's objects: the immediate cut-off, sessions already vended included. */
export const BucketPolicyAccessSchema = z.object({
  bucket: z
    .string()
    .regex(
      /^(?:[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]|[A-Za-z0-9._-]{3,255})$/,
      'must be an S3 bucket name (3-63 characters of a-z, 0-9, "." and "-", or a legacy us-east-1 name)',
    ),
  prefix: PrefixSchema,
});

/** Lake Formation permissions on the dataset's table (or every table of the database), or on its data location. */
export const LakeFormationAccessSchema = z
  .object({
    catalogId: AccountSchema.optional(),
    database: CatalogNameSchema.optional(),
    table: CatalogNameSchema.optional(),
    dataLocation: z
      .string()
      .regex(/^arn:aws[a-z-]*:s3:::[^/]+(\/.*)?$/, 'must be an S3 ARN, such as arn:aws:s3:::bucket/prefix')
      .optional(),
  })
  .superRefine((lf, ctx) => {
    if ((lf.database === undefined) === (lf.dataLocation === undefined))
      ctx.addIssue({ code: 'custom', path: ['database'], message: 'give either database (and optionally table) or dataLocation' });
    if (lf.table !== undefined && lf.database === undefined)
      ctx.addIssue({ code: 'custom', path: ['table'], message: 'a table needs its database' });
  });

/** S3 Access Grants on the dataset's prefix, in one account's Access Grants instance. */
export const S3AccessGrantsAccessSchema = z
  .object({
    accountId: AccountSchema,
    locationId: z
      .string()
      .regex(/^[a-zA-Z0-9-]{1,64}$/, 'must be an Access Grants location id (or "default")')
      .optional(),
    locationScope: z.string().regex(/^s3:\/\/[^/]+(\/.*)?$/, 'must be an S3 URI, such as s3://bucket/prefix*').optional(),
    prefix: PrefixSchema,
  })
  .refine((g) => (g.locationId === undefined) !== (g.locationScope === undefined), {
    message: 'give either locationId or locationScope',
    path: ['locationId'],
  });

export const DatasetAccessSchema = z
  .object({
    bucketPolicy: BucketPolicyAccessSchema.optional(),
    lakeFormation: LakeFormationAccessSchema.optional(),
    s3AccessGrants: S3AccessGrantsAccessSchema.optional(),
  })
  .refine((a) => a.bucketPolicy !== undefined || a.lakeFormation !== undefined || a.s3AccessGrants !== undefined, {
    message: 'must name at least one of bucketPolicy, lakeFormation, s3AccessGrants',
  });

/** One dataset's access systems, and the principals that keep access through an incident (its owners). */
export const DatasetConfigSchema = z.object({
  programId: ProgramIdSchema,
  datasetId: DatasetIdSchema,
  owners: z
    .array(
      z
        .string()
        // With its path (aws:PrincipalArn is the role's ARN with it); no wildcards: "role/*" would exempt everyone.
        .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, 'must be an IAM role ARN (with its path, no wildcards)'),
    )
    .max(20)
    .default([]),
  access: DatasetAccessSchema,
});
export type DatasetConfig = z.infer<typeof DatasetConfigSchema>;
