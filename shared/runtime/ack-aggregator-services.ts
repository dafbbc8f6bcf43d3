import { SQSClient } from '@aws-sdk/client-sqs';
import { z } from '../schemas/z.ts';
import { DeadLetters } from '../adapters/aws/dead-letters.ts';
import { DynamoAckStore } from '../adapters/dynamodb/ack-store.ts';
import { ProgramStateStore } from '../adapters/dynamodb/program-state-store.ts';
import { AckAggregator } from '../killswitch/acks.ts';
import { EnvVars, name, readEnv } from './env.ts';
import { ledgerServices } from './ledger-services.ts';

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
  const { dynamo, incidents } = ledgerServices(env);
  const aggregator = new AckAggregator({
    store: new DynamoAckStore(dynamo, env.ACKS_TABLE),
    states: new ProgramStateStore(dynamo, env.PROGRAM_STATE_TABLE),
    incidents,
  });
  return { env, aggregator, deadLetters: new DeadLetters(new SQSClient({}), env.ACK_DLQ_URL) };
}
