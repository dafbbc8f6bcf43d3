import { LakeFormationClient } from '@aws-sdk/client-lakeformation';
import { S3Client } from '@aws-sdk/client-s3';
import { S3ControlClient } from '@aws-sdk/client-s3-control';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DatasetConfig } from '../schemas/grants.ts';
import type { AccessSystem, GrantBackend } from '../grants/ports.ts';
import { RoutedGrantBackend } from '../grants/routed-backend.ts';
import { DynamoGrantStore } from '../adapters/dynamodb/grant-store.ts';
import { DynamoAccessHolds } from '../adapters/dynamodb/access-holds.ts';
import { DynamoLeases } from '../adapters/dynamodb/leases.ts';
import { BucketPolicyQuarantine } from '../adapters/aws/bucket-policy-quarantine.ts';
import { LakeFormationPermissions } from '../adapters/aws/lake-formation-permissions.ts';
import { S3AccessGrants } from '../adapters/aws/s3-access-grants.ts';
import { BucketPolicySystem, LakeFormationSystem, S3AccessGrantsSystem } from '../adapters/aws/access-systems.ts';

export interface GrantBackendEnv {
  GRANTS_TABLE: string;
  KILLSWITCH_DATASETS: DatasetConfig[];
  QUARANTINE_EXEMPT_ARNS: string[];
  KILLSWITCH_ACCOUNT?: string | undefined;
  AWS_REGION?: string | undefined;
}

/** The partition of a region, for the ARNs of a quarantine statement. */
export const partitionOf = (region = ''): string =>
  region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : region.startsWith('us-iso') ? 'aws-iso' : 'aws';

/**
 * The revoker's backend: the grant registry, and each access system some dataset maps to. Only
 * the clients of mapped systems are made (endpoints from AWS_ENDPOINT_URL_<SERVICE>, as for
 * every client).
 */
export function grantBackend(env: GrantBackendEnv, dynamo: DynamoDBDocumentClient): GrantBackend {
  const registry = new DynamoGrantStore(dynamo, env.GRANTS_TABLE);
  const datasets = env.KILLSWITCH_DATASETS;
  const systems: AccessSystem[] = [];
  if (datasets.some((d) => d.access.bucketPolicy)) {
    const quarantine = new BucketPolicyQuarantine(new S3Client({}), {
      ...(env.KILLSWITCH_ACCOUNT ? { expectedOwner: env.KILLSWITCH_ACCOUNT } : {}),
    });
    const leases = new DynamoLeases(dynamo, env.GRANTS_TABLE);
    systems.push(
      new BucketPolicySystem(datasets, quarantine, env.QUARANTINE_EXEMPT_ARNS, partitionOf(env.AWS_REGION), (bucket, work) =>
        leases.with(bucket, work),
      ),
    );
  }
  if (datasets.some((d) => d.access.lakeFormation))
    systems.push(new LakeFormationSystem(datasets, new LakeFormationPermissions(new LakeFormationClient({}))));
  if (datasets.some((d) => d.access.s3AccessGrants))
    systems.push(new S3AccessGrantsSystem(datasets, new S3AccessGrants(new S3ControlClient({}))));
  return systems.length ? new RoutedGrantBackend(registry, systems, new DynamoAccessHolds(dynamo, env.GRANTS_TABLE)) : registry;
}
