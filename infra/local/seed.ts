import { dynamoDocumentClient } from '#shared/aws/clients.ts';
import { ProgramStateStore } from '#shared/stores/program-state-store.ts';
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
