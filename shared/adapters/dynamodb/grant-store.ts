import { GetCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchWrite } from './batch-write.ts';
import {
  GrantSchema,
  PERMISSION_RANK,
  RegistryGrantSchema,
  type Grant,
  type GrantInput,
  type RevocationSnapshot,
} from '../../schemas/grants.ts';
import type { GrantBackend, GrantPage, RevokeResult } from '../../grants/ports.ts';
import { isConditionalCheckFailed } from './dynamo.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';

export const grantKey = (principal: string, permission: string): string => `${principal}#${permission}`;

/**
 * The default grant backend: the Grants table (pk `datasetId`, sk `grantKey` =
 * `principal#permission`). Revocation adds the incident to `revokedByIncidents`; restore removes
 * it and reactivates the grant only when no incident holds it any more.
 */
export class DynamoGrantStore implements GrantBackend {
  readonly name = 'dynamodb';

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Create or change a grant (the data-access layer's own operation). Every change bumps the version. */
  async put(input: Omit<GrantInput, 'status' | 'version' | 'revokedByIncidents'>): Promise<Grant> {
    const grant = RegistryGrantSchema.parse({ ...input, status: 'ACTIVE', version: 1, revokedByIncidents: [] });
    const { Attributes } = await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { datasetId: grant.datasetId, grantKey: grantKey(grant.principal, grant.permission) },
        UpdateExpression:
          'SET principal = :p, #permission = :perm, grantedBy = :by, grantedAt = :at, #owner = :owner, ' +
          '#status = if_not_exists(#status, :active), #version = if_not_exists(#version, :zero) + :one',
        ExpressionAttributeNames: { '#permission': 'permission', '#owner': 'owner', '#status': 'status', '#version': 'version' },
        ExpressionAttributeValues: {
          ':p': grant.principal,
          ':perm': grant.permission,
          ':by': grant.grantedBy,
          ':at': grant.grantedAt,
          ':owner': grant.owner,
          ':active': 'ACTIVE',
          ':zero': 0,
          ':one': 1,
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return toGrant(Attributes);
  }

  /** Bulk load (seeding, tests, migrations): new ACTIVE grants, 25 per request; existing keys are overwritten. */
  async seed(grants: Omit<GrantInput, 'status' | 'version' | 'revokedByIncidents'>[]): Promise<void> {
    await batchWrite(
      this.client,
      this.tableName,
      grants.map((input) => {
        const { revokedByIncidents: _, ...grant } = RegistryGrantSchema.parse({
          ...input,
          status: 'ACTIVE',
          version: 1,
          revokedByIncidents: [],
        });
        return { ...grant, grantKey: grantKey(grant.principal, grant.permission) };
      }),
    );
  }

  async get(datasetId: string, principal: string, permission: string): Promise<Grant | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { datasetId, grantKey: grantKey(principal, permission) }, ConsistentRead: true }),
    );
    return Item ? toGrant(Item) : undefined;
  }

  async list(datasetId: string, cursor?: string, limit = 200): Promise<GrantPage> {
    const page = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'datasetId = :d',
        ExpressionAttributeValues: { ':d': datasetId },
        ConsistentRead: true,
        Limit: limit,
        ExclusiveStartKey: decodeCursor(cursor),
      }),
    );
    return { grants: (page.Items ?? []).map(toGrant), cursor: encodeCursor(page.LastEvaluatedKey) };
  }

  /** How many grants a revocation of the dataset would revoke now (every ACTIVE non-owner grant): for a dry run. */
  async countRevocable(datasetId: string): Promise<number> {
    let count = 0;
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'datasetId = :d',
          FilterExpression: '#status = :active AND #owner <> :true',
          ExpressionAttributeNames: { '#status': 'status', '#owner': 'owner' },
          ExpressionAttributeValues: { ':d': datasetId, ':active': 'ACTIVE', ':true': true },
          Select: 'COUNT',
          ConsistentRead: true,
          ExclusiveStartKey,
        }),
      );
      count += page.Count ?? 0;
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return count;
  }

  async revoke(grant: Grant, incidentId: string, by: string, at: Date): Promise<RevokeResult> {
    if (grant.owner) return 'OWNER';
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { datasetId: grant.datasetId, grantKey: grantKey(grant.principal, grant.permission) },
          UpdateExpression:
            'SET #status = :revoked, revokedAt = if_not_exists(revokedAt, :at), revokedBy = if_not_exists(revokedBy, :by), ' +
            'incidentId = if_not_exists(incidentId, :incident) ADD revokedByIncidents :incidents',
          ConditionExpression: 'attribute_exists(datasetId) AND #owner <> :true AND NOT contains(revokedByIncidents, :incident)',
          ExpressionAttributeNames: { '#status': 'status', '#owner': 'owner' },
          ExpressionAttributeValues: {
            ':revoked': 'REVOKED',
            ':at': at.toISOString(),
            ':by': by,
            ':incident': incidentId,
            ':incidents': new Set([incidentId]),
            ':true': true,
          },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return Attributes?.status === 'REVOKED' ? 'ALSO_HELD' : 'REVOKED';
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
    const current = await this.get(grant.datasetId, grant.principal, grant.permission);
    if (!current) return 'GONE';
    if (current.owner) return 'OWNER';
    return 'ALREADY_HELD';
  }

  async restore(
    snapshot: RevocationSnapshot,
    by: string,
    at: Date,
  ): Promise<{ outcome: 'RESTORED' | 'STILL_HELD' | 'SKIPPED'; reason?: string }> {
    // Concurrent releases by other incidents change the set between one conditional write and the
    // next: go round again (each round is a fresh read of the conditions) until one holds.
    for (let round = 0; round < 8; round++) {
      const outcome = await this.#restoreOnce(snapshot, by, at);
      if (outcome !== 'AGAIN') return outcome;
    }
    throw new Error(`restore of ${snapshot.principal}#${snapshot.permission} on ${snapshot.datasetId}: the grant kept changing`);
  }

  async #restoreOnce(
    snapshot: RevocationSnapshot,
    by: string,
    at: Date,
  ): Promise<{ outcome: 'RESTORED' | 'STILL_HELD' | 'SKIPPED'; reason?: string } | 'AGAIN'> {
    const key = { datasetId: snapshot.datasetId, grantKey: grantKey(snapshot.principal, snapshot.permission) };
    const common = {
      ':incident': snapshot.incidentId,
      ':version': snapshot.version,
      ':one': 1,
    };
    // The last hold: reactivate.
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression:
            'SET #status = :active, restoredAt = :at, restoredBy = :by REMOVE revokedByIncidents, revokedAt, revokedBy, incidentId',
          ConditionExpression: 'contains(revokedByIncidents, :incident) AND size(revokedByIncidents) = :one AND #version = :version',
          ExpressionAttributeNames: { '#status': 'status', '#version': 'version' },
          ExpressionAttributeValues: { ...common, ':active': 'ACTIVE', ':at': at.toISOString(), ':by': by },
        }),
      );
      return { outcome: 'RESTORED' };
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
    // Other incidents still hold it: release only this incident's hold.
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'DELETE revokedByIncidents :incidents',
          ConditionExpression: 'contains(revokedByIncidents, :incident) AND size(revokedByIncidents) > :one AND #version = :version',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: { ...common, ':incidents': new Set([snapshot.incidentId]) },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const after = Attributes ? toGrant(Attributes) : undefined;
      // The others released theirs meanwhile: nobody holds it now, so it comes back (this release was the last).
      if (after && after.revokedByIncidents.length === 0 && after.status === 'REVOKED') return this.#reactivate(snapshot, by, at);
      return { outcome: 'STILL_HELD', reason: `still revoked by ${after?.revokedByIncidents.join(', ') || 'another incident'}` };
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
    const current = await this.get(snapshot.datasetId, snapshot.principal, snapshot.permission);
    if (!current) return { outcome: 'SKIPPED', reason: 'the grant no longer exists' };
    if (current.version !== snapshot.version) {
      return {
        outcome: 'SKIPPED',
        reason: `the grant was changed since it was revoked (version ${snapshot.version} → ${current.version})`,
      };
    }
    // Still held by this incident: the set changed between the two writes; go round again.
    if (current.revokedByIncidents.includes(snapshot.incidentId)) return 'AGAIN';
    // Not held by this incident any more, unchanged: an earlier run of this restore released it.
    if (current.revokedByIncidents.length)
      return { outcome: 'STILL_HELD', reason: `still revoked by ${current.revokedByIncidents.join(', ')}` };
    return current.status === 'REVOKED' ? this.#reactivate(snapshot, by, at) : { outcome: 'RESTORED' };
  }

  /** Nobody holds it, it is unchanged, and it is still REVOKED: back to ACTIVE (conditional, so a new hold wins). */
  async #reactivate(
    snapshot: RevocationSnapshot,
    by: string,
    at: Date,
  ): Promise<{ outcome: 'RESTORED' | 'STILL_HELD'; reason?: string } | 'AGAIN'> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { datasetId: snapshot.datasetId, grantKey: grantKey(snapshot.principal, snapshot.permission) },
          UpdateExpression:
            'SET #status = :active, restoredAt = :at, restoredBy = :by REMOVE revokedByIncidents, revokedAt, revokedBy, incidentId',
          ConditionExpression: '(attribute_not_exists(revokedByIncidents) OR size(revokedByIncidents) = :zero) AND #version = :version',
          ExpressionAttributeNames: { '#status': 'status', '#version': 'version' },
          ExpressionAttributeValues: { ':active': 'ACTIVE', ':at': at.toISOString(), ':by': by, ':zero': 0, ':version': snapshot.version },
        }),
      );
      return { outcome: 'RESTORED' };
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      return 'AGAIN';
    }
  }

  /** Fail closed: any error, a missing grant or a revoked one means no access. */
  async canAccess(principal: string, datasetId: string, permission: Grant['permission']): Promise<boolean> {
    try {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'datasetId = :d AND begins_with(grantKey, :p)',
          ExpressionAttributeValues: { ':d': datasetId, ':p': `${principal}#` },
          ConsistentRead: true,
        }),
      );
      return (page.Items ?? []).some((item) => {
        const grant = GrantSchema.safeParse(item);
        return (
          grant.success &&
          grant.data.principal === principal &&
          grant.data.status === 'ACTIVE' &&
          PERMISSION_RANK[grant.data.permission] >= PERMISSION_RANK[permission]
        );
      });
    } catch {
      return false;
    }
  }
}

function toGrant(item: Record<string, unknown> | undefined): Grant {
  const set = item?.revokedByIncidents as Set<string> | undefined;
  return GrantSchema.parse({ ...item, revokedByIncidents: set ? [...set].sort() : [] });
}
