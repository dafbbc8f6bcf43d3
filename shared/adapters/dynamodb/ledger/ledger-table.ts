import { QueryCommand as RawQueryCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { batchWrite } from '../batch-write.ts';
import { conditionally } from '../dynamo.ts';
import { withoutKeys } from './keys.ts';

type Key = { pk: string; sk: string };

/** The few operations every ledger record type shares. Nothing here can delete. */
export class LedgerTable {
  constructor(
    readonly client: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  /** Put a record unless one with the same key exists; `false` when it did. */
  putOnce(key: Key, record: object, extra: Record<string, unknown> = {}): Promise<boolean> {
    return conditionally(() =>
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...record, ...extra, ...key },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
  }

  /**
   * Put many records, 25 per request. Unlike {@link putOnce} a record overwrites one with the same
   * key: use it only for records whose content is determined by their key.
   */
  putMany(records: { key: Key; record: object }[]): Promise<void> {
    return batchWrite(
      this.client,
      this.tableName,
      records.map(({ key, record }) => ({ ...record, ...key })),
    );
  }

  async get(key: Key): Promise<Record<string, unknown> | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }));
    return Item ? withoutKeys(Item) : undefined;
  }

  /** Every record under one partition whose sort key starts with `prefix`, in key order. */
  queryPrefix(pk: string, prefix: string): Promise<Record<string, unknown>[]> {
    return this.#query({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': pk, ':prefix': prefix },
      ConsistentRead: true,
    });
  }

  /** Every record under one partition whose sort key is in [from, to], in key order, with its keys (`sk` tells the kinds apart). */
  queryBetween(pk: string, from: string, to: string): Promise<Record<string, unknown>[]> {
    return this.#query(
      {
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':pk': pk, ':from': from, ':to': to },
        ConsistentRead: true,
      },
      undefined,
      { keys: true },
    );
  }

  /**
   * Like {@link queryPrefix}, as DynamoDB stores the items: every attribute (the keys too) in its
   * wire form (`{S}`, `{N}`, `{SS}`, …), not converted to JavaScript values — what a hash chain
   * hashes, so that a set, a number beyond double precision or a binary value is hashed as stored.
   */
  async queryPrefixRaw(pk: string, prefix: string): Promise<Record<string, AttributeValue>[]> {
    const out: Record<string, AttributeValue>[] = [];
    let ExclusiveStartKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.client.send(
        new RawQueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': { S: pk }, ':prefix': { S: prefix } },
          ConsistentRead: true,
          ExclusiveStartKey,
        }),
      );
      out.push(...(page.Items ?? []));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return out;
  }

  /** Newest-first records of one kind from the kind index: `limit` of them, or every one (paged). Eventually consistent, as every index. */
  queryKind(index: string, kind: string, limit?: number, from?: string): Promise<Record<string, unknown>[]> {
    return this.#query(
      {
        IndexName: index,
        KeyConditionExpression: from === undefined ? 'gsi1pk = :kind' : 'gsi1pk = :kind AND gsi1sk >= :from',
        ExpressionAttributeValues: { ':kind': kind, ...(from === undefined ? {} : { ':from': from }) },
        ScanIndexForward: false,
      },
      limit,
    );
  }

  /** Oldest-first records of one kind whose index sort key is in [from, to]: `limit` of them. */
  queryKindRange(index: string, kind: string, from: string, to: string, limit: number): Promise<Record<string, unknown>[]> {
    return this.#query(
      {
        IndexName: index,
        KeyConditionExpression: 'gsi1pk = :kind AND gsi1sk BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':kind': kind, ':from': from, ':to': to },
        ScanIndexForward: true,
      },
      limit,
    );
  }

  /** Every page of a query (or pages until `limit` records), without the key attributes unless `keys`. */
  async #query(
    input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey' | 'Limit'>,
    limit?: number,
    options: { keys?: boolean } = {},
  ): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({ ...input, TableName: this.tableName, ...(limit ? { Limit: limit - out.length } : {}), ExclusiveStartKey }),
      );
      for (const item of page.Items ?? []) out.push(options.keys ? item : withoutKeys(item));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey && (!limit || out.length < limit));
    return out;
  }
}
