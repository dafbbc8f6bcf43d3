import { S3Client } from '@aws-sdk/client-s3';
import { ChainAnchorBucket } from '../adapters/aws/chain-anchor-bucket.ts';
import { HashChains } from '../adapters/dynamodb/ledger/hash-chains.ts';
import type { ChainOptions } from '../adapters/dynamodb/ledger/chain-options.ts';
import type { LedgerTable } from '../adapters/dynamodb/ledger/ledger-table.ts';

/**
 * How the ledger's stores seal their hash chains: into the table, exporting each head to the
 * anchors bucket when the function has one; a failed seal is logged (the record is written, and the
 * next write or the deadline watch seals it).
 */
export function ledgerChains(ledger: LedgerTable, env: { LEDGER_ANCHOR_BUCKET?: string | undefined }): Required<ChainOptions> {
  const anchors = env.LEDGER_ANCHOR_BUCKET ? new ChainAnchorBucket(new S3Client({}), env.LEDGER_ANCHOR_BUCKET) : undefined;
  return {
    chains: new HashChains(ledger, anchors),
    onSealError: (error, chainId) =>
      console.warn(
        JSON.stringify({
          level: 'WARN',
          message: 'ledger seal failed: the record is written and stays unsealed until the next write or the deadline watch seals it',
          chainId,
          error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        }),
      ),
  };
}
