import { randomUUID } from 'node:crypto';
import { DeleteCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailed } from './dynamo.ts';
import { KillSwitchError } from '../../domain/errors.ts';

/**
 * Short leases in the Grants table (partition `@lease`, sort key the resource), so that
 * killswitch's own writers of one resource take turns: a bucket policy is replaced whole by
 * `PutBucketPolicy`, and two incidents quarantining one bucket at once would otherwise each write
 * a document without the other's statement. A lease expires by itself (a crashed holder blocks
 * nobody longer than `ttlMs`); it serialises killswitch's writers, not anyone else's (those the
 * quarantine's re-read verification catches).
 */
export class DynamoLeases {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly options: { ttlMs?: number; waitMs?: number; sleep?: (ms: number) => Promise<void> } = {},
  ) {}

  async with<T>(resource: string, work: () => Promise<T>): Promise<T> {
    // Longer than the grant worker's timeout (5 minutes): a lease outlives no holder's work, and a
    // crashed holder's lease lapses by itself.
    const ttlMs = this.options.ttlMs ?? 360_000;
    const deadline = Date.now() + (this.options.waitMs ?? 120_000);
    const sleep = this.options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
    const token = randomUUID();
    const key = { datasetId: '@lease', grantKey: resource };
    for (let attempt = 0; ; attempt++) {
      const now = Date.now();
      try {
        await this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...key, token, expiresAt: now + ttlMs },
            ConditionExpression: 'attribute_not_exists(grantKey) OR expiresAt < :now',
            ExpressionAttributeValues: { ':now': now },
          }),
        );
        break;
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
        if (Date.now() > deadline)
          throw new KillSwitchError(`${resource} is being changed by another killswitch worker; try again`, 'FAILURE');
        await sleep(Math.min(1000, 20 * 2 ** Math.min(attempt, 6)) * (0.5 + Math.random()));
      }
    }
    try {
      return await work();
    } finally {
      await this.#release(key, token);
    }
  }

  /** Only our own lease (by token): one that expired and was taken over is the new holder's. */
  async #release(key: { datasetId: string; grantKey: string }, token: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: key,
          ConditionExpression: '#token = :token',
          ExpressionAttributeNames: { '#token': 'token' },
          ExpressionAttributeValues: { ':token': token },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }
}
