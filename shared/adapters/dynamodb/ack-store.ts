import { createHash } from 'node:crypto';
import { QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AckStore, HaltCounts, ReceivedAck } from '../../killswitch/acks.ts';

/** Shards per counter and per program's agent records: 32 × DynamoDB's 1,000 writes a second per partition. */
export const ACK_SHARDS = 32;
const isConditionFailure = (e: unknown) => (e as { name?: string }).name === 'ConditionalCheckFailedException';
const shardOf = (collectorId: string) => createHash('sha256').update(collectorId).digest().readUInt16BE(0) % ACK_SHARDS;
const hourOf = (iso: string) => iso.slice(0, 13).replace(/[-T]/g, ''); // YYYYMMDDHH (UTC)

/**
 * Acknowledgements in the Acknowledgements table, with no hot key:
 * - one record per agent, `agent#<program>#<shard>` / `<collectorId>`: the last seq and verdict it
 *   acknowledged, the hour it was last heard from;
 * - counters, `acked#<program>#<seq>#<halted|collecting>` and `seen#<program>#<YYYYMMDDHH>`, each
 *   split over 32 shard items (`shard#NN`) chosen by the agent, so a fleet acknowledging at once
 *   spreads over 32 partitions' worth of write capacity.
 * An agent counts once per seq and verdict (the record's condition), and once, in the hour it was
 * last heard from, among the known: moving it to a later hour adds one there and takes one from
 * the hour it leaves. A crash between the record and a counter loses that one count (a retry finds
 * the record already moved); counts can only be low, never claim an agent that did not acknowledge,
 * and the hour counters heal within 24 hours.
 */
export class DynamoAckStore implements AckStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async record(ack: ReceivedAck): Promise<{ first: boolean }> {
    const shard = shardOf(ack.collectorId);
    const key = { pk: `agent#${ack.programId}#${shard}`, sk: ack.collectorId };
    const verdict = ack.allowed ? 'collecting' : 'halted';
    const mark = `${ack.seq}#${verdict}`;
    const hour = hourOf(ack.receivedAt);
    // Heard from: move the agent to this hour (once per hour).
    let leftHour: string | undefined;
    let moved = false;
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'SET lastHour = :h, lastSeenAt = :at',
          ConditionExpression: 'attribute_not_exists(lastHour) OR lastHour < :h',
          ExpressionAttributeValues: { ':h': hour, ':at': ack.receivedAt },
          ReturnValues: 'UPDATED_OLD',
        }),
      );
      moved = true;
      leftHour = Attributes?.lastHour as string | undefined;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    if (moved) {
      await this.#add(`seen#${ack.programId}#${hour}`, shard, 1);
      if (leftHour) await this.#add(`seen#${ack.programId}#${leftHour}`, shard, -1);
    }
    // Acknowledged: once per (seq, verdict), and never for a seq older than the latest it acknowledged.
    let first = false;
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'SET ackedSeq = :seq, ackedMark = :mark, allowed = :allowed, ackedAt = :at',
          ConditionExpression: 'attribute_not_exists(ackedSeq) OR ackedSeq < :seq OR (ackedSeq = :seq AND ackedMark <> :mark)',
          ExpressionAttributeValues: { ':seq': ack.seq, ':mark': mark, ':allowed': ack.allowed, ':at': ack.at },
        }),
      );
      first = true;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    if (first) await this.#add(`acked#${ack.programId}#${mark}`, shard, 1);
    return { first };
  }

  async #add(pk: string, shard: number, n: number): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk, sk: `shard#${String(shard).padStart(2, '0')}` },
        UpdateExpression: 'ADD n :n',
        ExpressionAttributeValues: { ':n': n },
      }),
    );
  }

  async #sum(pk: string): Promise<number> {
    let total = 0;
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': pk },
          ExclusiveStartKey,
        }),
      );
      for (const item of page.Items ?? []) total += Number(item.n ?? 0);
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return total;
  }

  async counts(programId: string, seq: number, now: Date, options: { quick?: boolean } = {}): Promise<HaltCounts> {
    const hours = Array.from({ length: options.quick ? 2 : 24 }, (_, i) => hourOf(new Date(now.getTime() - i * 3_600_000).toISOString()));
    const [halted, collecting, ...seen] = await Promise.all([
      this.#sum(`acked#${programId}#${seq}#halted`),
      this.#sum(`acked#${programId}#${seq}#collecting`),
      ...hours.map((h) => this.#sum(`seen#${programId}#${h}`)),
    ]);
    const known = Math.max(
      0,
      seen.reduce((a, b) => a + b, 0),
    );
    return { seq, halted: halted!, collecting: collecting!, known, silent: Math.max(0, known - halted! - collecting!) };
  }
}
