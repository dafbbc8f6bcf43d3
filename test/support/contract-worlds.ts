import type { S3Client } from '@aws-sdk/client-s3';
import { GetBucketPolicyCommand, PutBucketPolicyCommand, CreateBucketCommand } from '@aws-sdk/client-s3';
import type { LakeFormationClient } from '@aws-sdk/client-lakeformation';
import { GrantPermissionsCommand, ListPermissionsCommand } from '@aws-sdk/client-lakeformation';
import type { S3ControlClient } from '@aws-sdk/client-s3-control';
import { DynamoGrantStore } from '#shared/adapters/dynamodb/grant-store.ts';
import { DynamoAccessHolds } from '#shared/adapters/dynamodb/access-holds.ts';
import { DynamoLeases } from '#shared/adapters/dynamodb/leases.ts';
import { BucketPolicyQuarantine } from '#shared/adapters/aws/bucket-policy-quarantine.ts';
import { LakeFormationPermissions, resourceOf } from '#shared/adapters/aws/lake-formation-permissions.ts';
import { S3AccessGrants } from '#shared/adapters/aws/s3-access-grants.ts';
import { BucketPolicySystem, LakeFormationSystem, S3AccessGrantsSystem } from '#shared/adapters/aws/access-systems.ts';
import { RoutedGrantBackend } from '#shared/grants/routed-backend.ts';
import { quarantinesIn } from '#shared/grants/quarantine-policy.ts';
import type { DatasetConfig } from '#shared/schemas/grants.ts';
import type { AccessSystem, GrantBackend } from '#shared/grants/ports.ts';
import type { TestDynamo } from './dynamo.ts';
import type { ContractWorld } from './grant-contract.ts';

export const OWNER = 'arn:aws:iam::111111111111:role/mci-data-owner';
export const EXPOSED = 'arn:aws:iam::111111111111:role/all-staff';
const BREAK_GLASS = 'arn:aws:iam::111111111111:role/killswitch-break-glass';
let worlds = 0;
const fresh = (prefix: string) => `${prefix}${process.pid}x${++worlds}`;

/** The grant registry (the Grants table on dynalite). */
export function registryWorld(db: TestDynamo): () => ContractWorld {
  return () => {
    const store = new DynamoGrantStore(db.doc, db.tables.grants);
    let datasetId = '';
    const grant = (principal: string, owner: boolean) => ({
      datasetId,
      principal,
      permission: 'READ' as const,
      owner,
      grantedBy: 'test',
      grantedAt: new Date().toISOString(),
    });
    return {
      backend: store,
      get datasetId() {
        return datasetId;
      },
      reset: async () => {
        datasetId = fresh('registry');
        await store.put(grant(OWNER, true));
        await store.put(grant(EXPOSED, false));
      },
      exposedInForce: () => store.canAccess(EXPOSED, datasetId, 'READ'),
      ownerInForce: () => store.canAccess(OWNER, datasetId, 'READ'),
      changeWhileRevoked: async () => void (await store.put(grant(EXPOSED, false))),
    };
  };
}

/** Routed over one access system, with holds and leases in the Grants table; `configure` gives the dataset's mapping. */
function routed(db: TestDynamo, system: AccessSystem): GrantBackend {
  return new RoutedGrantBackend(new DynamoGrantStore(db.doc, db.tables.grants), [system], new DynamoAccessHolds(db.doc, db.tables.grants));
}

/** The bucket-policy quarantine, on an S3 endpoint (the local stand-in or moto). */
export function bucketPolicyWorld(db: TestDynamo, s3: S3Client, createBucket?: (bucket: string) => Promise<void>): () => ContractWorld {
  return () => {
    let bucket = '';
    let datasetId = '';
    let backend: GrantBackend | undefined;
    const read = async () => {
      try {
        return (await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy;
      } catch (error) {
        if ((error as { name?: string }).name === 'NoSuchBucketPolicy') return undefined;
        throw error;
      }
    };
    const quarantineStatements = async () =>
      ((JSON.parse((await read()) ?? '{"Statement":[]}') as { Statement: Record<string, unknown>[] }).Statement ?? []).filter((s) =>
        String(s.Sid ?? '').startsWith('killswitch-quarantine-'),
      );
    return {
      get backend() {
        return backend!;
      },
      get datasetId() {
        return datasetId;
      },
      reset: async () => {
        datasetId = fresh('bp');
        bucket = `ks-contract-${datasetId.toLowerCase()}`;
        if (createBucket) await createBucket(bucket);
        else await s3.send(new CreateBucketCommand({ Bucket: bucket }));
        const config: DatasetConfig = {
          programId: 'mci',
          datasetId,
          owners: [OWNER],
          access: { bucketPolicy: { bucket, prefix: 'raw/' } },
        };
        const leases = new DynamoLeases(db.doc, db.tables.grants);
        backend = routed(
          db,
          new BucketPolicySystem([config], new BucketPolicyQuarantine(s3, { settleMs: 0 }), [BREAK_GLASS], 'aws', (b, work) =>
            leases.with(b, work),
          ),
        );
      },
      // The quarantine is in force when any incident's Deny is in the policy (S3 evaluates them, moto and the stand-in only store them).
      exposedInForce: async () => quarantinesIn(bucket, await read()).length === 0,
      // Every quarantine statement exempts the owner.
      ownerInForce: async () => (await quarantineStatements()).every((s) => JSON.stringify(s.Condition ?? {}).includes(OWNER)),
      makeUnrevocable: async () => {
        // The team's own statements fill the policy nearly to S3's 20 KB: there is no room for the Deny.
        const filler: Record<string, unknown>[] = [];
        while (JSON.stringify(filler).length < 19_800)
          filler.push({
            Sid: `Team${filler.length}`,
            Effect: 'Allow',
            Principal: { AWS: `arn:aws:iam::111111111111:role/team-reader-${filler.length}` },
            Action: ['s3:GetObject', 's3:GetObjectVersion'],
            Resource: `arn:aws:s3:::${bucket}/team-${filler.length}/*`,
          });
        await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify({ Version: '2012-10-17', Statement: filler }) }));
      },
    };
  };
}

/** Lake Formation on moto: the exposed principal's SELECT on the dataset's table. */
export function lakeFormationWorld(db: TestDynamo, lf: LakeFormationClient): () => ContractWorld {
  return () => {
    let datasetId = '';
    let access = { database: 'mci', table: 'x' };
    let backend: GrantBackend | undefined;
    const grant = (principal: string, permissions: ('SELECT' | 'DESCRIBE' | 'ALL')[]) =>
      lf.send(
        new GrantPermissionsCommand({
          Principal: { DataLakePrincipalIdentifier: principal },
          Resource: resourceOf(access),
          Permissions: permissions,
          PermissionsWithGrantOption: [],
        }),
      );
    const holders = async () =>
      ((await lf.send(new ListPermissionsCommand({ Resource: resourceOf(access) }))).PrincipalResourcePermissions ?? []).map(
        (p) => p.Principal?.DataLakePrincipalIdentifier,
      );
    return {
      get backend() {
        return backend!;
      },
      get datasetId() {
        return datasetId;
      },
      reset: async () => {
        datasetId = fresh('lf');
        access = { database: 'mci_training', table: datasetId.toLowerCase() };
        const config: DatasetConfig = { programId: 'mci', datasetId, owners: [OWNER], access: { lakeFormation: access } };
        backend = routed(db, new LakeFormationSystem([config], new LakeFormationPermissions(lf)));
        await grant(OWNER, ['ALL']);
        await grant(EXPOSED, ['SELECT', 'DESCRIBE']);
      },
      exposedInForce: async () => (await holders()).includes(EXPOSED),
      ownerInForce: async () => (await holders()).includes(OWNER),
      // IAM decides while IAM_ALLOWED_PRINCIPALS holds a permission: reported, never revoked.
      makeUnrevocable: async () => void (await grant('IAM_ALLOWED_PRINCIPALS', ['ALL'])),
    };
  };
}

/**
 * S3 Access Grants: no emulator has them (moto neither), so the S3 Control client is answered by
 * an in-memory instance through aws-sdk-client-mock, on the shapes the API reference documents
 * (ListAccessGrants pages, DeleteAccessGrant's NoSuchAccessGrant, CreateAccessGrant's new id,
 * NoSuchAccessGrantsLocation for a location deleted).
 */
export function accessGrantsWorld(
  db: TestDynamo,
  control: S3ControlClient,
  fake: { grants: Map<string, Record<string, unknown>>; locations: Set<string> },
): () => ContractWorld {
  return () => {
    let datasetId = '';
    let backend: GrantBackend | undefined;
    const location = () => `loc-${datasetId}`;
    const exposed = () =>
      [...fake.grants.values()].some(
        (g) => (g.Grantee as { GranteeIdentifier: string }).GranteeIdentifier === EXPOSED && g.AccessGrantsLocationId === location(),
      );
    return {
      get backend() {
        return backend!;
      },
      get datasetId() {
        return datasetId;
      },
      reset: async () => {
        datasetId = fresh('ag');
        fake.locations.add(location());
        const config: DatasetConfig = {
          programId: 'mci',
          datasetId,
          owners: [OWNER],
          access: { s3AccessGrants: { accountId: '111111111111', locationId: location(), prefix: 'raw/' } },
        };
        backend = routed(db, new S3AccessGrantsSystem([config], new S3AccessGrants(control)));
        for (const [principal, permission] of [
          [OWNER, 'READWRITE'],
          [EXPOSED, 'READ'],
        ] as const) {
          const id = `g-${datasetId}-${fake.grants.size}`;
          fake.grants.set(id, {
            AccessGrantId: id,
            Grantee: { GranteeType: 'IAM', GranteeIdentifier: principal },
            Permission: permission,
            AccessGrantsLocationId: location(),
            AccessGrantsLocationConfiguration: { S3SubPrefix: 'raw/*' },
            GrantScope: `s3://bucket-${datasetId}/raw/*`,
          });
        }
      },
      exposedInForce: async () => exposed(),
      ownerInForce: async () =>
        [...fake.grants.values()].some(
          (g) => (g.Grantee as { GranteeIdentifier: string }).GranteeIdentifier === OWNER && g.AccessGrantsLocationId === location(),
        ),
      changeWhileRevoked: async () => void fake.locations.delete(location()),
    };
  };
}
