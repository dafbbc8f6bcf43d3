import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ProgramsConfigSchema } from '#shared/schemas/config.ts';
import { NoticeSettingsSchema } from '#shared/schemas/notices.ts';
import { DatasetConfigSchema } from '#shared/schemas/grants.ts';
import { FINDING_SOURCES, FindingMapSchema, type FindingMap } from '#shared/schemas/findings.ts';
import { ConfigurationError, toFieldIssues } from '#shared/domain/errors.ts';

const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** Everything a platform team sets to deploy killswitch; validated before anything is built. */
/**
 * Lambda allows 4 KB of environment variables per function in total; the programs travel in
 * one of them (KILLSWITCH_PROGRAMS), next to a few table and queue names.
 */
export const MAX_PROGRAMS_JSON_BYTES = 3000;
/** The grant worker's programs, datasets and exemptions together, within Lambda's 4 KB of environment. */
export const MAX_WORKER_CONFIG_BYTES = 3400;

export const DeploymentConfigSchema = z
  .object({
    /** Prefix of both stack names: `<prefix>-Stateful`, `<prefix>-Stateless`. */
    stackPrefix: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,40}$/, 'must be a CloudFormation-safe name')
      .default('Killswitch'),
    account: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id'),
    region: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'must be an AWS region such as eu-west-1'),
    programs: ProgramsConfigSchema.refine((programs) => Buffer.byteLength(JSON.stringify(programs)) <= MAX_PROGRAMS_JSON_BYTES, {
      message: `the programs configuration must fit in ${MAX_PROGRAMS_JSON_BYTES} bytes of JSON (Lambda's 4 KB environment limit); shorten ids or split programs across deployments`,
    }),
    /** EventBridge `source` values of the custom detectors allowed to publish `Anomaly Detected`. */
    detectorSources: z.array(z.string().min(1).max(256)).min(1),
    operators: z
      .object({
        /**
         * An existing role for the people on call; a new one (`<prefix>Operators`) when omitted. Its trust
         * policy must bind the session name to the person (see docs/architecture.md, "People, not session names").
         */
        roleArn: z
          .string()
          .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, 'must be an IAM role ARN')
          .optional(),
        /** IAM Identity Center permission-set roles whose users are operators directly (their session name is the user's name). */
        identityCenterRoleArns: z
          .array(
            z
              .string()
              .regex(
                /^arn:aws[a-z-]*:iam::\d{12}:role\/aws-reserved\/sso\.amazonaws\.com\/([a-z0-9-]+\/)?AWSReservedSSO_[\w+=,.@-]+$/,
                'must be the ARN of an IAM Identity Center permission-set role (…:role/aws-reserved/sso.amazonaws.com/…/AWSReservedSSO_…)',
              ),
          )
          .max(10)
          .default([]),
        /**
         * Roles whose sessions carry a source identity your identity provider sets (SAML or OIDC
         * federation with `SourceIdentity`): their sessions may assume the operators role under that
         * source identity. Only these: any other role whose trust policy lets its callers set a source
         * identity of their choice would let them pick whose name they act under.
         */
        sourceIdentityRoleArns: z
          .array(z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, 'must be an IAM role ARN'))
          .max(10)
          .default([]),
      })
      .default({ identityCenterRoleArns: [], sourceIdentityRoleArns: [] }),
    alerts: z
      .object({
        /** Email addresses subscribed to the operator alert topic. */
        emails: z.array(z.email()).default([]),
      })
      .default({ emails: [] }),
    /** The signed state feed endpoint agents read (docs/state-feed.md). */
    stateFeed: z
      .object({
        /** A document's validity, `exp − iat`, in seconds: how long an agent cut off from the feed keeps collecting at most. */
        validitySeconds: z.number().int().min(30).max(3600).default(300),
        /** `Cache-Control: max-age` of documents at CloudFront: part of the time from a flip to the fleet halted. */
        maxAgeSeconds: z.number().int().min(0).max(60).default(1),
        /**
         * During a key rotation: earlier signing keys (KMS key ARNs) whose documents may still be in circulation,
         * published in the key set beside the stack's own key until one validity after it took over.
         */
        previousKeyArns: z
          .array(z.string().regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]{36}$/, 'must be a KMS key ARN'))
          .max(2)
          .default([]),
      })
      .default({ validitySeconds: 300, maxAgeSeconds: 1, previousKeyArns: [] }),
    /**
     * The ledger's exported chain heads (issue 19): an S3 bucket with Object Lock in compliance mode,
     * so that an edited ledger table no longer matches them. Nobody, the root user included, can
     * shorten or remove a compliance-mode retention: choose it for what the register must be kept
     * (GDPR sets no period; regulators and limitation periods commonly ask for 5–10 years).
     */
    ledgerAnchors: z.object({ retentionDays: z.number().int().min(1).max(36500).default(2555) }).default({ retentionDays: 2555 }),
    logRetentionDays: z
      .number()
      .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), `must be one of ${LOG_RETENTION_DAYS.join(', ')}`)
      .default(365),
    /**
     * The access systems that guard each dataset (S3 bucket policies, Lake Formation, S3 Access
     * Grants): what a revocation cuts, beside the grant registry.
     */
    datasets: z.array(DatasetConfigSchema).max(100).default([]),
    quarantine: z
      .object({
        /**
         * Roles that keep reading quarantined data besides each dataset's owners (break-glass,
         * forensics); the grant worker's own role is always exempt. No wildcards: "role/*" would exempt everyone.
         */
        exemptRoleArns: z
          .array(
            z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, 'must be an IAM role ARN (with its path, no wildcards)'),
          )
          .max(10)
          .default([]),
      })
      .default({ exemptRoleArns: [] }),
    /** In whose name exposure notices are sent and whom employees contact. */
    notices: NoticeSettingsSchema.extend({
      /** Deliveries of a send batch before its failing notices are marked FAILED. */
      maxAttempts: z.number().int().min(1).max(20).default(5),
    }),
    /** p99 duration of the anomaly trigger above which the operators are alerted. */
    triggerDurationAlarmMs: z.number().int().min(100).default(3000),
    /** AWS findings (Macie, GuardDuty, Security Hub) as triggers: which sources, which resources belong to which program. */
    findings: FindingMapSchema.extend({
      /** Sources whose findings are taken (rules on the default bus) and swept. */
      sources: z.array(z.enum(FINDING_SOURCES)).default([...FINDING_SOURCES]),
      sweep: z
        .object({
          /** How often the sweep lists recent findings; 0 turns it off. */
          everyMinutes: z.number().int().min(0).max(1440).default(15),
          /** How far back the first run looks. */
          lookbackHours: z.number().int().min(1).max(2160).default(24),
          /** Each run starts this long before the previous run's watermark. */
          overlapMinutes: z.number().int().min(0).max(1440).default(10),
          /** Findings per source and run, at most (the rest waits for the next run). */
          maxFindingsPerRun: z.number().int().min(1).max(100_000).default(2000),
        })
        .default({ everyMinutes: 15, lookbackHours: 24, overlapMinutes: 10, maxFindingsPerRun: 2000 }),
    }).default({
      s3: [],
      accounts: [],
      sources: [...FINDING_SOURCES],
      sweep: { everyMinutes: 15, lookbackHours: 24, overlapMinutes: 10, maxFindingsPerRun: 2000 },
    }),
  })
  .superRefine((config, ctx) => {
    // Every mapping must name a deployed program and one of its datasets.
    const programs = new Map(config.programs.map((p) => [p.programId, new Set(p.datasetIds)]));
    config.findings.s3.forEach((m, i) => {
      const datasets = programs.get(m.programId);
      if (!datasets)
        ctx.addIssue({ code: 'custom', path: ['findings', 's3', i, 'programId'], message: `"${m.programId}" is not one of the programs` });
      else if (!datasets.has(m.datasetId))
        ctx.addIssue({
          code: 'custom',
          path: ['findings', 's3', i, 'datasetId'],
          message: `"${m.datasetId}" is not a dataset of program "${m.programId}"`,
        });
    });
    const seen = new Set<string>();
    config.datasets.forEach((d, i) => {
      const datasets = programs.get(d.programId);
      if (!datasets)
        ctx.addIssue({ code: 'custom', path: ['datasets', i, 'programId'], message: `"${d.programId}" is not one of the programs` });
      else if (!datasets.has(d.datasetId))
        ctx.addIssue({
          code: 'custom',
          path: ['datasets', i, 'datasetId'],
          message: `"${d.datasetId}" is not a dataset of program "${d.programId}"`,
        });
      else if (seen.has(`${d.programId}/${d.datasetId}`))
        ctx.addIssue({
          code: 'custom',
          path: ['datasets', i, 'datasetId'],
          message: `"${d.datasetId}" of "${d.programId}" is configured twice`,
        });
      seen.add(`${d.programId}/${d.datasetId}`);
      // One quarantine statement per incident and bucket (by Sid): two datasets in one bucket would share it.
      const bucket = d.access.bucketPolicy?.bucket;
      const other = config.datasets.findIndex((o) => o.access.bucketPolicy?.bucket === bucket);
      if (bucket !== undefined && other < i)
        ctx.addIssue({
          code: 'custom',
          path: ['datasets', i, 'access', 'bucketPolicy', 'bucket'],
          message: `"${bucket}" is already the quarantine bucket of dataset "${config.datasets[other]!.datasetId}": one dataset per bucket`,
        });
      if (
        config.datasets.findIndex((o) => o.datasetId === d.datasetId) < i &&
        d.programId !== config.datasets.find((o) => o.datasetId === d.datasetId)!.programId
      )
        ctx.addIssue({
          code: 'custom',
          path: ['datasets', i, 'datasetId'],
          message: `"${d.datasetId}" is mapped for another program too: grants are kept per dataset id`,
        });
    });
    const workerBytes =
      Buffer.byteLength(JSON.stringify(config.programs)) +
      Buffer.byteLength(JSON.stringify(config.datasets)) +
      Buffer.byteLength(JSON.stringify(config.quarantine.exemptRoleArns));
    if (workerBytes > MAX_WORKER_CONFIG_BYTES)
      ctx.addIssue({
        code: 'custom',
        path: ['datasets'],
        message: `the programs, datasets and quarantine exemptions must fit in ${MAX_WORKER_CONFIG_BYTES} bytes of JSON together (Lambda's 4 KB environment limit); they take ${workerBytes}`,
      });
    config.findings.accounts.forEach((m, i) => {
      if (!programs.has(m.programId))
        ctx.addIssue({
          code: 'custom',
          path: ['findings', 'accounts', i, 'programId'],
          message: `"${m.programId}" is not one of the programs`,
        });
    });
    const envBytes = Buffer.byteLength(JSON.stringify(config.programs)) + Buffer.byteLength(JSON.stringify(findingMapOf(config)));
    if (envBytes > MAX_PROGRAMS_JSON_BYTES + 500) {
      ctx.addIssue({
        code: 'custom',
        path: ['findings'],
        message: `the programs and the finding mappings must fit in ${MAX_PROGRAMS_JSON_BYTES + 500} bytes of JSON together (Lambda's 4 KB environment limit); they take ${envBytes}`,
      });
    }
  });
export type DeploymentConfig = z.infer<typeof DeploymentConfigSchema>;
export type DeploymentConfigInput = z.input<typeof DeploymentConfigSchema>;

/** The resource map as the finding functions read it (`KILLSWITCH_FINDING_MAP`). */
export function findingMapOf(config: Pick<DeploymentConfig, 'findings'>): FindingMap {
  return { s3: config.findings.s3, accounts: config.findings.accounts, sources: config.findings.sources };
}

export const DEFAULT_CONFIG_PATH = 'config/killswitch.sample.json';

export function parseDeploymentConfig(input: unknown, source = 'configuration'): DeploymentConfig {
  const result = DeploymentConfigSchema.safeParse(input);
  if (!result.success) {
    throw new ConfigurationError(
      `invalid ${source}: ${toFieldIssues(result.error)
        .map((i) => `${i.path}: ${i.message}`)
        .join('; ')}`,
    );
  }
  return result.data;
}

export function loadDeploymentConfig(path: string = DEFAULT_CONFIG_PATH): DeploymentConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigurationError(`cannot read ${path}: ${(error as Error).message}`);
  }
  return parseDeploymentConfig(raw, path);
}

/**
 * The ledger anchors bucket's name: fixed by the deployment (not generated), so that the functions'
 * policies name it exactly and the cdk-nag acknowledgement of its `chains/*` objects names it too.
 */
export const ledgerAnchorsBucketName = (config: Pick<DeploymentConfig, 'stackPrefix' | 'account' | 'region'>): string =>
  `${config.stackPrefix.toLowerCase().slice(0, 20)}-anchors-${config.account}-${config.region}`;
