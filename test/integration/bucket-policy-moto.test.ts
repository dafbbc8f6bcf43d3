import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CreateBucketCommand, GetBucketPolicyCommand, PutBucketPolicyCommand, S3Client } from '@aws-sdk/client-s3';
import { BucketPolicyQuarantine } from '#shared/adapters/aws/bucket-policy-quarantine.ts';
import { quarantinesIn } from '#shared/grants/quarantine-policy.ts';
import { BUCKET, quarantineOf, TEAM_POLICY } from '../support/bucket-policies.ts';
import { startMoto, type MotoServer } from '../support/moto.ts';

/*
 * The bucket-policy quarantine against moto in server mode (S3's wire protocol, its
 * NoSuchBucketPolicy, its whole-document PutBucketPolicy), through the real SDK client pointed at
 * it with AWS_ENDPOINT_URL_S3. moto stores the policy without validating or enforcing it: that
 * the Deny blocks reads is AWS's to prove, not moto's; what is proven here is that the document
 * ends up exactly as intended, with everyone else's statements intact.
 */

const teamPolicy = TEAM_POLICY;
const quarantine = quarantineOf;

describe('Bucket-policy quarantine on moto (S3 wire protocol)', () => {
  let moto: MotoServer;
  let s3: S3Client;
  const saved = process.env.AWS_ENDPOINT_URL_S3;

  beforeAll(async () => {
    moto = await startMoto();
    process.env.AWS_ENDPOINT_URL_S3 = moto.endpoint;
    // Path-style: a loopback endpoint has no bucket subdomains.
    s3 = new S3Client({ region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  }, 15 * 60_000);
  afterAll(async () => {
    if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_S3;
    else process.env.AWS_ENDPOINT_URL_S3 = saved;
    await moto?.stop();
  });
  beforeEach(async () => {
    await moto.reset();
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  });

  const quarantines = () => new BucketPolicyQuarantine(s3, { settleMs: 0 });
  const policy = async () => JSON.parse((await s3.send(new GetBucketPolicyCommand({ Bucket: BUCKET }))).Policy!);

  it("adds the quarantine beside the bucket's own statements and removes exactly it, for two incidents in any order", async () => {
    await s3.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: JSON.stringify(teamPolicy) }));
    const a = 'inc-20261202-262bd53f107d';
    const b = 'inc-20261202-aaaaaaaaaaaa';
    expect(await quarantines().apply(quarantine(a))).toBe('ADDED');
    expect(await quarantines().apply(quarantine(a))).toBe('ALREADY');
    expect(await quarantines().apply(quarantine(b))).toBe('ADDED');
    const both = await policy();
    expect(both.Statement[0]).toEqual(teamPolicy.Statement[0]);
    expect(quarantinesIn(BUCKET, JSON.stringify(both))).toEqual([a, b]);

    expect(await quarantines().release(BUCKET, a)).toBe('REMOVED');
    expect(await quarantines().held(BUCKET)).toEqual([b]);
    expect(await quarantines().release(BUCKET, b)).toBe('REMOVED');
    expect(await policy()).toEqual(teamPolicy);
    expect(await quarantines().release(BUCKET, b)).toBe('ABSENT');
  });

  it('on a bucket with no policy: reads NoSuchBucketPolicy as none, and deletes the policy it created when it leaves', async () => {
    expect(await quarantines().read(BUCKET)).toBeUndefined();
    expect(await quarantines().apply(quarantine('inc-20261202-262bd53f107d'))).toBe('ADDED');
    expect((await policy()).Statement).toHaveLength(2);
    expect(await quarantines().release(BUCKET, 'inc-20261202-262bd53f107d')).toBe('REMOVED');
    expect(await quarantines().read(BUCKET)).toBeUndefined();
  });
});
