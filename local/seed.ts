import { dynamoDocumentClient } from '#shared/adapters/aws/clients.ts';
import { ProgramStateStore } from '#shared/adapters/dynamodb/program-state-store.ts';
import { DynamoGrantStore } from '#shared/adapters/dynamodb/grant-store.ts';
import { DataSubjectStore } from '#shared/adapters/dynamodb/data-subject-store.ts';
import type { LocalStack } from './stack.ts';

/** What seeding needs of a running local stack (in this process, or described by `local up`). */
export type SeedTarget = Pick<LocalStack, 'endpoints' | 'tables' | 'config'>;

/** Registers every configured program (its global scope, ACTIVE at version 1) unless it exists. */
export async function seedPrograms(stack: SeedTarget): Promise<string[]> {
  const store = new ProgramStateStore(dynamoDocumentClient({ endpoint: stack.endpoints.dynamodb }), stack.tables.programState);
  const now = new Date();
  const registered: string[] = [];
  for (const program of stack.config.programs) {
    if (await store.register(program.programId, now)) registered.push(program.programId);
  }
  return registered;
}

export const SAMPLE_ACCOUNT_ROLE = (account: string, name: string) => `arn:aws:iam::${account}:role/${name}`;

/**
 * Grants on every dataset of every program: the dataset owner (never revoked), the training
 * pipeline, an analytics group, the all-staff group that the incident exposes the data to, and
 * `readersPerDataset` individual analyst roles.
 */
export async function seedGrants(stack: SeedTarget, readersPerDataset = 20): Promise<number> {
  const store = new DynamoGrantStore(dynamoDocumentClient({ endpoint: stack.endpoints.dynamodb }), stack.tables.grants);
  const at = new Date().toISOString();
  const role = (name: string) => SAMPLE_ACCOUNT_ROLE(stack.config.account, name);
  const grants = stack.config.programs.flatMap((program) =>
    program.datasetIds.flatMap((datasetId) => [
      {
        datasetId,
        principal: role(`${program.programId}-data-owner`),
        permission: 'ADMIN' as const,
        owner: true,
        grantedBy: 'seed',
        grantedAt: at,
      },
      {
        datasetId,
        principal: role(`${program.programId}-training-pipeline`),
        permission: 'READ' as const,
        grantedBy: 'seed',
        grantedAt: at,
      },
      { datasetId, principal: 'group:analytics', permission: 'READ' as const, grantedBy: 'seed', grantedAt: at },
      { datasetId, principal: 'group:all-staff', permission: 'READ' as const, grantedBy: 'seed', grantedAt: at },
      ...Array.from({ length: readersPerDataset }, (_, i) => ({
        datasetId,
        principal: role(`analyst-${String(i).padStart(4, '0')}`),
        permission: 'READ' as const,
        grantedBy: 'seed',
        grantedAt: at,
      })),
    ]),
  );
  await store.seed(grants);
  return grants.length;
}

/** The category of data each sample dataset holds about an employee. */
export const SAMPLE_CATEGORIES: Record<string, string> = {
  keystrokes: 'keystrokes',
  mouse: 'mouse-activity',
  transcripts: 'chat-transcripts',
};

/**
 * Employees E000000… whose data is in the program's datasets: every employee is in the first
 * dataset, two in three also in the second, one in two also in the third — overlapping, so that
 * notices must merge categories per person.
 */
export async function seedDataSubjects(stack: SeedTarget, employees: number): Promise<number> {
  const store = new DataSubjectStore(dynamoDocumentClient({ endpoint: stack.endpoints.dynamodb }), stack.tables.dataSubjects);
  const heldFrom = '2026-09-01T00:00:00Z';
  const heldTo = new Date().toISOString();
  let rows = 0;
  for (const program of stack.config.programs) {
    const subjects = Array.from({ length: employees }, (_, i) => {
      const employeeId = `E${String(i).padStart(6, '0')}`;
      return program.datasetIds
        .filter((_, d) => d === 0 || (d === 1 && i % 3 !== 0) || (d >= 2 && i % 2 === 0))
        .map((datasetId) => ({ datasetId, employeeId, categories: [SAMPLE_CATEGORIES[datasetId] ?? datasetId], heldFrom, heldTo }));
    }).flat();
    await store.seed(subjects);
    rows += subjects.length;
  }
  return rows;
}

/** A platform team's own bucket policy: TLS only. The quarantine must leave it exactly so. */
export const teamBucketPolicy = (bucket: string) => ({
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'TlsOnly',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`],
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    },
  ],
});

/** The team's policy on every quarantined bucket of the configuration, on the local stand-in; what each was. */
export function seedBucketPolicies(
  stack: Pick<LocalStack, 'config' | 'bucketPolicies'>,
): { bucket: string; prefix: string; policy: string; statements: number }[] {
  return stack.config.datasets.flatMap((d) => {
    const access = d.access.bucketPolicy;
    if (!access || !stack.bucketPolicies) return [];
    const policy = JSON.stringify(teamBucketPolicy(access.bucket));
    stack.bucketPolicies.setPolicy(access.bucket, policy);
    return [{ bucket: access.bucket, prefix: access.prefix, policy, statements: 1 }];
  });
}
