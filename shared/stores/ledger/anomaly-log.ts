import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { conditionally } from '../dynamo.ts';
import { LedgerKeys } from './keys.ts';
import type { LedgerTable } from './ledger-table.ts';

export type AnomalyClaim =
  /** First delivery, or a takeover of a delivery that stopped mid-way: process it. */
  | { claim: 'PROCESS'; receivedAt: string }
  /** Another delivery is processing it right now. */
  | { claim: 'IN_PROGRESS'; since: string }
  /** Fully processed before: nothing to do. */
  | { claim: 'DONE'; incidentId: string };

/**
 * Deduplicates anomalies by id (the Powertools idempotency pattern, on the ledger):
 * RECEIVED while a delivery works on it, COMPLETED when everything it causes is recorded.
 */
export class AnomalyLog {
  constructor(
    private readonly table: LedgerTable,
    /** After this long a RECEIVED record is presumed abandoned and another delivery may take over. */
    private readonly inProgressTimeoutMs = 60_000,
  ) {}

  async claim(programId: string, anomalyId: string, incidentId: string, now: Date): Promise<AnomalyClaim> {
    const key = LedgerKeys.anomaly(programId, anomalyId);
    const record = { programId, anomalyId, incidentId, status: 'RECEIVED', receivedAt: now.toISOString() };
    if (await this.table.putOnce(key, record)) return { claim: 'PROCESS', receivedAt: record.receivedAt };

    const existing = await this.table.get(key);
    if (existing?.status === 'COMPLETED') return { claim: 'DONE', incidentId: String(existing.incidentId) };
    const since = String(existing?.receivedAt ?? '');
    if (Date.parse(since) > now.getTime() - this.inProgressTimeoutMs) return { claim: 'IN_PROGRESS', since };

    const takenOver = await conditionally(() =>
      this.table.client.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: key,
          UpdateExpression: 'SET receivedAt = :now',
          ConditionExpression: '#status = :received AND receivedAt = :since',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':now': now.toISOString(), ':received': 'RECEIVED', ':since': since },
        }),
      ),
    );
    return takenOver ? { claim: 'PROCESS', receivedAt: now.toISOString() } : { claim: 'IN_PROGRESS', since };
  }

  /**
   * A delivery that failed gives its claim up, so that the next delivery takes over at once
   * instead of waiting for the claim to be presumed abandoned. Best effort: if this write fails
   * too, the timeout still frees the claim.
   */
  async release(programId: string, anomalyId: string, receivedAt: string): Promise<void> {
    await conditionally(() =>
      this.table.client.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: LedgerKeys.anomaly(programId, anomalyId),
          UpdateExpression: 'SET receivedAt = :released',
          ConditionExpression: '#status = :received AND receivedAt = :mine',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':released': new Date(0).toISOString(), ':received': 'RECEIVED', ':mine': receivedAt },
        }),
      ),
    ).catch(() => undefined);
  }

  /** Whether every effect of this anomaly is recorded (a cheap read for the finding sweep). */
  async isComplete(programId: string, anomalyId: string): Promise<boolean> {
    const record = await this.table.get(LedgerKeys.anomaly(programId, anomalyId));
    return record?.status === 'COMPLETED';
  }

  async complete(programId: string, anomalyId: string, now: Date): Promise<void> {
    await this.table.client.send(
      new UpdateCommand({
        TableName: this.table.tableName,
        Key: LedgerKeys.anomaly(programId, anomalyId),
        UpdateExpression: 'SET #status = :completed, completedAt = :now',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':completed': 'COMPLETED', ':now': now.toISOString() },
      }),
    );
  }
}
