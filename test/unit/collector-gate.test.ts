import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { KillSwitchGate } from '#collector/gate.ts';
import { GateOptionsError } from '#collector/errors.ts';

const item = (scope: string, status: 'ACTIVE' | 'PAUSED', version = 1) =>
  marshall({
    programId: 'mci',
    scope,
    status,
    version,
    changedAt: '2026-11-27T10:00:00Z',
    changedBy: 'seed',
    changedByVerified: true,
    reason: status === 'PAUSED' ? 'exposure' : 'registered',
    trigger: status === 'PAUSED' ? 'ANOMALY' : 'SEED',
  });

describe('Class: KillSwitchGate', () => {
  let client: DynamoDBClient;
  let ddb: ReturnType<typeof mockClient>;
  const gates: KillSwitchGate[] = [];
  const gate = (options: Partial<ConstructorParameters<typeof KillSwitchGate>[0]> = {}) => {
    const g = new KillSwitchGate({ tableName: 'ProgramState', programId: 'mci', refreshIntervalMs: 100, client, ...options });
    gates.push(g);
    return g;
  };

  beforeEach(() => {
    // A fresh client per test: gates on one client share one feed.
    client = new DynamoDBClient({ region: 'eu-west-1' });
    ddb = mockClient(client);
  });
  afterEach(async () => {
    await Promise.all(gates.splice(0).map((g) => g.stop()));
    vi.useRealTimers();
  });

  describe('Method: allowed', () => {
    it('is false before start (fail closed)', () => {
      expect(gate().allowed()).toBe(false);
    });

    it('is true after a good read of an ACTIVE program', async () => {
      ddb.on(QueryCommand).resolves({ Items: [item('*', 'ACTIVE')] });
      const g = gate();
      const state = await g.start();
      expect(g.allowed()).toBe(true);
      expect(state).toMatchObject({ allowed: true, status: 'ACTIVE', version: 1, stale: false });
    });

    it('reads with one strongly consistent Query on the program', async () => {
      ddb.on(QueryCommand).resolves({ Items: [item('*', 'ACTIVE')] });
      await gate().start();
      expect(ddb.commandCalls(QueryCommand)[0]!.args[0].input).toMatchObject({
        TableName: 'ProgramState',
        KeyConditionExpression: 'programId = :p',
        ExpressionAttributeValues: { ':p': { S: 'mci' } },
        ConsistentRead: true,
      });
    });

    it('is false when the program has no state item', async () => {
      ddb.on(QueryCommand).resolves({ Items: [] });
      const g = gate();
      expect((await g.start()).reason).toMatch(/no state/);
      expect(g.allowed()).toBe(false);
    });

    it('is false when the read fails, and true again after a good read', async () => {
      ddb
        .on(QueryCommand)
        .rejectsOnce(new Error('ECONNREFUSED'))
        .resolves({ Items: [item('*', 'ACTIVE')] });
      const g = gate();
      const first = await g.start();
      expect(first).toMatchObject({ allowed: false, error: expect.stringContaining('ECONNREFUSED') });
      await g.refresh();
      expect(g.allowed()).toBe(true);
    });

    it('is false when the response is garbage', async () => {
      ddb.on(QueryCommand).resolves({ Items: [marshall({ programId: 'mci', scope: '*', status: 'MAYBE' })] });
      const g = gate();
      await g.start();
      expect(g.state()).toMatchObject({ allowed: false, reason: expect.stringMatching(/malformed/) });
    });
  });

  describe('Scopes', () => {
    const cases: [string, string[], Record<string, unknown>[], boolean][] = [
      ['global paused stops everyone', ['category#keystrokes'], [item('*', 'PAUSED', 2)], false],
      ['own category paused stops', ['category#keystrokes'], [item('*', 'ACTIVE'), item('category#keystrokes', 'PAUSED')], false],
      ['another category paused does not', ['category#mouse'], [item('*', 'ACTIVE'), item('category#keystrokes', 'PAUSED')], true],
      ['own region paused stops', ['category#mouse', 'region#eu-west-1'], [item('*', 'ACTIVE'), item('region#eu-west-1', 'PAUSED')], false],
      ['a resumed category collects', ['category#keystrokes'], [item('*', 'ACTIVE'), item('category#keystrokes', 'ACTIVE', 3)], true],
    ];
    it.each(cases)('%s', async (_, scopes, items, allowed) => {
      ddb.on(QueryCommand).resolves({ Items: items as never });
      const g = gate({ scopes });
      await g.start();
      expect(g.allowed()).toBe(allowed);
    });
  });

  describe('Staleness', () => {
    it('closes once the last good read is older than maxStalenessMs', async () => {
      vi.useFakeTimers();
      ddb
        .on(QueryCommand)
        .resolvesOnce({ Items: [item('*', 'ACTIVE')] })
        .callsFake(() => new Promise(() => undefined)); // then hangs
      const g = gate({ refreshIntervalMs: 100, maxStalenessMs: 300, readTimeoutMs: 10_000 });
      await g.start();
      expect(g.allowed()).toBe(true);
      await vi.advanceTimersByTimeAsync(299);
      expect(g.allowed()).toBe(true);
      await vi.advanceTimersByTimeAsync(2);
      expect(g.state()).toMatchObject({ allowed: false, stale: true });
    });
  });

  describe('Sharing', () => {
    it('shares one read per interval among the gates of one client, and single-flights refreshes', async () => {
      ddb.on(QueryCommand).resolves({ Items: [item('*', 'ACTIVE')] });
      const a = gate();
      const b = gate({ scopes: ['category#mouse'] });
      await Promise.all([a.start(), b.start()]);
      await Promise.all([a.refresh(), b.refresh(), a.refresh()]);
      expect(ddb.commandCalls(QueryCommand).length).toBeLessThanOrEqual(2);
      expect(a.reads).toBe(b.reads);
    });
  });

  describe('Method: onChange', () => {
    it('notifies on a change of allowed, and survives a throwing listener', async () => {
      ddb
        .on(QueryCommand)
        .resolvesOnce({ Items: [item('*', 'ACTIVE')] })
        .resolves({ Items: [item('*', 'PAUSED', 2)] });
      const g = gate();
      const seen: boolean[] = [];
      g.onChange(() => {
        throw new Error('listener bug');
      });
      g.onChange((s) => seen.push(s.allowed));
      await g.start();
      await g.refresh();
      expect(seen).toEqual([true, false]);
      expect(g.state()).toMatchObject({ status: 'PAUSED', version: 2 });
    });
  });

  describe('Options', () => {
    it('rejects bad options naming the field', () => {
      expect(() => new KillSwitchGate({ tableName: 't', programId: 'Bad Id', client })).toThrow(GateOptionsError);
      expect(() => new KillSwitchGate({ tableName: 't', programId: 'mci', scopes: ['nope'], client })).toThrow(/scopes\.0/);
    });
  });
});
