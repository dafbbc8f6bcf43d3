import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, GetBucketPolicyCommand, PutBucketPolicyCommand, S3Client } from '@aws-sdk/client-s3';
import { GrantPermissionsCommand, LakeFormationClient, ListPermissionsCommand } from '@aws-sdk/client-lakeformation';
import { startLocalStack, type LocalStack } from '#local/stack.ts';
import { seedGrants, seedPrograms, teamBucketPolicy } from '#local/seed.ts';
import { loadDeploymentConfig, parseDeploymentConfig } from '#infra/config.ts';
import { quarantinesIn } from '#shared/grants/quarantine-policy.ts';
import { startMoto, type MotoServer } from '../support/moto.ts';
import { ALICE, BOB, operatorCall } from '../support/local.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/*
 * Issue 16's "done when", end to end: a real Macie finding (from the corpus, moved onto
 * s3://mci-transcripts/raw/) goes through the synthesized rule, the trigger pauses, and the grant
 * worker, with its S3 and Lake Formation clients pointed at moto (AWS_ENDPOINT_URL_S3,
 * AWS_ENDPOINT_URL_LAKEFORMATION), adds the quarantine Deny to the bucket's policy beside the
 * team's own statement and revokes the non-owners' Lake Formation permissions on the mapped
 * table; a two-person restore gives back exactly what was there.
 */
describe('Local stack on moto: a Macie finding quarantines the bucket and revokes Lake Formation, restored exactly', () => {
  let moto: MotoServer;
  let stack: LocalStack;
  let s3: S3Client;
  let lf: LakeFormationClient;
  const bucket = 'mci-transcripts';
  const table = { DatabaseName: 'mci_training', Name: 'transcripts' };
  const owner = 'arn:aws:iam::111111111111:role/mci-data-owner';
  const readers = ['arn:aws:iam::111111111111:role/all-staff', 'arn:aws:iam::111111111111:role/analytics'];
  const teamPolicy = teamBucketPolicy(bucket);
  let policyBefore = '';
  let permissionsBefore: Json[] = [];
  let incidentId = '';
  const policy = async () => (await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy!;
  const permissions = async () =>
    ((await lf.send(new ListPermissionsCommand({ Resource: { Table: table } }))).PrincipalResourcePermissions ?? [])
      .map((p) => ({ principal: p.Principal?.DataLakePrincipalIdentifier, permissions: [...(p.Permissions ?? [])].sort() }))
      .sort((a, b) => String(a.principal).localeCompare(String(b.principal)));

  beforeAll(async () => {
    moto = await startMoto();
    const base = loadDeploymentConfig();
    const config = parseDeploymentConfig({
      ...base,
      datasets: [
        {
          programId: 'mci',
          datasetId: 'transcripts',
          owners: [owner],
          access: { bucketPolicy: { bucket, prefix: 'raw/' }, lakeFormation: { database: table.DatabaseName, table: table.Name } },
        },
      ],
    });
    stack = await startLocalStack({ config, asyncRetryDelaysMs: [10, 20], endpoints: { s3: moto.endpoint, lakeformation: moto.endpoint } });
    const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
    s3 = new S3Client({ region: 'us-east-1', endpoint: moto.endpoint, credentials });
    lf = new LakeFormationClient({ region: config.region, endpoint: moto.endpoint, credentials });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(teamPolicy) }));
    for (const principal of [owner, ...readers])
      await lf.send(
        new GrantPermissionsCommand({
          Principal: { DataLakePrincipalIdentifier: principal },
          Resource: { Table: table },
          Permissions: principal === owner ? ['ALL'] : ['SELECT', 'DESCRIBE'],
          PermissionsWithGrantOption: [],
        }),
      );
    policyBefore = await policy();
    permissionsBefore = await permissions();
    await seedPrograms(stack);
    await seedGrants(stack, 2);
  }, 15 * 60_000);
  afterAll(async () => {
    await stack?.stop();
    await moto?.stop();
  });

  it('quarantines s3://mci-transcripts/raw/ beside the bucket’s own statements and revokes the non-owners on the table', async () => {
    const corpus = join(import.meta.dirname, '../fixtures/aws-events/macie/reveal-multiple-csv-cells-doc-example-bucket1.json');
    const event = JSON.parse(readFileSync(corpus, 'utf8')) as Json;
    // The corpus finding, moved onto this deployment's account, region and bucket, and reported now.
    const now = new Date().toISOString();
    const { account, region } = stack.config;
    Object.assign(event, { id: 'a1b2c3d4-0000-4000-8000-000000000016', account, region, time: now.replace(/\.\d{3}Z$/, 'Z') });
    Object.assign(event.detail, { id: 'issue16done0000000000000000000001', accountId: account, region, createdAt: now, updatedAt: now });
    const s3b = event.detail.resourcesAffected.s3Bucket;
    Object.assign(s3b, { name: bucket, arn: `arn:aws:s3:::${bucket}` });
    Object.assign(event.detail.resourcesAffected.s3Object, {
      bucketArn: `arn:aws:s3:::${bucket}`,
      key: 'raw/2026-12-02/chat-0001.csv',
      path: `${bucket}/raw/2026-12-02/chat-0001.csv`,
    });
    stack.bus.emitServiceEvent(event as never);
    await stack.idle();

    const revoked = stack.bus.journal.find((j) => j.event['detail-type'] === 'Grants Revoked');
    expect(revoked, 'Grants Revoked').toBeDefined();
    const detail = revoked!.event.detail as Json;
    incidentId = detail.incidentId;
    // The quarantine, both readers' Lake Formation permissions, and the registry's non-owner grants.
    expect(detail.byBackend).toMatchObject({ bucketPolicy: 1, lakeFormation: 2 });
    expect(detail.notRevoked).toBe(0);

    const quarantined = JSON.parse(await policy()) as Json;
    expect(quarantinesIn(bucket, JSON.stringify(quarantined))).toEqual([incidentId]);
    expect(quarantined.Statement[0]).toEqual(teamPolicy.Statement[0]);
    const deny = quarantined.Statement.find((s: Json) => s.Sid === `killswitch-quarantine-${incidentId}`);
    expect(deny).toMatchObject({ Effect: 'Deny', Principal: '*', Resource: `arn:aws:s3:::${bucket}/raw/*` });
    expect(deny.Condition.ArnNotLike['aws:PrincipalArn']).toContain(owner);

    expect((await permissions()).map((p) => p.principal)).toEqual([owner]);
  });

  it('restores both exactly with a second person’s approval, never with one', async () => {
    const request = await operatorCall(stack, ALICE, { action: 'restore-grants', incidentId, reason: 'audience corrected' });
    const requestId = request.body.result.request.requestId as string;
    expect((await operatorCall(stack, ALICE, { action: 'approve-restore-grants', requestId })).status).toBe(403);
    await stack.idle();
    expect(quarantinesIn(bucket, await policy())).toEqual([incidentId]);

    expect((await operatorCall(stack, BOB, { action: 'approve-restore-grants', requestId })).body).toMatchObject({ ok: true });
    await stack.idle();
    const restored = stack.bus.journal.find((j) => j.event['detail-type'] === 'Grants Restored');
    expect(restored?.event.detail).toMatchObject({ incidentId, stillHeld: 0, skipped: 0 });
    expect(JSON.parse(await policy())).toEqual(JSON.parse(policyBefore));
    expect(await permissions()).toEqual(permissionsBefore);
  });
});
