import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

export function isConditionalCheckFailed(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (typeof error === 'object' && error !== null && (error as { name?: string }).name === 'ConditionalCheckFailedException')
  );
}

/** Runs a conditional write; resolves `false` instead of throwing when its condition failed. */
export async function conditionally(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (error) {
    if (isConditionalCheckFailed(error)) return false;
    throw error;
  }
}

/** Zero-padded so that versions sort as strings in a sort key. */
export const padVersion = (version: number): string => String(version).padStart(12, '0');
