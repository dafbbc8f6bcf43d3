import { GetCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AccessEntry, AccessHolds, AccessSystemName, Hold, HoldState, MarkRevoked } from '../../grants/ports.ts';
import { isConditionalCheckFailed } from './dynamo.ts';

/**
 * Holds on the entries of access systems that several incidents share (a Lake Formation
 * permission, an S3 Access Grant), in the Grants table beside the registry's grants: partition
 * `@hold#<dataset>#<system>` (no dataset id starts with "@"), sort key the entry's key. `holders`
 * is the set of incidents holding it revoked; `state` where the system's side stands. Every
 * change is one conditional write, so concurrent incidents and redeliveries serialise on the item.
 */
export class DynamoAccessHolds implements AccessHolds {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  #key(datasetId: string, backend: AccessSystemName, key: string) {
    return { datasetId: `@hold#${datasetId}#${backend}`, grantKey: key };
  }

  async hold(datasetId: string, backend: AccessSystemName, entry: AccessEntry, incidentId: string) {
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.#key(datasetId, backend, entry.key),
          // A record left RESTORED (or new) becomes REVOKING; one being revoked, revoked or restoring keeps its state.
          UpdateExpression:
            'ADD holders :incidents SET entry = if_not_exists(entry, :entry), #state = if_not_exists(#state, :revoking), updatedAt = :at',
          ConditionExpression: 'attribute_not_exists(holders) OR NOT contains(holders, :incident)',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':incidents': new Set([incidentId]),
            ':incident': incidentId,
            ':entry': JSON.stringify(entry),
            ':revoking': 'REVOKING',
            ':at': this.clock().toISOString(),
          },
          ReturnValues: 'ALL_OLD',
        }),
      );
      const previous = Attributes ? toHold(datasetId, backend, Attributes) : undefined;
      if (previous?.state === 'RESTORED') await this.#setState(datasetId, backend, entry.key, 'REVOKING', 'RESTORED');
      return { added: true, ...(previous ? { previous } : {}) };
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      const previous = await this.#get(datasetId, backend, entry.key);
      return { added: false, ...(previous ? { previous } : {}) };
    }
  }

  async markRevoked(datasetId: string, backend: AccessSystemName, key: string, incidentId: string): Promise<MarkRevoked> {
    // Only while this incident holds it, and never over a restore in progress (the restorer revokes again itself).
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.#key(datasetId, backend, key),
          UpdateExpression: 'SET #state = :revoked, updatedAt = :at',
          ConditionExpression: 'contains(holders, :incident) AND #state <> :restoring',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':revoked': 'REVOKED',
            ':restoring': 'RESTORING',
            ':incident': incidentId,
            ':at': this.clock().toISOString(),
          },
        }),
      );
      return 'MARKED';
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      const now = await this.#get(datasetId, backend, key);
      return now?.holders.includes(incidentId) ? 'RESTORING' : 'NOT_HELD';
    }
  }

  async dropIfAlone(datasetId: string, backend: AccessSystemName, key: string, incidentId: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.#key(datasetId, backend, key),
          UpdateExpression: 'DELETE holders :incidents SET #state = :restored, updatedAt = :at',
          // Nobody else holds it and nobody revoked it: the entry is really gone, there is nothing to hold.
          ConditionExpression: 'contains(holders, :incident) AND size(holders) = :one AND #state = :revoking',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':incidents': new Set([incidentId]),
            ':incident': incidentId,
            ':one': 1,
            ':revoking': 'REVOKING',
            ':restored': 'RESTORED',
            ':at': this.clock().toISOString(),
          },
        }),
      );
      return true;
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      return false;
    }
  }

  async revokedAgain(datasetId: string, backend: AccessSystemName, key: string): Promise<boolean> {
    return this.#setState(datasetId, backend, key, 'REVOKED', 'RESTORING');
  }

  async release(datasetId: string, backend: AccessSystemName, key: string, incidentId: string) {
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.#key(datasetId, backend, key),
          UpdateExpression: 'DELETE holders :incidents SET updatedAt = :at',
          ConditionExpression: 'contains(holders, :incident)',
          ExpressionAttributeValues: { ':incidents': new Set([incidentId]), ':incident': incidentId, ':at': this.clock().toISOString() },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { removed: true, ...(Attributes ? { after: toHold(datasetId, backend, Attributes) } : {}) };
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      const after = await this.#get(datasetId, backend, key);
      return { removed: false, ...(after ? { after } : {}) };
    }
  }

  async beginRestore(datasetId: string, backend: AccessSystemName, key: string): Promise<boolean> {
    return this.#transition(datasetId, backend, key, 'RESTORING', 'attribute_not_exists(holders) AND #state <> :restored');
  }

  async finishRestore(datasetId: string, backend: AccessSystemName, key: string): Promise<boolean> {
    return this.#transition(datasetId, backend, key, 'RESTORED', 'attribute_not_exists(holders) AND #state = :restoring');
  }

  async held(datasetId: string, backend: AccessSystemName): Promise<Hold[]> {
    const out: Hold[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'datasetId = :pk',
          ExpressionAttributeValues: { ':pk': this.#key(datasetId, backend, '').datasetId },
          ConsistentRead: true,
          ExclusiveStartKey,
        }),
      );
      for (const item of page.Items ?? []) {
        const hold = toHold(datasetId, backend, item);
        if (hold.holders.length || hold.state !== 'RESTORED') out.push(hold);
      }
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return out;
  }

  async #get(datasetId: string, backend: AccessSystemName, key: string): Promise<Hold | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: this.#key(datasetId, backend, key), ConsistentRead: true }),
    );
    return Item ? toHold(datasetId, backend, Item) : undefined;
  }

  async #setState(datasetId: string, backend: AccessSystemName, key: string, to: HoldState, from: HoldState): Promise<boolean> {
    return this.#transition(datasetId, backend, key, to, '#state = :from', { ':from': from });
  }

  async #transition(
    datasetId: string,
    backend: AccessSystemName,
    key: string,
    to: HoldState,
    condition: string,
    values: Record<string, unknown> = {},
  ): Promise<boolean> {
    const names: Record<string, string> = { '#state': 'state' };
    const all: Record<string, unknown> = { ':to': to, ':at': this.clock().toISOString(), ...values };
    if (condition.includes(':restored')) all[':restored'] = 'RESTORED';
    if (condition.includes(':restoring')) all[':restoring'] = 'RESTORING';
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.#key(datasetId, backend, key),
          UpdateExpression: 'SET #state = :to, updatedAt = :at',
          ConditionExpression: `attribute_exists(entry) AND ${condition}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: all,
        }),
      );
      return true;
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      return false;
    }
  }
}

function toHold(datasetId: string, backend: AccessSystemName, item: Record<string, unknown>): Hold {
  const holders = item.holders as Set<string> | undefined;
  return {
    datasetId,
    backend,
    entry: JSON.parse(String(item.entry)) as AccessEntry,
    holders: holders ? [...holders].sort() : [],
    state: (item.state as HoldState | undefined) ?? 'REVOKING',
  };
}
