import { randomBytes } from 'node:crypto';
import type { HttpHandler, HttpReply } from './http.ts';

const reply = (status: number, body: unknown): HttpReply => ({
  status,
  headers: { 'content-type': 'application/x-amz-json-1.1' },
  body: JSON.stringify(body),
});

/**
 * The local stand-in for Secrets Manager's `GetSecretValue` (AWS JSON 1.1,
 * `X-Amz-Target: secretsmanager.GetSecretValue`): the templates' generated secrets, made when the
 * stack starts (64 characters of A-Z a-z 0-9, as `generateSecretString` without punctuation makes them).
 */
export class LocalSecrets {
  readonly #secrets = new Map<string, string>();

  create(arn: string): string {
    const value = randomBytes(48)
      .toString('base64')
      .replace(/[^A-Za-z0-9]/g, '')
      .slice(0, 64)
      .padEnd(64, 'x');
    this.#secrets.set(arn, value);
    return value;
  }

  value(arn: string): string | undefined {
    return this.#secrets.get(arn);
  }

  handler(): HttpHandler {
    return async ({ headers, body }) => {
      const action = String(headers['x-amz-target'] ?? '');
      if (action !== 'secretsmanager.GetSecretValue')
        return reply(400, {
          __type: 'InvalidRequestException',
          message: `the local Secrets Manager serves GetSecretValue only, not ${action}`,
        });
      let id: unknown;
      try {
        id = (JSON.parse(body || '{}') as { SecretId?: unknown }).SecretId;
      } catch {
        return reply(400, { __type: 'SerializationException', message: 'the body is not JSON' });
      }
      const value = typeof id === 'string' ? this.#secrets.get(id) : undefined;
      if (value === undefined)
        return reply(400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." });
      return reply(200, {
        ARN: id,
        Name: String(id).split(':').pop(),
        SecretString: value,
        VersionId: 'local',
        VersionStages: ['AWSCURRENT'],
        CreatedDate: 0,
      });
    };
  }
}
