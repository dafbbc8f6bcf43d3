import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { z } from '../schemas/z.ts';
import { ProgramIdSchema } from '../schemas/common.ts';
import { dynamoDocumentClient, sqsClient } from '../adapters/aws/clients.ts';
import { WorkQueue } from '../adapters/aws/work-queue.ts';
import { DeadLetters } from '../adapters/aws/dead-letters.ts';
import { DynamoAckStore } from '../adapters/dynamodb/ack-store.ts';
import { ProgramStateStore } from '../adapters/dynamodb/program-state-store.ts';
import { LedgerTable } from '../adapters/dynamodb/ledger/ledger-table.ts';
import { IncidentLedger } from '../adapters/dynamodb/ledger/incident-ledger.ts';
import { AckAggregator, type ReceivedAck } from '../killswitch/acks.ts';
import { EnvVars, readEnv } from './env.ts';
import { ledgerChains } from './ledger-chains.ts';

const name = z.string().min(1, 'is required');
const programs = z
  .string({ error: 'is required' })
  .transform((s) => s.split(',').filter(Boolean))
  .pipe(z.array(ProgramIdSchema).min(1, 'must list at least one'));

export const AckIntakeEnvSchema = z.object({
  ACK_QUEUE_URL: name,
  /** The Secrets Manager secret agents' enrolment secrets derive from. */
  AGENT_ENROLMENT_SECRET_ARN: name,
  ACK_PROGRAMS: programs,
});

/** The acknowledgement intake's composition: the queue and the enrolment master secret, read once per container. */
export function ackIntakeServices(env = readEnv(AckIntakeEnvSchema)) {
  const secrets = new SecretsManagerClient({ maxAttempts: 4 });
  let master: Promise<Buffer> | undefined;
  const queue = new WorkQueue<ReceivedAck>(sqsClient(), env.ACK_QUEUE_URL);
  return {
    env,
    programs: new Set(env.ACK_PROGRAMS),
    queue: { send: async (ack: ReceivedAck) => void (await queue.enqueue(ack)) },
    master: () =>
      (master ??= secrets
        .send(new GetSecretValueCommand({ SecretId: env.AGENT_ENROLMENT_SECRET_ARN }))
        .then(({ SecretString }) => {
          if (!SecretString || SecretString.length < 32)
            throw new Error('the agent enrolment secret is missing or shorter than 32 characters');
          return Buffer.from(SecretString, 'utf8');
        })
        .catch((error: unknown) => {
          master = undefined;
          throw error;
        })),
  };
}

export const AckAggregatorEnvSchema = z.object({
  ...EnvVars.programStateTable,
  ...EnvVars.ledgerTable,
  ...EnvVars.acksTable,
  ACK_DLQ_URL: name,
  ACK_PROGRAMS: programs,
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
  return { env, aggregator, deadLetters: new DeadLetters(sqsClient(), env.ACK_DLQ_URL) };
}
