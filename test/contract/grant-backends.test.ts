import { afterAll, beforeAll } from 'vitest';
import { S3Client } from '@aws-sdk/client-s3';
import {
  CreateAccessGrantCommand,
  DeleteAccessGrantCommand,
  ListAccessGrantsCommand,
  S3ControlClient,
  type ListAccessGrantEntry,
} from '@aws-sdk/client-s3-control';
import { mockClient } from 'aws-sdk-client-mock';
import { serve } from '#local/http.ts';
import { LocalBucketPolicies } from '#local/bucket-policies.ts';
import { startTestDynamo, type TestDynamo } from '../support/dynamo.ts';
import { grantBackendContract } from '../support/grant-contract.ts';
import { accessGrantsWorld, bucketPolicyWorld, registryWorld } from '../support/contract-worlds.ts';

/*
 * The GrantBackend contract on what runs in-process: the grant registry (dynalite), the
 * bucket-policy quarantine on the local S3 bucket-policy stand-in, and S3 Access Grants on an
 * in-memory instance behind aws-sdk-client-mock (no emulator has them). Lake Formation and the
 * quarantine on moto: grant-backends-moto.test.ts.
 */

let db: TestDynamo;
let stopS3: () => Promise<void>;
const policies = new LocalBucketPolicies('111111111111');
let s3: S3Client;
const fake = { grants: new Map<string, Record<string, unknown>>(), locations: new Set<string>() };
const control = new S3ControlClient({ region: 'eu-west-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
const controlMock = mockClient(control);
let created = 0;

beforeAll(async () => {
  db = await startTestDynamo();
  const server = await serve(policies.handler());
  stopS3 = server.stop;
  s3 = new S3Client({ region: 'eu-west-1', endpoint: server.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  // Two grants a page: every listing pages.
  controlMock.on(ListAccessGrantsCommand).callsFake((input: { NextToken?: string }) => {
    const all = [...fake.grants.values()] as ListAccessGrantEntry[];
    const start = Number(input.NextToken ?? 0);
    return { AccessGrantsList: all.slice(start, start + 2), ...(start + 2 < all.length ? { NextToken: String(start + 2) } : {}) };
  });
  controlMock.on(DeleteAccessGrantCommand).callsFake((input: { AccessGrantId: string }) => {
    if (!fake.grants.delete(input.AccessGrantId))
      throw Object.assign(new Error('The specified access grant does not exist'), { name: 'NoSuchAccessGrant' });
    return {};
  });
  controlMock.on(CreateAccessGrantCommand).callsFake((input: Record<string, unknown>) => {
    if (!fake.locations.has(String(input.AccessGrantsLocationId)))
      throw Object.assign(new Error('The specified access grants location does not exist'), { name: 'NoSuchAccessGrantsLocation' });
    const id = `created-${++created}`;
    fake.grants.set(id, { ...input, AccessGrantId: id });
    return { AccessGrantId: id };
  });
}, 120_000);
afterAll(async () => {
  controlMock.restore();
  await stopS3?.();
  await db?.dynamo.stop();
});

grantBackendContract('grant registry (dynalite)', () => registryWorld(db)());
grantBackendContract('bucket-policy quarantine (local S3 stand-in)', () =>
  bucketPolicyWorld(db, s3, async (bucket) => policies.createBucket(bucket))(),
);
grantBackendContract('S3 Access Grants (in-memory instance, aws-sdk-client-mock)', () => accessGrantsWorld(db, control, fake)());
