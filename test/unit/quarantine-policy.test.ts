import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  addQuarantine,
  BUCKET_POLICY_MAX_BYTES,
  PolicyTooLargeError,
  quarantinesIn,
  quarantineStatements,
  removeQuarantine,
  UnreadablePolicyError,
} from '#shared/grants/quarantine-policy.ts';
import { BUCKET, quarantineOf } from '../support/bucket-policies.ts';

/*
 * The bucket-policy quarantine's document edits (issue 16, first part): the invariants the
 * read-modify-write adapter relies on, hunted for counterexamples over arbitrary existing
 * policies (other teams' statements, with and without Sids, even ones that look like ours).
 */

const incident = fc.stringMatching(/^inc-2026\d{4}-[0-9a-f]{12}$/);
const quarantine = quarantineOf;

/** Someone else's statement: any Sid (or none), any content. */
const foreignStatement = fc.record(
  {
    Sid: fc.oneof(fc.stringMatching(/^[A-Za-z0-9-]{1,30}$/), fc.constant('killswitch-quarantine-inc-20260101-000000000000')),
    Effect: fc.constantFrom('Allow', 'Deny'),
    Principal: fc.oneof(fc.constant('*'), fc.record({ AWS: fc.constant('arn:aws:iam::222222222222:root') })),
    Action: fc.constantFrom('s3:GetObject', 's3:PutObject', ['s3:ListBucket']),
    Resource: fc.constant(`arn:aws:s3:::${BUCKET}/*`),
  },
  { requiredKeys: ['Effect', 'Principal', 'Action', 'Resource'] },
);
const existingPolicy = fc.option(
  fc
    .record({
      Version: fc.constant('2012-10-17'),
      Id: fc.option(fc.constant('team-policy'), { nil: undefined }),
      Statement: fc.array(foreignStatement, { maxLength: 8 }),
    })
    .map((doc) => JSON.stringify(doc.Id === undefined ? { Version: doc.Version, Statement: doc.Statement } : doc)),
  { nil: undefined },
);
const statementsOf = (policy: string | undefined) => (policy === undefined ? [] : (JSON.parse(policy).Statement as unknown[]));

describe('Bucket-policy quarantine: the document edits', () => {
  it("adds the incident's statements once, however often it is applied, keeping every other statement as it was", () => {
    fc.assert(
      fc.property(existingPolicy, incident, (policy, id) => {
        const q = quarantine(id);
        const once = addQuarantine(policy, q);
        const twice = addQuarantine(once.policy, q);
        expect(twice).toEqual({ policy: once.policy, changed: false });
        const after = statementsOf(once.policy);
        const foreign = statementsOf(policy);
        // Every statement that was there is still there, unchanged and in its place.
        expect(after.slice(0, foreign.length)).toEqual(foreign);
        expect(after.slice(foreign.length)).toEqual(quarantineStatements(q));
        expect(quarantinesIn(BUCKET, once.policy)).toContain(id);
      }),
    );
  });

  it("removes exactly the incident's statements: the policy is the one before, or none if it had none", () => {
    fc.assert(
      fc.property(existingPolicy, incident, (policy, id) => {
        const removed = removeQuarantine(BUCKET, addQuarantine(policy, quarantine(id)).policy, id);
        expect(removed.changed).toBe(true);
        if (statementsOf(policy).length === 0) expect(removed.policy).toBeUndefined();
        else expect(JSON.parse(removed.policy!)).toEqual({ Version: '2012-10-17', ...JSON.parse(policy!) });
        expect(removeQuarantine(BUCKET, removed.policy, id).changed).toBe(false);
      }),
    );
  });

  it("keeps two incidents' quarantines apart: removing one leaves the other in force", () => {
    fc.assert(
      fc.property(existingPolicy, incident, incident, (policy, a, b) => {
        fc.pre(a !== b);
        const both = addQuarantine(addQuarantine(policy, quarantine(a)).policy, quarantine(b, 'curated/')).policy;
        const left = removeQuarantine(BUCKET, both, a).policy;
        expect(quarantinesIn(BUCKET, left)).toEqual([...quarantinesIn(BUCKET, policy), b]);
        expect(statementsOf(left)).toEqual([...statementsOf(policy), ...quarantineStatements(quarantine(b, 'curated/'))]);
      }),
    );
  });

  it('denies reads and listing of the prefix to everyone but the exempt roles (every session of each)', () => {
    const [read, list] = quarantineStatements(quarantine('inc-20261202-262bd53f107d'));
    expect(read).toEqual({
      Sid: 'killswitch-quarantine-inc-20261202-262bd53f107d',
      Effect: 'Deny',
      Principal: '*',
      Action: expect.arrayContaining(['s3:GetObject', 's3:GetObjectVersion']),
      Resource: 'arn:aws:s3:::mci-transcripts/raw/*',
      Condition: {
        ArnNotLike: {
          'aws:PrincipalArn': ['arn:aws:iam::111111111111:role/Killswitch-BreakGlass', 'arn:aws:iam::111111111111:role/mci-owners'],
        },
      },
    });
    expect(list).toMatchObject({
      Sid: 'killswitch-quarantine-inc-20261202-262bd53f107d-list',
      Action: ['s3:ListBucket', 's3:ListBucketVersions'],
      Resource: 'arn:aws:s3:::mci-transcripts',
      Condition: { StringLike: { 's3:prefix': ['raw/*'] } },
    });
    // A whole bucket: every listing is denied.
    expect(quarantineStatements({ ...quarantine('inc-20261202-262bd53f107d', ''), exempt: [] })[1]).not.toHaveProperty('Condition');
  });

  it("refuses, naming the bucket and changing nothing, a quarantine that would pass S3's 20 KB limit", () => {
    const big = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'Big',
          Effect: 'Allow',
          Principal: '*',
          Action: 's3:GetObject',
          Resource: `arn:aws:s3:::${BUCKET}/${'x'.repeat(BUCKET_POLICY_MAX_BYTES - 700)}`,
        },
      ],
    });
    expect(() => addQuarantine(big, quarantine('inc-20261202-262bd53f107d'))).toThrow(PolicyTooLargeError);
    expect(() => addQuarantine(big, quarantine('inc-20261202-262bd53f107d'))).toThrow(/mci-transcripts.*over S3's limit of 20480/);
  });

  it('refuses to edit what it cannot read without losing something', () => {
    for (const policy of ['not json', '[]', '{"Statement":["x"]}']) {
      expect(() => addQuarantine(policy, quarantine('inc-20261202-262bd53f107d'))).toThrow(UnreadablePolicyError);
      expect(() => removeQuarantine(BUCKET, policy, 'inc-20261202-262bd53f107d')).toThrow(UnreadablePolicyError);
    }
    // A single statement object (legal in IAM's grammar) is read as a list of one.
    const single = JSON.stringify({
      Version: '2012-10-17',
      Statement: { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: '*' },
    });
    expect(statementsOf(addQuarantine(single, quarantine('inc-20261202-262bd53f107d')).policy)).toHaveLength(3);
  });
});
