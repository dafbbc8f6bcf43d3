import { createHash } from 'node:crypto';
import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { NoticeEntrySchema, type NoticeEntry, type NoticeType, type SentNotice } from '../../../schemas/notices.ts';
import { cutText, wellFormed } from '../../../schemas/common.ts';
import { conditionally } from '../dynamo.ts';
import { withoutKeys } from './keys.ts';
import type { LedgerTable } from './ledger-table.ts';
import type { NoticeCounts, NoticeRecords } from '../../../notices/ports.ts';

export type { NoticeCounts };

/**
 * Notice entries are spread over this many partitions per incident: one DynamoDB partition key
 * takes about 1,000 writes a second, and a notice is written three times (planned, claimed, sent).
 */
export const NOTICE_SHARDS = 16;

const shardOf = (employeeId: string) => createHash('sha256').update(employeeId).digest()[0]! % NOTICE_SHARDS;
const shardPk = (incidentId: string, shard: number) => `NOTICES#${incidentId}#${String(shard).padStart(2, '0')}`;
const key = (incidentId: string, type: NoticeType, employeeId: string) => ({
  pk: shardPk(incidentId, shardOf(employeeId)),
  sk: `${type}#${employeeId}`,
});

/**
 * A SENDING claim older than this is presumed abandoned. It must be longer than a sender can run
 * (its Lambda timeout: a live sender is never overtaken) and shorter than the time SQS holds a batch
 * before redelivering it (its visibility timeout: a redelivered batch always finds the claim stale).
 * The stack sets it to twice the sender's timeout, a third of the queue's visibility timeout.
 */
export const DEFAULT_STALE_CLAIM_MS = 120_000;

/**
 * The delivery ledger. Each entry moves PENDING → SENDING (claimed by one sender) → SENT, or
 * back to PENDING for a retry, or to FAILED; every move is one conditional update, so an entry
 * that is SENT is never sent again, and two senders never send the same entry at once.
 */
export class NoticeLedger implements NoticeRecords {
  constructor(
    private readonly table: LedgerTable,
    /** A SENDING claim older than this is presumed abandoned (its sender died) and may be taken over. */
    readonly staleClaimMs = DEFAULT_STALE_CLAIM_MS,
  ) {}

  /** A SENDING entry whose sender is presumed dead: planning and resend-failed queue it again. */
  isStale(entry: Pick<NoticeEntry, 'status' | 'claimedAt'>, now: Date): boolean {
    return entry.status === 'SENDING' && (!entry.claimedAt || Date.parse(entry.claimedAt) < now.getTime() - this.staleClaimMs);
  }

  /** Write the PENDING entry unless one exists: `created` false means it was planned before. */
  async plan(entry: Omit<NoticeEntry, 'status' | 'attempts'>): Promise<{ created: boolean; entry: NoticeEntry }> {
    const full: NoticeEntry = { ...entry, status: 'PENDING', attempts: 0 };
    if (await this.table.putOnce(key(entry.incidentId, entry.noticeType, entry.employeeId), full)) return { created: true, entry: full };
    return { created: false, entry: (await this.get(entry.incidentId, entry.noticeType, entry.employeeId))! };
  }

  async get(incidentId: string, type: NoticeType, employeeId: string): Promise<NoticeEntry | undefined> {
    const { Item } = await this.table.client.send(
      new GetCommand({ TableName: this.table.tableName, Key: key(incidentId, type, employeeId), ConsistentRead: true }),
    );
    return Item ? NoticeEntrySchema.parse(withoutKeys(Item)) : undefined;
  }

  /** PENDING (or an abandoned SENDING) → SENDING. Undefined when someone else has it or it is done. */
  async claim(incidentId: string, type: NoticeType, employeeId: string, now: Date): Promise<NoticeEntry | undefined> {
    try {
      const { Attributes } = await this.table.client.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: key(incidentId, type, employeeId),
          UpdateExpression: 'SET #status = :sending, claimedAt = :now, attempts = attempts + :one',
          ConditionExpression: '#status = :pending OR (#status = :sending AND claimedAt < :stale)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':sending': 'SENDING',
            ':pending': 'PENDING',
            ':now': now.toISOString(),
            ':stale': new Date(now.getTime() - this.staleClaimMs).toISOString(),
            ':one': 1,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return NoticeEntrySchema.parse(withoutKeys(Attributes ?? {}));
    } catch (error) {
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return undefined;
      throw error;
    }
  }

  markSent(incidentId: string, type: NoticeType, employeeId: string, messageId: string, now: Date, sent: SentNotice): Promise<boolean> {
    return this.#move(
      incidentId,
      type,
      employeeId,
      ['SENDING'],
      'SET #status = :to, sentAt = :now, messageId = :mid, sent = :sent REMOVE #error',
      { ':to': 'SENT', ':now': now.toISOString(), ':mid': messageId, ':sent': sent },
    );
  }

  /** SENDING → PENDING, with the error, for a retry. */
  release(incidentId: string, type: NoticeType, employeeId: string, error: string): Promise<boolean> {
    return this.#move(incidentId, type, employeeId, ['SENDING'], 'SET #status = :to, #error = :err', {
      ':to': 'PENDING',
      ':err': cutText(wellFormed(error), 500),
    });
  }

  markFailed(incidentId: string, type: NoticeType, employeeId: string, error: string): Promise<boolean> {
    return this.#move(incidentId, type, employeeId, ['SENDING', 'PENDING'], 'SET #status = :to, #error = :err', {
      ':to': 'FAILED',
      ':err': cutText(wellFormed(error), 500),
    });
  }

  /** FAILED → PENDING, for `resend-failed`. */
  retryFailed(incidentId: string, type: NoticeType, employeeId: string): Promise<boolean> {
    return this.#move(incidentId, type, employeeId, ['FAILED'], 'SET #status = :to', { ':to': 'PENDING' });
  }

  /** FAILED entries of one type, and SENDING ones whose claim is stale (their sender died), in employee-id order per shard. */
  async *failed(incidentId: string, type: NoticeType, now: Date): AsyncGenerator<NoticeEntry> {
    const stale = new Date(now.getTime() - this.staleClaimMs).toISOString();
    for (let shard = 0; shard < NOTICE_SHARDS; shard++) {
      for await (const item of this.#scanShard(
        incidentId,
        shard,
        type,
        '#status = :failed OR (#status = :sending AND claimedAt < :stale)',
        { ':failed': 'FAILED', ':sending': 'SENDING', ':stale': stale },
      )) {
        yield NoticeEntrySchema.parse(item);
      }
    }
  }

  /** Entries by status: of one notice type, or of every type when none is given. */
  async counts(incidentId: string, type?: NoticeType): Promise<NoticeCounts> {
    const counts: NoticeCounts = { planned: 0, pending: 0, sending: 0, sent: 0, failed: 0 };
    await Promise.all(
      Array.from({ length: NOTICE_SHARDS }, async (_, shard) => {
        for await (const item of this.#scanShard(incidentId, shard, type, undefined, {}, '#status')) {
          counts.planned++;
          const status = String(item.status).toLowerCase() as keyof NoticeCounts;
          counts[status]++;
        }
      }),
    );
    return counts;
  }

  async *#scanShard(
    incidentId: string,
    shard: number,
    type: NoticeType | undefined,
    filter: string | undefined,
    values: Record<string, unknown>,
    projection?: string,
  ): AsyncGenerator<Record<string, unknown>> {
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.table.client.send(
        new QueryCommand({
          TableName: this.table.tableName,
          KeyConditionExpression: type ? 'pk = :pk AND begins_with(sk, :type)' : 'pk = :pk',
          ...(filter ? { FilterExpression: filter } : {}),
          ...(projection ? { ProjectionExpression: projection } : {}),
          ExpressionAttributeNames: filter || projection ? { '#status': 'status' } : undefined,
          ExpressionAttributeValues: { ':pk': shardPk(incidentId, shard), ...(type ? { ':type': `${type}#` } : {}), ...values },
          ConsistentRead: true,
          ExclusiveStartKey,
        }),
      );
      for (const item of page.Items ?? []) yield withoutKeys(item);
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
  }

  #move(
    incidentId: string,
    type: NoticeType,
    employeeId: string,
    from: string[],
    update: string,
    values: Record<string, unknown>,
  ): Promise<boolean> {
    const fromValues = Object.fromEntries(from.map((f, i) => [`:from${i}`, f]));
    return conditionally(() =>
      this.table.client.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: key(incidentId, type, employeeId),
          UpdateExpression: update,
          ConditionExpression: Object.keys(fromValues)
            .map((k) => `#status = ${k}`)
            .join(' OR '),
          ExpressionAttributeNames: { '#status': 'status', ...(update.includes('#error') ? { '#error': 'error' } : {}) },
          ExpressionAttributeValues: { ...values, ...fromValues },
        }),
      ),
    );
  }
}
