import { describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoGrantStore } from '#shared/adapters/dynamodb/grant-store.ts';
import { GrantSchema } from '#shared/schemas/grants.ts';

const grant = GrantSchema.parse({
  datasetId: 'transcripts',
  principal: 'group:all-staff',
  permission: 'READ',
  grantedBy: 'seed',
  grantedAt: '2026-11-27T10:00:00Z',
  status: 'ACTIVE',
  version: 1,
});
const failed = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

describe('Class: DynamoGrantStore', () => {
  const setup = () => {
    const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));
    return { ddb: mockClient(doc), store: new DynamoGrantStore(doc, 'Grants') };
  };

  describe('Method: revoke', () => {
    it('revokes an active grant with one conditional update naming the incident', async () => {
      const { ddb, store } = setup();
      ddb.on(UpdateCommand).resolves({ Attributes: { status: 'ACTIVE' } });
      expect(await store.revoke(grant, 'inc-20261127-aaaaaaaaaaaa', 'killswitch', new Date())).toBe('REVOKED');
      const input = ddb.commandCalls(UpdateCommand)[0]!.args[0].input;
      expect(input.ConditionExpression).toContain('NOT contains(revokedByIncidents, :incident)');
      expect(input.ExpressionAttributeValues?.[':incidents']).toEqual(new Set(['inc-20261127-aaaaaaaaaaaa']));
    });

    it('reports ALSO_HELD when another incident had revoked it', async () => {
      const { ddb, store } = setup();
      ddb.on(UpdateCommand).resolves({ Attributes: { status: 'REVOKED' } });
      expect(await store.revoke(grant, 'inc-20261127-aaaaaaaaaaaa', 'killswitch', new Date())).toBe('ALSO_HELD');
    });

    it('never touches an owner grant', async () => {
      const { ddb, store } = setup();
      expect(await store.revoke({ ...grant, owner: true }, 'inc-20261127-aaaaaaaaaaaa', 'killswitch', new Date())).toBe('OWNER');
      expect(ddb.calls()).toHaveLength(0);
    });

    it('tells a vanished grant (GONE) from a repeated revocation (ALREADY_HELD)', async () => {
      const { ddb, store } = setup();
      ddb.on(UpdateCommand).rejects(failed());
      ddb
        .on(GetCommand)
        .resolvesOnce({})
        .resolvesOnce({ Item: { ...grant, status: 'REVOKED', revokedByIncidents: new Set(['inc-20261127-aaaaaaaaaaaa']) } });
      expect(await store.revoke(grant, 'inc-20261127-aaaaaaaaaaaa', 'killswitch', new Date())).toBe('GONE');
      expect(await store.revoke(grant, 'inc-20261127-aaaaaaaaaaaa', 'killswitch', new Date())).toBe('ALREADY_HELD');
    });

    it('lets throttling and other errors through, so the work is retried', async () => {
      const { ddb, store } = setup();
      ddb.on(UpdateCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ProvisionedThroughputExceededException' }));
      await expect(store.revoke(grant, 'inc-20261127-aaaaaaaaaaaa', 'killswitch', new Date())).rejects.toThrow('Rate exceeded');
    });
  });

  describe('Method: canAccess', () => {
    it('fails closed on any error', async () => {
      const { ddb, store } = setup();
      ddb.rejects(new Error('network down'));
      expect(await store.canAccess('group:all-staff', 'transcripts', 'READ')).toBe(false);
    });
  });
});
