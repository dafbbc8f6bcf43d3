import { dynamoDocumentClient } from '../adapters/aws/clients.ts';
import { IncidentLedger } from '../adapters/dynamodb/ledger/incident-ledger.ts';
import { LedgerTable } from '../adapters/dynamodb/ledger/ledger-table.ts';
import { ledgerChains } from './ledger-chains.ts';

/**
 * What every function that writes the ledger shares: the DynamoDB client, the ledger table, its
 * chains (sealed into the table and exported to the anchors bucket when the function has one) and
 * its incident records.
 */
export function ledgerServices(env: { LEDGER_TABLE: string; LEDGER_ANCHOR_BUCKET?: string | undefined }) {
  const dynamo = dynamoDocumentClient();
  const ledger = new LedgerTable(dynamo, env.LEDGER_TABLE);
  const chains = ledgerChains(ledger, env);
  return { dynamo, ledger, chains, incidents: new IncidentLedger(ledger, chains) };
}
