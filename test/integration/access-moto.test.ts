import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CreateBucketCommand, GetBucketPolicyCommand, PutBucketPolicyCommand, S3Client } from '@aws-sdk/client-s3';
import { GrantPermissionsCommand, LakeFormationClient } from '@aws-sdk/client-lakeformation';
import { BucketPolicyQuarantine } from '#shared/adapters/aws/bucket-policy-quarantine.ts';
import { LakeFormationPermissions, planRevocation, resourceOf } from '#shared/adapters/aws/lake-formation-permissions.ts';
import { quarantinesIn } from '#shared/grants/quarantine-policy.ts';
import { BUCKET, quarantineOf, TEAM_POLICY } from '../support/bucket-policies.ts';
import { startMoto, type MotoServer } from '../support/moto.ts';

/*
 * The access systems killswitch revokes, against moto in server mode. First the bucket-policy
 * quarantine, against moto (S3's wire protocol, its
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

/*
 * Lake Formation on moto: permissions granted, listed, revoked for everyone but the owners, and
 * granted back exactly. moto's Lake Formation has no pagination, reports no batch failures and
 * lets a revoke of a permission never granted succeed: those cases are in
 * test/unit/lake-formation-permissions.test.ts (aws-sdk-client-mock).
 */
describe('Lake Formation permissions on moto', () => {
  let moto: MotoServer;
  let lf: LakeFormationClient;
  const saved = process.env.AWS_ENDPOINT_URL_LAKEFORMATION;
  const table = { database: 'mci_training', table: 'transcripts' };
  const owner = 'arn:aws:iam::111111111111:role/mci-owners';
  const readers = ['arn:aws:iam::111111111111:role/all-staff', 'arn:aws:iam::111111111111:role/analytics'];

  beforeAll(async () => {
    moto = await startMoto();
    process.env.AWS_ENDPOINT_URL_LAKEFORMATION = moto.endpoint;
    lf = new LakeFormationClient({ region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  }, 15 * 60_000);
  afterAll(async () => {
    if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_LAKEFORMATION;
    else process.env.AWS_ENDPOINT_URL_LAKEFORMATION = saved;
    await moto?.stop();
  });

  it('revokes every non-owner permission on the table and grants back exactly those', async () => {
    for (const principal of [owner, ...readers])
      await lf.send(
        new GrantPermissionsCommand({
          Principal: { DataLakePrincipalIdentifier: principal },
          Resource: resourceOf(table),
          Permissions: principal === owner ? ['ALL'] : ['SELECT', 'DESCRIBE'],
          PermissionsWithGrantOption: principal === owner ? ['ALL'] : [],
        }),
      );
    const permissions = new LakeFormationPermissions(lf);
    const before = await permissions.list(table);
    expect(before.map((p) => p.principal).sort()).toEqual([...readers, owner].sort());

    const plan = planRevocation(before, [owner]);
    expect(plan.revoke.map((p) => p.principal).sort()).toEqual(readers);
    expect((await permissions.revoke(undefined, plan.revoke)).map((o) => o.outcome)).toEqual(['DONE', 'DONE']);
    expect((await permissions.list(table)).map((p) => p.principal)).toEqual([owner]);

    expect((await permissions.grant(undefined, plan.revoke)).map((o) => o.outcome)).toEqual(['DONE', 'DONE']);
    const after = await permissions.list(table);
    const shape = (ps: typeof before) => ps.map((p) => [p.principal, [...p.permissions].sort()]).sort();
    expect(shape(after)).toEqual(shape(before));
  });
});
