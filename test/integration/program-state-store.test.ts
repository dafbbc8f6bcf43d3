import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProgramStateStore } from '#shared/adapters/dynamodb/program-state-store.ts';
import type { FlipInput, ResumeInput } from '#shared/killswitch/ports.ts';
import { StateConflictError } from '#shared/domain/errors.ts';
import { startTestDynamo, type TestDynamo } from '../support/dynamo.ts';

const at = new Date('2026-11-27T10:00:00Z');

describe('Class: ProgramStateStore (dynalite)', () => {
  let db: TestDynamo;
  let store: ProgramStateStore;
  beforeAll(async () => {
    db = await startTestDynamo();
    store = new ProgramStateStore(db.doc, db.tables.programState);
  });
  afterAll(() => db.dynamo.stop());

  const pause = (programId: string, incidentId: string, scope = '*', extra: Partial<FlipInput> = {}) =>
    store.pause({
      programId,
      scope,
      incidentId,
      attemptId: incidentId,
      trigger: 'OPERATOR',
      summary: 'CRITICAL operator pause',
      verified: true,
      at,
      ...extra,
    });
  const resume = (input: Partial<ResumeInput> & Pick<ResumeInput, 'programId' | 'expectedVersion' | 'requestId'>) =>
    // A fresh pause holds one link: its own attempt.
    store.resume({ scope: '*', expectedLinks: 1, closes: [], at, ...input });

  describe('Method: pause', () => {
    it('flips ACTIVE to PAUSED and bumps the version by one', async () => {
      // Prepare
      await store.register('p1', at);
      // Act
      const result = await pause('p1', 'inc-20261127-000000000001');
      // Assess
      expect(result).toMatchObject({
        outcome: 'PAUSED',
        wrote: true,
        state: { status: 'PAUSED', version: 2, incidentId: 'inc-20261127-000000000001' },
      });
    });

    it('links a pause of a paused scope to the incident holding it, and registers the attempt', async () => {
      await store.register('p2', at);
      await pause('p2', 'inc-20261127-000000000001');
      const second = await pause('p2', 'inc-20261127-000000000002');
      expect(second).toMatchObject({ outcome: 'LINKED', state: { version: 2, incidentId: 'inc-20261127-000000000001' } });
      // The holder's attempt and this one.
      expect((await store.get('p2', '*'))!.links).toBe(2);
      // The same attempt again registers nothing new; nor does a redelivery of the holder's own.
      await pause('p2', 'inc-20261127-000000000002');
      await pause('p2', 'inc-20261127-000000000001');
      expect((await store.get('p2', '*'))!.links).toBe(2);
    });

    it('reports an earlier attempt of the holding incident as its own pause, without a new version', async () => {
      await store.register('p5', at);
      await pause('p5', 'inc-20261127-000000000001');
      const retry = await pause('p5', 'inc-20261127-000000000001');
      expect(retry).toMatchObject({ outcome: 'PAUSED', wrote: false, state: { version: 2 } });
    });

    it('never loses an update when many writers race on the same item', async () => {
      await store.register('p3', at);
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => pause('p3', `inc-20261127-${String(i).padStart(12, '0')}`)));
      expect(results.filter((r) => r.outcome === 'PAUSED')).toHaveLength(1);
      const { state, links } = (await store.get('p3', '*'))!;
      expect(state.version).toBe(2);
      expect(links).toBe(20);
    });

    it('creates a scoped item on first pause of a category', async () => {
      const result = await pause('p4', 'inc-20261127-000000000001', 'category#keystrokes');
      expect(result.state).toMatchObject({ scope: 'category#keystrokes', status: 'PAUSED', version: 1 });
    });

    it('writes no name or free text on the item collectors read', async () => {
      const result = await pause('p6', 'inc-20261127-000000000001', '*', {
        summary: 'CRITICAL operator pause; see incident inc-20261127-000000000001',
      });
      expect(result.state).toMatchObject({
        changedBy: 'operator',
        reason: 'CRITICAL operator pause; see incident inc-20261127-000000000001',
      });
    });
  });

  describe('Method: resume', () => {
    it('resumes only at the expected version', async () => {
      await store.register('r1', at);
      const paused = await pause('r1', 'inc-20261127-000000000001');
      const resumed = await resume({
        programId: 'r1',
        expectedVersion: paused.state.version,
        requestId: 'req-1',
        closes: ['inc-20261127-000000000001'],
      });
      expect(resumed).toMatchObject({ status: 'ACTIVE', version: 3, resumeRequestId: 'req-1', trigger: 'RESUME', changedBy: 'resume' });
    });

    it('refuses a resume when the state moved on, and recognises its own retry', async () => {
      await store.register('r2', at);
      const paused = await pause('r2', 'inc-20261127-000000000001');
      const input = { programId: 'r2', expectedVersion: paused.state.version, requestId: 'req-2', closes: ['inc-20261127-000000000001'] };
      const first = await resume(input);
      const retry = await resume(input);
      expect(retry).toEqual(first);
      await expect(resume({ ...input, requestId: 'req-other' })).rejects.toBeInstanceOf(StateConflictError);
    });

    it('refuses a resume when a pause attempt reached the scope after the request', async () => {
      await store.register('r4', at);
      const paused = await pause('r4', 'inc-20261127-000000000001');
      const seen = (await store.get('r4', '*'))!;
      await pause('r4', 'inc-20261127-000000000002');
      await expect(
        resume({ programId: 'r4', expectedVersion: paused.state.version, expectedLinks: seen.links, requestId: 'req-4' }),
      ).rejects.toThrow(/newer pause attempt/);
      expect((await store.get('r4', '*'))!.state.status).toBe('PAUSED');
      // A request that saw the link resumes.
      const now = (await store.get('r4', '*'))!;
      await expect(
        resume({ programId: 'r4', expectedVersion: now.state.version, expectedLinks: now.links, requestId: 'req-5' }),
      ).resolves.toMatchObject({ status: 'ACTIVE' });
    });

    it('never lets a closed incident, or a closed cause, pause again', async () => {
      await store.register('r3', at);
      const paused = await pause('r3', 'inc-20261127-000000000009', '*', { causeKey: 'A#cause' });
      await resume({
        programId: 'r3',
        expectedVersion: paused.state.version,
        requestId: 'req-3',
        closes: ['inc-20261127-000000000009', 'A#cause'],
      });
      const late = await pause('r3', 'inc-20261127-000000000009');
      expect(late.outcome).toBe('CLOSED');
      expect(late.state.status).toBe('ACTIVE');
      // The same anomaly reported on another day (another incident id) is the same closed cause.
      expect((await pause('r3', 'inc-20261128-000000000009', '*', { causeKey: 'A#cause' })).outcome).toBe('CLOSED');
      const fresh = await pause('r3', 'inc-20261127-000000000010');
      expect(fresh.outcome).toBe('PAUSED');
    });
  });

  describe('Method: relabel', () => {
    it('names the recording incident of a pause without a new version, only at that version', async () => {
      const paused = await pause('l1', 'inc-20261128-000000000001');
      expect(await store.relabel('l1', '*', paused.state.version, 'inc-20261128-000000000001', 'inc-20261127-000000000001')).toBe(true);
      expect((await store.get('l1', '*'))!.state).toMatchObject({ version: paused.state.version, incidentId: 'inc-20261127-000000000001' });
      expect(await store.relabel('l1', '*', paused.state.version + 1, 'inc-20261127-000000000001', 'inc-20261129-000000000001')).toBe(
        false,
      );
    });
  });
});
