import { createHash, randomUUID } from 'node:crypto';
import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { NoticeEntrySchema, type NoticeEntry, type NoticeType } from '../../../schemas/notices.ts';
import { cutText, wellFormed } from '../../../schemas/common.ts';
import { conditionally, isConditionalCheckFailed } from '../dynamo.ts';
import { batchGet } from '../batch-get.ts';
import { batchWrite } from '../batch-write.ts';
import { withoutKeys } from './keys.ts';
import type { LedgerTable } from './ledger-table.ts';
import type { NoticeBucket, NoticeCounts, NoticeRecords } from '../../../notices/ports.ts';

export type { NoticeCounts };

/**
 * Notice entries are spread over this many partitions per incident: one DynamoDB partition key
 * takes about 1,000 writes a second.
 */
export const NOTICE_SHARDS = 16;

/**
 * An incident's notices of one type are claimed in this many buckets (by a hash of the employee
 * id, fixed for every incident and plan): one conditional write claims a bucket's share of a batch.
 * It bounds how many deliveries of one incident's notices send at once (one per bucket).
 */
export const NOTICE_BUCKETS = 64;

const digest = (employeeId: string) => createHash('sha256').update(employeeId).digest();
const shardOf = (employeeId: string) => digest(employeeId)[0]! % NOTICE_SHARDS;
/** Every delivery-ledger item's partition key starts so (IAM limits the batch calls to them). */
export const NOTICE_PARTITION_PREFIX = 'NOTICES#';
const shardPk = (incidentId: string, shard: number) => `${NOTICE_PARTITION_PREFIX}${incidentId}#${String(shard).padStart(2, '0')}`;
const key = (incidentId: string, type: NoticeType, employeeId: string) => ({
  pk: shardPk(incidentId, shardOf(employeeId)),
  sk: `${type}#${employeeId}`,
});
/** A bucket's claim lives beside a sixteenth of the entries (sort keys `claim#…` never begin like an entry's `<type>#…`). */
const CLAIM_PREFIX = 'claim#';
const claimKey = (incidentId: string, type: NoticeType, bucket: number) => ({
  pk: shardPk(incidentId, bucket % NOTICE_SHARDS),
  sk: `${CLAIM_PREFIX}${type}#${String(bucket).padStart(3, '0')}`,
});

/**
 * A SENDING claim older than this is presumed abandoned. It must be longer than a sender can run
 * (its Lambda timeout: a live sender is never overtaken) and shorter than the time SQS holds a batch
 * before redelivering it (its visibility timeout: a redelivered batch always finds the claim stale).
 * The stack sets it to twice the sender's timeout, a third of the queue's visibility timeout.
 */
export const DEFAULT_STALE_CLAIM_MS = 120_000;

/** How long a delivery waits for a bucket another live delivery holds (a batch takes well under a second). */
export const DEFAULT_CLAIM_PATIENCE_MS = 5_000;

/** A claim's holder came near the stale window, where another delivery may take the claim over. */
export class ClaimExpiredError extends Error {
  override readonly name = 'ClaimExpiredError';
  constructor(incidentId: string, type: NoticeType, bucket: number) {
    super(`the claim on bucket ${bucket} of ${incidentId} ${type} notices was held too long to write under it`);
  }
}

/** Attempts at giving a claim up: one left behind blocks its bucket until it is stale. */
const RELEASE_ATTEMPTS = 4;

interface ClaimItem {
  holder?: string;
  claimedAt?: string;
  sending?: string[];
}

/**
 * The delivery ledger. Each entry is PENDING until its outcome is written (SENT, PENDING again with
 * the error for a retry, or FAILED); while a bucket's claim is publishing it, it reads as SENDING.
 *
 * Claims are taken per bucket, not per entry: a delivery takes a bucket's claim with one
 * conditional update (free, or held by a claim older than the stale window), reads the entries it
 * was given under the claim, records on the claim which it is publishing (they read as SENDING),
 * publishes, writes the outcomes with BatchWriteItem, and gives the claim up. Only a claim's
 * holder writes its bucket's entries, so those writes need no condition, and an entry read as SENT
 * under the claim is never sent again. Planning writes new PENDING entries the same way.
 */
export class NoticeLedger implements NoticeRecords {
  readonly buckets = NOTICE_BUCKETS;

  constructor(
    private readonly table: LedgerTable,
    /** A SENDING claim older than this is presumed abandoned (its sender died) and may be taken over. */
    readonly staleClaimMs = DEFAULT_STALE_CLAIM_MS,
    private readonly options: { patienceMs?: number; sleep?: (ms: number) => Promise<void> } = {},
  ) {}

  bucketOf(employeeId: string): number {
    return digest(employeeId).readUInt16BE(1) % NOTICE_BUCKETS;
  }

  /** A SENDING entry whose sender is presumed dead: planning and resend-failed queue it again. */
  isStale(entry: Pick<NoticeEntry, 'status' | 'claimedAt'>, now: Date): boolean {
    return entry.status === 'SENDING' && (!entry.claimedAt || Date.parse(entry.claimedAt) < now.getTime() - this.staleClaimMs);
  }

  async exclusive<T>(
    incidentId: string,
    type: NoticeType,
    bucket: number,
    now: Date,
    work: (bucket: NoticeBucket) => Promise<T>,
    options: { sending?: readonly string[] } = {},
  ): Promise<{ held: true; value: T } | { held: false }> {
    if (!Number.isInteger(bucket) || bucket < 0 || bucket >= NOTICE_BUCKETS)
      throw new RangeError(`bucket ${bucket} is not 0-${NOTICE_BUCKETS - 1}`);
    const holder = randomUUID();
    const sleep = this.options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const patience = this.options.patienceMs ?? DEFAULT_CLAIM_PATIENCE_MS;
    let waited = 0;
    let previous: ClaimItem | undefined;
    let claimedAt = now;
    // When the claim was asked for, on this process's clock: the fence below counts from it.
    let askedAt = performance.now();
    for (let attempt = 0; ; attempt++) {
      askedAt = performance.now();
      try {
        const { Attributes } = await this.table.client.send(
          new UpdateCommand({
            TableName: this.table.tableName,
            Key: claimKey(incidentId, type, bucket),
            UpdateExpression:
              'SET holder = :holder, claimedAt = :now, incidentId = :incident, noticeType = :type, #bucket = :bucket' +
              (options.sending?.length ? ', sending = :sending' : ' REMOVE sending'),
            // `holder = :holder`: the SDK's retry of a claim whose answer was lost finds its own claim.
            ConditionExpression: 'attribute_not_exists(holder) OR claimedAt < :stale OR holder = :holder',
            ExpressionAttributeNames: { '#bucket': 'bucket' },
            ExpressionAttributeValues: {
              ':holder': holder,
              ':now': claimedAt.toISOString(),
              ':stale': new Date(claimedAt.getTime() - this.staleClaimMs).toISOString(),
              ':incident': incidentId,
              ':type': type,
              ':bucket': bucket,
              ...(options.sending?.length ? { ':sending': [...options.sending] } : {}),
            },
            ReturnValues: 'ALL_OLD',
          }),
        );
        previous = Attributes as ClaimItem | undefined;
        break;
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
        if (waited >= patience) return { held: false };
        const pause = Math.min(patience - waited, Math.round(20 * 2 ** Math.min(attempt, 6) * (0.5 + Math.random())));
        await sleep(pause);
        waited += pause;
        claimedAt = new Date(now.getTime() + waited);
      }
    }

    // A holder writes its bucket's entries only well inside the stale window: past half of it, it
    // might be taken over (by a clock that runs ahead, or after a stall), so it stops instead.
    const fence = () => {
      if (performance.now() - askedAt > this.staleClaimMs / 2) throw new ClaimExpiredError(incidentId, type, bucket);
    };
    if (previous?.holder && previous.holder !== holder && previous.sending?.length)
      await this.#perhapsSent(incidentId, type, previous.sending, fence);

    let inFlight = false;
    const session: NoticeBucket = {
      bucket,
      claimedAt,
      ...(previous?.holder && previous.sending?.length ? { takenOver: { sending: previous.sending } } : {}),
      read: (employeeIds) => this.#readMany(incidentId, type, employeeIds),
      publishing: () => {
        inFlight = true;
      },
      write: async (entries) => {
        for (const entry of entries) {
          if (entry.incidentId !== incidentId || entry.noticeType !== type || this.bucketOf(entry.employeeId) !== bucket)
            throw new RangeError(`entry ${entry.employeeId} is not in bucket ${bucket} of ${incidentId} ${type} notices`);
        }
        await batchWrite(
          this.table.client,
          this.table.tableName,
          entries.map((entry) => ({ ...entry, ...key(entry.incidentId, entry.noticeType, entry.employeeId) })),
          fence,
        );
        inFlight = false;
      },
    };
    let value: T;
    try {
      value = await work(session);
    } catch (error) {
      // Failed with notices perhaps published and their outcome not written: keep the claim, so
      // they read as SENDING until it is stale (then they are sent again). Otherwise give it up.
      if (!inFlight) await this.#release(incidentId, type, bucket, holder, sleep).catch(() => undefined);
      throw error;
    }
    if (inFlight) return { held: true, value };
    await this.#release(incidentId, type, bucket, holder, sleep).catch(() => undefined);
    return { held: true, value };
  }

  /**
   * A claim taken over from a holder presumed dead: the entries it was publishing that are still
   * PENDING may have been sent. Each gets that attempt counted and says so, so that the record does
   * not show them as never tried (they are sent again: the window the stale claim leaves).
   */
  async #perhapsSent(incidentId: string, type: NoticeType, employeeIds: string[], fence: () => void): Promise<void> {
    const entries = await this.#readMany(incidentId, type, employeeIds);
    const pending = [...entries.values()].filter((e) => e.status === 'PENDING');
    if (!pending.length) return;
    await batchWrite(
      this.table.client,
      this.table.tableName,
      pending.map((e) => ({
        ...e,
        attempts: e.attempts + 1,
        error: 'perhaps sent: the delivery that was publishing it stopped before recording the outcome',
        ...key(e.incidentId, e.noticeType, e.employeeId),
      })),
      fence,
    );
  }

  async #release(incidentId: string, type: NoticeType, bucket: number, holder: string, sleep: (ms: number) => Promise<void>) {
    for (let attempt = 1; ; attempt++) {
      try {
        await conditionally(() =>
          this.table.client.send(
            new UpdateCommand({
              TableName: this.table.tableName,
              Key: claimKey(incidentId, type, bucket),
              UpdateExpression: 'REMOVE holder, sending',
              ConditionExpression: 'holder = :holder',
              ExpressionAttributeValues: { ':holder': holder },
            }),
          ),
        );
        return;
      } catch (error) {
        if (attempt >= RELEASE_ATTEMPTS) throw error;
        await sleep(50 * 2 ** attempt * Math.random());
      }
    }
  }

  async get(incidentId: string, type: NoticeType, employeeId: string): Promise<NoticeEntry | undefined> {
    const items = await batchGet(this.table.client, this.table.tableName, [
      key(incidentId, type, employeeId),
      claimKey(incidentId, type, this.bucketOf(employeeId)),
    ]);
    const claim = items.find((i) => String(i.sk).startsWith(CLAIM_PREFIX)) as ClaimItem | undefined;
    const item = items.find((i) => !String(i.sk).startsWith(CLAIM_PREFIX));
    return item ? withClaim(NoticeEntrySchema.parse(withoutKeys(item)), claim) : undefined;
  }

  getMany(incidentId: string, type: NoticeType, employeeIds: readonly string[]): Promise<Map<string, NoticeEntry>> {
    return this.#readMany(incidentId, type, employeeIds);
  }

  async #readMany(incidentId: string, type: NoticeType, employeeIds: readonly string[]): Promise<Map<string, NoticeEntry>> {
    const items = await batchGet(
      this.table.client,
      this.table.tableName,
      [...new Set(employeeIds)].map((e) => key(incidentId, type, e)),
    );
    return new Map(items.map((item) => [String(item.employeeId), NoticeEntrySchema.parse(withoutKeys(item))]));
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

  /**
   * What no delivery is sending: FAILED entries of one type, SENDING ones whose claim is stale
   * (their sender died), and PENDING ones no live claim is publishing (a batch whose bucket stayed
   * claimed through its last delivery, or one lost), in employee-id order per shard. Queuing a
   * PENDING entry that is also still queued is harmless: its bucket's claim sends it once.
   */
  async *failed(incidentId: string, type: NoticeType, now: Date): AsyncGenerator<NoticeEntry> {
    const claims = await this.#claims(incidentId, type);
    for (let shard = 0; shard < NOTICE_SHARDS; shard++) {
      for await (const item of this.#queryShard(incidentId, shard, `${type}#`)) {
        const entry = withClaim(NoticeEntrySchema.parse(item), claims.get(this.bucketOf(String(item.employeeId))));
        if (entry.status === 'FAILED' || entry.status === 'PENDING' || this.isStale(entry, now)) yield entry;
      }
    }
  }

  /** Entries by status: of one notice type, or of every type when none is given. */
  async counts(incidentId: string, type?: NoticeType): Promise<NoticeCounts> {
    const counts: NoticeCounts = { planned: 0, pending: 0, sending: 0, sent: 0, failed: 0 };
    // What the buckets' claims are sending now (or were, when their holder died): SENDING.
    const sending = new Set<string>();
    await Promise.all(
      Array.from({ length: NOTICE_SHARDS }, async (_, shard) => {
        for await (const item of this.#queryShard(
          incidentId,
          shard,
          type ? `${CLAIM_PREFIX}${type}#` : CLAIM_PREFIX,
          'holder, sending, noticeType',
        )) {
          const claim = item as ClaimItem & { noticeType?: string };
          if (claim.holder) for (const e of claim.sending ?? []) sending.add(`${String(claim.noticeType)}#${e}`);
        }
      }),
    );
    await Promise.all(
      Array.from({ length: NOTICE_SHARDS }, async (_, shard) => {
        for await (const item of this.#queryShard(incidentId, shard, type ? `${type}#` : '', '#status, employeeId, noticeType, sk')) {
          if (String(item.sk).startsWith(CLAIM_PREFIX)) continue;
          counts.planned++;
          const status =
            item.status === 'PENDING' && sending.has(`${String(item.noticeType)}#${String(item.employeeId)}`)
              ? 'sending'
              : (String(item.status).toLowerCase() as keyof NoticeCounts);
          counts[status]++;
        }
      }),
    );
    return counts;
  }

  /** The live (or abandoned) claims of one type, by bucket. */
  async #claims(incidentId: string, type: NoticeType): Promise<Map<number, ClaimItem>> {
    const claims = new Map<number, ClaimItem>();
    for (let shard = 0; shard < NOTICE_SHARDS; shard++)
      for await (const item of this.#queryShard(incidentId, shard, `${CLAIM_PREFIX}${type}#`)) {
        if (item.holder) claims.set(Number(item.bucket), item as ClaimItem);
      }
    return claims;
  }

  async *#queryShard(incidentId: string, shard: number, prefix: string, projection?: string): AsyncGenerator<Record<string, unknown>> {
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.table.client.send(
        new QueryCommand({
          TableName: this.table.tableName,
          KeyConditionExpression: prefix ? 'pk = :pk AND begins_with(sk, :prefix)' : 'pk = :pk',
          ...(projection ? { ProjectionExpression: projection } : {}),
          ...(projection?.includes('#status') ? { ExpressionAttributeNames: { '#status': 'status' } } : {}),
          ExpressionAttributeValues: { ':pk': shardPk(incidentId, shard), ...(prefix ? { ':prefix': prefix } : {}) },
          ConsistentRead: true,
          ExclusiveStartKey,
        }),
      );
      for (const item of page.Items ?? []) yield projection?.includes('sk') ? item : withoutKeys(item);
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

/** An entry as it reads now: a PENDING one its bucket's claim is publishing is SENDING, claimed when the claim was taken. */
function withClaim(entry: NoticeEntry, claim: ClaimItem | undefined): NoticeEntry {
  if (entry.status !== 'PENDING' || !claim?.holder || !claim.sending?.includes(entry.employeeId)) return entry;
  return { ...entry, status: 'SENDING', ...(claim.claimedAt ? { claimedAt: claim.claimedAt } : {}) };
}
