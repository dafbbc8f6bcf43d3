import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { OpenFeature } from '@openfeature/server-sdk';
import { KillSwitchGate } from '#collector/gate.ts';
import { COLLECTION_ALLOWED_FLAG, KillSwitchProvider } from '#collector/openfeature.ts';
import { ProgramStateStore } from '#shared/adapters/dynamodb/program-state-store.ts';
import { startDynalite } from '#local/dynalite.ts';
import { startTestDynamo, type TestDynamo } from '../support/dynamo.ts';

const waitFor = async (predicate: () => boolean, timeoutMs = 10_000) => {
  const until = Date.now() + timeoutMs;
  while (!predicate() && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
  return predicate();
};

describe('KillSwitchGate against dynalite', () => {
  let db: TestDynamo;
  let store: ProgramStateStore;
  beforeAll(async () => {
    db = await startTestDynamo();
    store = new ProgramStateStore(db.doc, db.tables.programState);
  });
  afterAll(() => db.dynamo.stop());

  const gateFor = (
    programId: string,
    scopes: string[] = [],
    client = new DynamoDBClient({ endpoint: db.dynamo.endpoint, region: 'eu-west-1' }),
  ) =>
    // What these tests watch is what each read returns: reads may take as long as this machine
    // needs, and staleness never closes a gate here (fail-closed.test.ts proves staleness).
    new KillSwitchGate({
      tableName: db.tables.programState,
      programId,
      scopes,
      refreshIntervalMs: 100,
      readTimeoutMs: 10_000,
      maxStalenessMs: 600_000,
      client,
    });

  it('sees a pause within one refresh interval; a scoped pause stops its scope, and every gate that declares none', async () => {
    await store.register('g1', new Date());
    const everyone = gateFor('g1');
    const keystrokes = gateFor('g1', ['category#keystrokes']);
    const mouse = gateFor('g1', ['category#mouse']);
    await Promise.all([everyone.start(), keystrokes.start(), mouse.start()]);
    expect([everyone.allowed(), keystrokes.allowed(), mouse.allowed()]).toEqual([true, true, true]);

    await store.pause({
      programId: 'g1',
      scope: 'category#keystrokes',
      incidentId: 'inc-20261127-000000000001',
      attemptId: 'test',
      summary: 'leak',
      verified: true,
      trigger: 'OPERATOR',
      at: new Date(),
    });
    expect(await waitFor(() => !keystrokes.allowed())).toBe(true);
    // A gate that declares no scopes cannot show it is outside category#keystrokes: it stops too.
    expect(await waitFor(() => !everyone.allowed())).toBe(true);
    expect(everyone.state()).toMatchObject({ status: 'PAUSED' });
    expect(mouse.allowed()).toBe(true);

    await store.pause({
      programId: 'g1',
      scope: '*',
      incidentId: 'inc-20261127-000000000002',
      attemptId: 'test',
      summary: 'leak',
      verified: true,
      trigger: 'OPERATOR',
      at: new Date(),
    });
    expect(await waitFor(() => !mouse.allowed())).toBe(true);
    await Promise.all([everyone.stop(), keystrokes.stop(), mouse.stop()]);
  });

  it('fails closed when the endpoint dies, and reopens only after a good read of ACTIVE', async () => {
    const dying = await startDynalite();
    const client = new DynamoDBClient({ endpoint: dying.endpoint, region: 'eu-west-1', maxAttempts: 1 });
    const { ensureTables, createTableInput } = await import('#local/dynalite.ts');
    const { TableDefinitions } = await import('#shared/adapters/dynamodb/table-definitions.ts');
    await ensureTables(client, [createTableInput('ProgramStateDying', TableDefinitions.programState)]);
    const { dynamoDocumentClient } = await import('#shared/adapters/aws/clients.ts');
    await new ProgramStateStore(dynamoDocumentClient({ endpoint: dying.endpoint, region: 'eu-west-1' }), 'ProgramStateDying').register(
      'g2',
      new Date(),
    );
    const gate = new KillSwitchGate({
      tableName: 'ProgramStateDying',
      programId: 'g2',
      refreshIntervalMs: 100,
      maxStalenessMs: 300,
      readTimeoutMs: 10_000,
      client,
    });
    await gate.start();
    expect(gate.allowed()).toBe(true);

    await dying.stop();
    expect(await waitFor(() => !gate.allowed())).toBe(true);
    expect(gate.state().error).toBeDefined();
    await gate.stop();
  });

  it('serves collection-allowed through OpenFeature, false (not the default) when unreadable', async () => {
    await store.register('g3', new Date());
    const provider = new KillSwitchProvider(gateFor('g3'));
    await OpenFeature.setProviderAndWait('g3', provider);
    const features = OpenFeature.getClient('g3');
    expect(await features.getBooleanValue(COLLECTION_ALLOWED_FLAG, false)).toBe(true);

    await store.pause({
      programId: 'g3',
      scope: '*',
      incidentId: 'inc-20261127-000000000003',
      attemptId: 'test',
      summary: 'leak',
      verified: true,
      trigger: 'OPERATOR',
      at: new Date(),
    });
    expect(await waitFor(() => !provider.gate.allowed())).toBe(true);
    const details = await features.getBooleanDetails(COLLECTION_ALLOWED_FLAG, true);
    expect(details).toMatchObject({ value: false, variant: 'halted', reason: 'DISABLED' });

    const unreadable = new KillSwitchProvider(gateFor('no-such-program'));
    await OpenFeature.setProviderAndWait('g3-missing', unreadable);
    expect(await OpenFeature.getClient('g3-missing').getBooleanValue(COLLECTION_ALLOWED_FLAG, true)).toBe(false);
    await OpenFeature.close();
  });
});
