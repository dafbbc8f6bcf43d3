import { afterAll, beforeAll } from 'vitest';
import { S3Client } from '@aws-sdk/client-s3';
import { LakeFormationClient } from '@aws-sdk/client-lakeformation';
import { startTestDynamo, type TestDynamo } from '../support/dynamo.ts';
import { startMoto, type MotoServer } from '../support/moto.ts';
import { grantBackendContract } from '../support/grant-contract.ts';
import { bucketPolicyWorld, lakeFormationWorld } from '../support/contract-worlds.ts';

/*
 * The GrantBackend contract on moto in server mode: the bucket-policy quarantine on moto's S3
 * (the same suite the local stand-in passes) and Lake Formation's permissions. Holds and leases on
 * dynalite, as in the local stack.
 */

let db: TestDynamo;
let moto: MotoServer;
let s3: S3Client;
let lf: LakeFormationClient;

beforeAll(async () => {
  db = await startTestDynamo();
  moto = await startMoto();
  const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
  // moto creates buckets without a location constraint only in us-east-1.
  s3 = new S3Client({ region: 'us-east-1', endpoint: moto.endpoint, credentials });
  lf = new LakeFormationClient({ region: 'eu-west-1', endpoint: moto.endpoint, credentials });
}, 15 * 60_000);
afterAll(async () => {
  await moto?.stop();
  await db?.dynamo.stop();
});

grantBackendContract('bucket-policy quarantine (moto S3)', () => bucketPolicyWorld(db, s3)(), { runs: 8 });
grantBackendContract('Lake Formation (moto)', () => lakeFormationWorld(db, lf)(), { runs: 8 });
