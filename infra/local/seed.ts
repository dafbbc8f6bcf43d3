import { dynamoDocumentClient } from '#shared/aws/clients.ts';
import { ProgramStateStore } from '#shared/stores/program-state-store.ts';
import { DynamoGrantStore } from '#shared/stores/grant-store.ts';
import type { LocalStack } from './stack.ts';

export const SEED_PRINCIPAL = { id: 'killswitch:local-seed', verified: true } as const;

/** Registers every configured program (its global scope, ACTIVE at version 1) unless it exists. */
export async function seedPrograms(stack: LocalStack): Promise<string[]> {
  const store = new ProgramStateStore(dynamoDocumentClient({ endpoint: stack.endpoints.dynamodb }), stack.tables.programState);
  const now = new Date();
  const registered: string[] = [];
  for (const program of stack.config.programs) {
    if (await store.register(program.programId, SEED_PRINCIPAL, now)) registered.push(program.programId);
  }
  return registered;
}

export const SAMPLE_ACCOUNT_ROLE = (account: string, name: string) => `arn:aws:iam::${account}:role/${name}`;

/**
 * Grants on every dataset of every program: the dataset owner (never revoked), the training
 * pipeline, an analytics group, the all-staff group that the incident exposes the data to, and
 * `readersPerDataset` individual analyst roles.
 */
export async function seedGrants(stack: LocalStack, readersPerDataset = 20): Promise<number> {
  const store = new DynamoGrantStore(dynamoDocumentClient({ endpoint: stack.endpoints.dynamodb }), stack.tables.grants);
  const at = new Date().toISOString();
  const role = (name: string) => SAMPLE_ACCOUNT_ROLE(stack.config.account, name);
  const grants = stack.config.programs.flatMap((program) =>
    program.datasetIds.flatMap((datasetId) => [
      { datasetId, principal: role(`${program.programId}-data-owner`), permission: 'ADMIN' as const, owner: true, grantedBy: 'seed', grantedAt: at },
      { datasetId, principal: role(`${program.programId}-training-pipeline`), permission: 'READ' as const, grantedBy: 'seed', grantedAt: at },
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
