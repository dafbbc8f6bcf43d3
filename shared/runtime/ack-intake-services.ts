import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { z } from '../schemas/z.ts';
import { WorkQueue } from '../adapters/aws/work-queue.ts';
import type { ReceivedAck } from '../killswitch/acks.ts';
import { EnvVars, name, readEnv } from './env.ts';

export const AckIntakeEnvSchema = z.object({
  ACK_QUEUE_URL: name,
  /** The Secrets Manager secret agents' enrolment secrets derive from. */
  AGENT_ENROLMENT_SECRET_ARN: name,
  ...EnvVars.ackPrograms,
});

/** The acknowledgement intake's composition: the queue and the enrolment master secret, read once per container. */
export function ackIntakeServices(env = readEnv(AckIntakeEnvSchema)) {
  const secrets = new SecretsManagerClient({ maxAttempts: 4 });
  let master: Promise<Buffer> | undefined;
  const queue = new WorkQueue<ReceivedAck>(new SQSClient({}), env.ACK_QUEUE_URL);
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
