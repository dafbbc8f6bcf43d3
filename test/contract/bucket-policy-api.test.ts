import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateBucketCommand,
  DeleteBucketPolicyCommand,
  GetBucketPolicyCommand,
  PutBucketPolicyCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { serve } from '#local/http.ts';
import { LocalBucketPolicies } from '#local/bucket-policies.ts';
import { startMoto, type MotoServer } from '../support/moto.ts';
import { TEAM_POLICY } from '../support/bucket-policies.ts';

/*
 * Why the local bucket-policy stand-in can be trusted: the S3 bucket-policy API as killswitch
 * uses it, asserted the same against the stand-in and against moto (S3's wire protocol as moto
 * implements it): a bucket without a policy answers NoSuchBucketPolicy, a policy written is read
 * back, a delete leaves none, an unknown bucket is NoSuchBucket.
 */

const endpoints: Record<string, { s3: S3Client; create: (bucket: string) => Promise<void> }> = {};
let moto: MotoServer;
let stopLocal: () => Promise<void>;
const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };

beforeAll(async () => {
  moto = await startMoto();
  const onMoto = new S3Client({ region: 'us-east-1', endpoint: moto.endpoint, credentials });
  endpoints.moto = { s3: onMoto, create: async (bucket) => void (await onMoto.send(new CreateBucketCommand({ Bucket: bucket }))) };
  const local = new LocalBucketPolicies('111111111111');
  const server = await serve(local.handler());
  stopLocal = server.stop;
  endpoints.local = {
    s3: new S3Client({ region: 'us-east-1', endpoint: server.endpoint, credentials }),
    create: async (b) => local.createBucket(b),
  };
}, 15 * 60_000);
afterAll(async () => {
  await stopLocal?.();
  await moto?.stop();
});

const nameOf = async (p: Promise<unknown>) => {
  try {
    await p;
    return 'OK';
  } catch (error) {
    return (error as { name?: string }).name;
  }
};

describe.each(['local', 'moto'])('S3 bucket-policy API (%s)', (which) => {
  const bucket = `ks-api-${which}`;
  it('answers as S3 does: NoSuchBucketPolicy, read back what was written, delete, NoSuchBucket, MalformedPolicy', async () => {
    const { s3, create } = endpoints[which]!;
    await create(bucket);
    expect(await nameOf(s3.send(new GetBucketPolicyCommand({ Bucket: bucket })))).toBe('NoSuchBucketPolicy');
    await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(TEAM_POLICY) }));
    expect(JSON.parse((await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy!)).toEqual(TEAM_POLICY);
    await s3.send(new DeleteBucketPolicyCommand({ Bucket: bucket }));
    expect(await nameOf(s3.send(new GetBucketPolicyCommand({ Bucket: bucket })))).toBe('NoSuchBucketPolicy');
    expect(await nameOf(s3.send(new GetBucketPolicyCommand({ Bucket: `${bucket}-absent` })))).toBe('NoSuchBucket');
  });
});

// moto stores any policy without validating it; S3 refuses a malformed one (MalformedPolicy), and so does the stand-in.
it('the stand-in refuses a policy that is not JSON, or over 20 KB, with MalformedPolicy, as S3 does', async () => {
  const { s3, create } = endpoints.local!;
  await create('ks-api-malformed');
  expect(await nameOf(s3.send(new PutBucketPolicyCommand({ Bucket: 'ks-api-malformed', Policy: 'not json' })))).toBe('MalformedPolicy');
  const huge = { ...TEAM_POLICY, Statement: Array.from({ length: 120 }, (_, i) => ({ ...TEAM_POLICY.Statement[0], Sid: `S${i}` })) };
  expect(await nameOf(s3.send(new PutBucketPolicyCommand({ Bucket: 'ks-api-malformed', Policy: JSON.stringify(huge) })))).toBe(
    'MalformedPolicy',
  );
});
