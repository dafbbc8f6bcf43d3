import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { z } from '../schemas/z.ts';
import { ProgramIdSchema } from '../schemas/common.ts';
import { ProgramStateStore } from '../adapters/dynamodb/program-state-store.ts';
import { dynamoDocumentClient } from '../adapters/aws/clients.ts';
import { KmsStateSigner } from '../adapters/aws/kms-state-signer.ts';
import { FeedBucket } from '../adapters/aws/feed-bucket.ts';
import { StateFeedPublisher } from '../killswitch/state-feed.ts';
import { EnvVars, readEnv } from './env.ts';

const list = (item: z.ZodType<string, string>) =>
  z
    .string({ error: 'is required' })
    .transform((s) =>
      s
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean),
    )
    .pipe(z.array(item).min(1, 'must list at least one'));

export const StateFeedEnvSchema = z.object({
  ...EnvVars.programStateTable,
  STATE_FEED_BUCKET: z.string().min(1, 'is required'),
  /** The signing key first, then any key whose documents may still be in circulation (a rotation). */
  STATE_FEED_KEY_ARNS: list(z.string().regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]{36}$/, 'must be KMS key ARNs')),
  STATE_FEED_PROGRAMS: list(ProgramIdSchema),
  STATE_FEED_VALIDITY_S: z.coerce.number().int().min(30).max(3600).default(300),
  STATE_FEED_MAX_AGE_S: z.coerce.number().int().min(0).max(60).default(1),
  KILLSWITCH_ACCOUNT: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id'),
});
export type StateFeedEnv = z.infer<typeof StateFeedEnvSchema>;

/** The state feed publisher's composition: only it bundles the KMS and S3 clients. */
export function stateFeedServices(env: StateFeedEnv = readEnv(StateFeedEnvSchema)) {
  const publisher = new StateFeedPublisher(
    {
      states: new ProgramStateStore(dynamoDocumentClient(), env.PROGRAM_STATE_TABLE),
      signer: new KmsStateSigner(new KMSClient({ maxAttempts: 4 }), env.STATE_FEED_KEY_ARNS),
      store: new FeedBucket(new S3Client({ maxAttempts: 4 }), env.STATE_FEED_BUCKET, env.KILLSWITCH_ACCOUNT),
    },
    { validitySeconds: env.STATE_FEED_VALIDITY_S, documentMaxAgeSeconds: env.STATE_FEED_MAX_AGE_S, keySetMaxAgeSeconds: 300 },
  );
  return { env, publisher };
}
