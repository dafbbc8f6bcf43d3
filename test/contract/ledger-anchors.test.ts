import {
  CreateBucketCommand,
  DeleteObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  PutObjectLockConfigurationCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChainAnchorBucket, anchorKey } from '#shared/adapters/aws/chain-anchor-bucket.ts';
import { serve } from '#local/http.ts';
import { LocalBucketPolicies } from '#local/bucket-policies.ts';
import { startMoto, type MotoServer } from '../support/moto.ts';

/*
 * The ledger's anchors (docs/record.md) against S3 as moto implements it, with Object Lock in
 * compliance mode as the stateful stack configures it: heads are exported and listed back (paged),
 * the lock is reported, and a locked head cannot be removed or overwritten in place — and against
 * the local stand-in, which has no Object Lock and says so.
 */
const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const head = (seq: number) => ({
  chainId: 'incident/inc-20261204-aaaaaaaaaaaa',
  seq,
  hash: seq.toString(16).padStart(64, '0'),
  sk: `EVENT#${seq}`,
});

describe('Ledger anchors: S3 with Object Lock (moto), and the local stand-in', () => {
  let moto: MotoServer;
  let s3: S3Client;
  let stopLocal: () => Promise<void>;
  let local: S3Client;
  beforeAll(async () => {
    moto = await startMoto();
    s3 = new S3Client({ region: 'us-east-1', endpoint: moto.endpoint, forcePathStyle: true, credentials });
    await s3.send(new CreateBucketCommand({ Bucket: 'anchors', ObjectLockEnabledForBucket: true }));
    await s3.send(
      new PutObjectLockConfigurationCommand({
        Bucket: 'anchors',
        ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 2555 } } },
      }),
    );
    const stand = new LocalBucketPolicies('111111111111');
    stand.createBucket('anchors');
    const server = await serve(stand.handler());
    stopLocal = server.stop;
    local = new S3Client({ region: 'us-east-1', endpoint: server.endpoint, forcePathStyle: true, credentials });
  }, 15 * 60_000);
  afterAll(async () => {
    await stopLocal?.();
    await moto?.stop();
  });

  it('exports heads and lists every one back (more than one page), and reports compliance-mode Object Lock with its retention', async () => {
    const anchors = new ChainAnchorBucket(s3, 'anchors');
    for (let seq = 1; seq <= 1005; seq += 1) await anchors.export(head(seq));
    await anchors.export(head(7)); // exported twice: still one anchor per place
    const listed = await anchors.list(head(1).chainId);
    expect(listed).toHaveLength(1005);
    expect(listed[1004]).toEqual({ seq: 1005, hash: head(1005).hash });
    // Another chain's prefix is not this chain's (inc-…a vs inc-…a1).
    await new ChainAnchorBucket(s3, 'anchors').export({ ...head(1), chainId: 'incident/inc-20261204-aaaaaaaaaaaa1' });
    expect(await anchors.list(head(1).chainId)).toHaveLength(1005);
    expect(await anchors.describe()).toEqual({ location: 's3://anchors/chains/', objectLock: 'COMPLIANCE', retentionDays: 2555 });
  }, 300_000);

  it('a locked head cannot be deleted, even by version: the record an edited table is checked against stays', async () => {
    const key = anchorKey(head(1));
    const { Versions = [] } = await s3.send(new ListObjectVersionsCommand({ Bucket: 'anchors', Prefix: key }));
    expect(Versions.length).toBeGreaterThan(0);
    const refused = await s3
      .send(new DeleteObjectCommand({ Bucket: 'anchors', Key: key, VersionId: Versions[0]!.VersionId }))
      .then(() => 'deleted')
      .catch((e: { name?: string }) => e.name);
    expect(refused).toBe('AccessDenied');
    // An overwrite is a new version; the locked one is still there.
    await s3.send(new PutObjectCommand({ Bucket: 'anchors', Key: key, Body: '{"forged":true}' }));
    const after = await s3.send(new ListObjectVersionsCommand({ Bucket: 'anchors', Prefix: key }));
    expect(after.Versions?.map((v) => v.VersionId)).toContain(Versions[0]!.VersionId);
  });

  it('the local stand-in lists what was exported, and says it has no Object Lock', async () => {
    const anchors = new ChainAnchorBucket(local, 'anchors');
    for (const seq of [1, 2, 3]) await anchors.export(head(seq));
    expect(await anchors.list(head(1).chainId)).toEqual([1, 2, 3].map((seq) => ({ seq, hash: head(seq).hash })));
    expect(await anchors.describe()).toMatchObject({ objectLock: 'NONE', note: expect.stringMatching(/no Object Lock/) });
  });
});
