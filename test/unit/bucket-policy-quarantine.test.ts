import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import {
  DeleteBucketPolicyCommand,
  GetBucketPolicyCommand,
  PutBucketPolicyCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { BucketPolicyQuarantine, QuarantineNotSettledError } from '#shared/adapters/aws/bucket-policy-quarantine.ts';
import { PolicyTooLargeError, quarantinesIn } from '#shared/grants/quarantine-policy.ts';
import { BUCKET, quarantineOf, TEAM_POLICY } from '../support/bucket-policies.ts';

/*
 * The S3 side of the bucket-policy quarantine, on the responses S3 documents: 404
 * NoSuchBucketPolicy when a bucket has no policy, PutBucketPolicy replacing the whole document,
 * no conditional write, eventually consistent reads. A tiny S3 in memory plays the bucket; the
 * cases that matter are the ones between the calls (another writer, a stale read).
 */

const q = quarantineOf('inc-20261202-262bd53f107d');
const teamPolicy = JSON.stringify(TEAM_POLICY);
const noSuchBucketPolicy = () =>
  new S3ServiceException({
    name: 'NoSuchBucketPolicy',
    $fault: 'client',
    $metadata: { httpStatusCode: 404 },
    message: 'The bucket policy does not exist',
  });

describe('Bucket-policy quarantine on S3 (aws-sdk-client-mock)', () => {
  const s3 = new S3Client({ region: 'eu-west-1' });
  const mock = mockClient(s3);
  /** The bucket's policy as S3 holds it; `beforeRead` runs before each GetBucketPolicy (to play other writers and stale reads). */
  let stored: string | undefined;
  let beforeRead: (() => void) | undefined;
  const quarantines = () => new BucketPolicyQuarantine(s3, { settleMs: 0, sleep: async () => undefined, expectedOwner: '111111111111' });

  beforeEach(() => {
    mock.reset();
    stored = undefined;
    beforeRead = undefined;
    mock.on(GetBucketPolicyCommand).callsFake(() => {
      beforeRead?.();
      if (stored === undefined) throw noSuchBucketPolicy();
      // S3 returns the policy reformatted: compared by Sid, never by text.
      return { Policy: JSON.stringify(JSON.parse(stored), null, 1) };
    });
    mock.on(PutBucketPolicyCommand).callsFake((input: { Policy: string }) => void (stored = input.Policy));
    mock.on(DeleteBucketPolicyCommand).callsFake(() => void (stored = undefined));
  });

  it('adds the quarantine to a bucket with no policy, and removes it by deleting the policy it created', async () => {
    expect(await quarantines().apply(q)).toBe('ADDED');
    expect(quarantinesIn(BUCKET, stored)).toEqual([q.incidentId]);
    expect(mock.commandCalls(PutBucketPolicyCommand)[0]!.args[0].input).toMatchObject({
      Bucket: BUCKET,
      ExpectedBucketOwner: '111111111111',
    });
    expect(await quarantines().apply(q)).toBe('ALREADY');
    expect(mock.commandCalls(PutBucketPolicyCommand)).toHaveLength(1);
    expect(await quarantines().release(BUCKET, q.incidentId)).toBe('REMOVED');
    expect(stored).toBeUndefined();
    expect(mock.commandCalls(DeleteBucketPolicyCommand)).toHaveLength(1);
    expect(await quarantines().release(BUCKET, q.incidentId)).toBe('ABSENT');
  });

  it("keeps the bucket's own statements, and gives back exactly the policy it found", async () => {
    stored = teamPolicy;
    await quarantines().apply(q);
    expect(JSON.parse(stored!).Statement[0]).toEqual(JSON.parse(teamPolicy).Statement[0]);
    await quarantines().release(BUCKET, q.incidentId);
    expect(JSON.parse(stored!)).toEqual(JSON.parse(teamPolicy));
  });

  it("writes again when another writer replaced the policy between its write and its check, keeping that writer's statements", async () => {
    stored = teamPolicy;
    let reads = 0;
    beforeRead = () => {
      // The second read is the verifying one: someone else's PutBucketPolicy landed just before it, from the policy they had read.
      if (++reads === 2)
        stored = JSON.stringify({
          ...JSON.parse(teamPolicy),
          Statement: [
            ...JSON.parse(teamPolicy).Statement,
            {
              Sid: 'Analytics',
              Effect: 'Allow',
              Principal: { AWS: 'arn:aws:iam::111111111111:role/analytics' },
              Action: 's3:GetObject',
              Resource: `arn:aws:s3:::${BUCKET}/curated/*`,
            },
          ],
        });
    };
    expect(await quarantines().apply(q)).toBe('ADDED');
    expect(mock.commandCalls(PutBucketPolicyCommand)).toHaveLength(2);
    expect(JSON.parse(stored!).Statement.map((s: { Sid: string }) => s.Sid)).toEqual([
      'TlsOnly',
      'Analytics',
      'killswitch-quarantine-inc-20261202-262bd53f107d',
      'killswitch-quarantine-inc-20261202-262bd53f107d-list',
    ]);
  });

  it('rides out a stale read after its write, and reports (never takes for done) a policy that never settles', async () => {
    let reads = 0;
    beforeRead = () => {
      // The first verifying read still shows the old (empty) policy.
      if (++reads === 2) stored = undefined;
    };
    expect(await quarantines().apply(q)).toBe('ADDED');
    expect(quarantinesIn(BUCKET, stored)).toEqual([q.incidentId]);
    expect(mock.commandCalls(PutBucketPolicyCommand)).toHaveLength(2);

    stored = teamPolicy;
    beforeRead = () => void (stored = teamPolicy); // someone rewrites it every time
    await expect(quarantines().apply(q)).rejects.toThrow(QuarantineNotSettledError);
  });

  it('changes nothing when the quarantine would pass the 20 KB limit, and says so', async () => {
    stored = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'Big', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${BUCKET}/${'x'.repeat(20_000)}` },
      ],
    });
    await expect(quarantines().apply(q)).rejects.toThrow(PolicyTooLargeError);
    expect(mock.commandCalls(PutBucketPolicyCommand)).toHaveLength(0);
  });

  it("passes S3's other errors on (access denied, wrong owner): nothing is taken for done", async () => {
    mock
      .on(GetBucketPolicyCommand)
      .rejects(
        new S3ServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'Access Denied' }),
      );
    await expect(quarantines().apply(q)).rejects.toMatchObject({ name: 'AccessDenied' });
  });
});
