import { SQSClient } from '@aws-sdk/client-sqs';
import { z } from '../schemas/z.ts';
import { dynamoDocumentClient } from '../adapters/aws/clients.ts';
import { DeadLetters } from '../adapters/aws/dead-letters.ts';
import { DynamoAckStore } from '../adapters/dynamodb/ack-store.ts';
import { ProgramStateStore } from '../adapters/dynamodb/program-state-store.ts';
import { LedgerTable } from '../adapters/dynamodb/ledger/ledger-table.ts';
import { IncidentLedger } from '../adapters/dynamodb/ledger/incident-ledger.ts';
import { AckAggregator } from '../killswitch/acks.ts';
import { EnvVars, name, readEnv } from './env.ts';
import { ledgerChains } from './ledger-chains.ts';

export const AckAggregatorEnvSchema = z.object({
  ...EnvVars.programStateTable,
  ...EnvVars.ledgerTable,
  ...EnvVars.acksTable,
  ACK_DLQ_URL: name,
  ...EnvVars.ackPrograms,
  STATE_FEED_VALIDITY_S: z.coerce.number().int().positive(),
  STATE_FEED_PUBLISHER_TIMEOUT_S: z.coerce.number().int().positive(),
});

export function ackAggregatorServices(env = readEnv(AckAggregatorEnvSchema)) {
  const dynamo = dynamoDocumentClient();
  const aggregator = new AckAggregator({
    store: new DynamoAckStore(dynamo, env.ACKS_TABLE),
    states: new ProgramStateStore(dynamo, env.PROGRAM_STATE_TABLE),
    incidents: ((ledger) => new IncidentLedger(ledger, ledgerChains(ledger, env)))(new LedgerTable(dynamo, env.LEDGER_TABLE)),
  });
  return { env, aggregator, deadLetters: new DeadLetters(new SQSClient({}), env.ACK_DLQ_URL) };
}
