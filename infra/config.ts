import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ProgramsConfigSchema } from '#shared/schemas/config.ts';
import { NoticeSettingsSchema } from '#shared/schemas/notices.ts';
import { ConfigurationError, toFieldIssues } from '#shared/errors.ts';

const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

/** Everything a platform team sets to deploy killswitch; validated before anything is built. */
/**
 * Lambda allows 4 KB of environment variables per function in total; the programs travel in
 * one of them (KILLSWITCH_PROGRAMS), next to a few table and queue names.
 */
export const MAX_PROGRAMS_JSON_BYTES = 3000;

export const DeploymentConfigSchema = z.object({
  /** Prefix of both stack names: `<prefix>-Stateful`, `<prefix>-Stateless`. */
  stackPrefix: z.string().regex(/^[A-Za-z][A-Za-z0-9-]{0,40}$/, 'must be a CloudFormation-safe name').default('Killswitch'),
  account: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id'),
  region: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'must be an AWS region such as eu-west-1'),
  programs: ProgramsConfigSchema.refine((programs) => Buffer.byteLength(JSON.stringify(programs)) <= MAX_PROGRAMS_JSON_BYTES, {
    message: `the programs configuration must fit in ${MAX_PROGRAMS_JSON_BYTES} bytes of JSON (Lambda's 4 KB environment limit); shorten ids or split programs across deployments`,
  }),
  /** EventBridge `source` values of the custom detectors allowed to publish `Anomaly Detected`. */
  detectorSources: z.array(z.string().min(1).max(256)).min(1),
  operators: z
    .object({
      /** An existing role for the people on call; a new one (assumable in this account) when omitted. */
      roleArn: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, 'must be an IAM role ARN').optional(),
    })
    .default({}),
  alerts: z
    .object({
      /** Email addresses subscribed to the operator alert topic. */
      emails: z.array(z.email()).default([]),
    })
    .default({ emails: [] }),
  logRetentionDays: z
    .number()
    .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), `must be one of ${LOG_RETENTION_DAYS.join(', ')}`)
    .default(365),
  /** In whose name exposure notices are sent and whom employees contact. */
  notices: NoticeSettingsSchema.extend({
    /** Deliveries of a send batch before its failing notices are marked FAILED. */
    maxAttempts: z.number().int().min(1).max(20).default(5),
  }),
  /** p99 duration of the anomaly trigger above which the operators are alerted. */
  triggerDurationAlarmMs: z.number().int().min(100).default(3000),
});
export type DeploymentConfig = z.infer<typeof DeploymentConfigSchema>;
export type DeploymentConfigInput = z.input<typeof DeploymentConfigSchema>;

export const DEFAULT_CONFIG_PATH = 'config/killswitch.sample.json';

export function parseDeploymentConfig(input: unknown, source = 'configuration'): DeploymentConfig {
  const result = DeploymentConfigSchema.safeParse(input);
  if (!result.success) {
    throw new ConfigurationError(`invalid ${source}: ${toFieldIssues(result.error).map((i) => `${i.path}: ${i.message}`).join('; ')}`);
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
