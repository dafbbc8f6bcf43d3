import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProgramStateStore } from '#shared/stores/program-state-store.ts';
import { StateConflictError } from '#shared/errors.ts';
import { startTestDynamo, type TestDynamo } from '../support/dynamo.ts';

const operator = { id: 'arn:aws:sts::111111111111:assumed-role/Operators/alice', verified: true };
const at = new Date('2026-11-27T10:00:00Z');

describe('Class: ProgramStateStore (dynalite)', () => {
  let db: TestDynamo;
  let store: ProgramStateStore;
  beforeAll(async () => {
    db = await startTestDynamo();
    store = new ProgramStateStore(db.doc, db.tables.programState);
  });
  afterAll(() => db.dynamo.stop());

  const pause = (programId: string, incidentId: string, scope = '*') =>
    store.pause({ programId, scope, incidentId, reason: 'test', changedBy: operator, trigger: 'OPERATOR', at });

  describe('Method: pause', () => {
    it('flips ACTIVE to PAUSED and bumps the version by one', async () => {
      // Prepare
      await store.register('p1', operator, at);
      // Act
      const result = await pause('p1', 'inc-20261127-000000000001');
      // Assess
      expect(result.outcome).toBe('PAUSED');
      expect(result.state).toMatchObject({ status: 'PAUSED', version: 2, incidentId: 'inc-20261127-000000000001' });
    });

    it('is a no-op on a paused scope that reports the incident that paused it', async () => {
      await store.register('p2', operator, at);
      await pause('p2', 'inc-20261127-000000000001');
      const second = await pause('p2', 'inc-20261127-000000000002');
      expect(second.outcome).toBe('ALREADY_PAUSED');
      expect(second.state).toMatchObject({ version: 2, incidentId: 'inc-20261127-000000000001' });
    });

    it('never loses an update when many writers race on the same item', async () => {
      await store.register('p3', operator, at);
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => pause('p3', `inc-20261127-${String(i).padStart(12, '0')}`)));
      expect(results.filter((r) => r.outcome === 'PAUSED')).toHaveLength(1);
      const { state } = (await store.get('p3', '*'))!;
      expect(state.version).toBe(2);
    });

    it('creates a scoped item on first pause of a category', async () => {
      const result = await pause('p4', 'inc-20261127-000000000001', 'category#keystrokes');
      expect(result.state).toMatchObject({ scope: 'category#keystrokes', status: 'PAUSED', version: 1 });
    });
  });

  describe('Method: resume', () => {
    it('resumes only at the expected version', async () => {
      await store.register('r1', operator, at);
      const paused = await pause('r1', 'inc-20261127-000000000001');
      const resumed = await store.resume({
        programId: 'r1',
        scope: '*',
        expectedVersion: paused.state.version,
        requestId: 'req-1',
        reason: 'fixed',
        changedBy: operator,
        closesIncidentIds: ['inc-20261127-000000000001'],
        at,
      });
      expect(resumed).toMatchObject({ status: 'ACTIVE', version: 3, resumeRequestId: 'req-1' });
    });

    it('refuses a resume when the state moved on, and recognises its own retry', async () => {
      await store.register('r2', operator, at);
      const paused = await pause('r2', 'inc-20261127-000000000001');
      const input = {
        programId: 'r2',
        scope: '*',
        expectedVersion: paused.state.version,
        requestId: 'req-2',
        reason: 'fixed',
        changedBy: operator,
        closesIncidentIds: ['inc-20261127-000000000001'],
        at,
      };
      const first = await store.resume(input);
      const retry = await store.resume(input);
      expect(retry).toEqual(first);
      await expect(store.resume({ ...input, requestId: 'req-other' })).rejects.toBeInstanceOf(StateConflictError);
    });

    it('never lets a closed incident pause again', async () => {
      await store.register('r3', operator, at);
      const paused = await pause('r3', 'inc-20261127-000000000009');
      await store.resume({
        programId: 'r3',
        scope: '*',
        expectedVersion: paused.state.version,
        requestId: 'req-3',
        reason: 'fixed',
        changedBy: operator,
        closesIncidentIds: ['inc-20261127-000000000009'],
        at,
      });
      const late = await pause('r3', 'inc-20261127-000000000009');
      expect(late.outcome).toBe('INCIDENT_CLOSED');
      expect(late.state.status).toBe('ACTIVE');
      const fresh = await pause('r3', 'inc-20261127-000000000010');
      expect(fresh.outcome).toBe('PAUSED');
    });
  });
});
