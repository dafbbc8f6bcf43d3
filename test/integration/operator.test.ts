import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OperatorActions } from '#shared/killswitch/operator.ts';
import { BREAK_GLASS } from '#shared/domain/identity.ts';
import { NotFoundError, PolicyRefusedError, StateConflictError, UnknownProgramError, ValidationError } from '#shared/domain/errors.ts';
import { DetailType } from '#shared/schemas/domain-events.ts';
import { AnomalyTrigger } from '#shared/killswitch/trigger.ts';
import { LedgerKeys } from '#shared/adapters/dynamodb/ledger/keys.ts';
import { startTestDynamo, type TestDynamo } from '../support/dynamo.ts';
import { anomaly, operator, program, publishedEvents, services } from '../support/fixtures.ts';

const alice = operator('alice');
const bob = operator('bob');

describe('Class: OperatorActions (dynalite)', () => {
  let db: TestDynamo;
  beforeAll(async () => {
    db = await startTestDynamo();
  });
  afterAll(() => db.dynamo.stop());

  const setup = async (programId: string) => {
    const s = services(db, [program({ programId, regions: ['eu-west-1'] })]);
    await s.state.register(programId, new Date());
    return { s, actions: new OperatorActions(s) };
  };
  const pause = (actions: OperatorActions, programId: string, who = alice, extra: Record<string, unknown> = {}) =>
    actions.pauses.pause({ action: 'pause', programId, scope: '*', reason: 'exposure reported by HR', ...extra }, who);
  const requestResume = (actions: OperatorActions, programId: string, incidentId: string, who = alice) =>
    actions.resumes.request({ action: 'request-resume', programId, scope: '*', reason: 'access fixed', incidentId }, who);

  describe('Method: pause', () => {
    it('pauses at once, opens an incident and publishes Kill Switch Engaged', async () => {
      const { s, actions } = await setup('o1');
      const result = await pause(actions, 'o1');
      expect(result).toMatchObject({
        outcome: 'PAUSED',
        state: { status: 'PAUSED', version: 2, trigger: 'OPERATOR', changedBy: 'operator' },
      });
      if (!('incidentId' in result)) throw new Error('not a pause');
      expect(await s.incidents.get(result.incidentId)).toMatchObject({ action: 'PAUSED', openedBy: alice.id, openedByPerson: 'alice' });
      expect(await s.audit.get('o1', '*', 2)).toMatchObject({ by: alice.id, person: 'alice', reason: 'exposure reported by HR' });
      expect(publishedEvents(s.ebMock).map((e) => e.detailType)).toEqual([DetailType.KillSwitchEngaged]);
    });

    it('lets break-glass (unverified) pause, recorded as unverified, but never request a resume', async () => {
      const { s, actions } = await setup('o2');
      const result = await pause(actions, 'o2', BREAK_GLASS);
      if (!('incidentId' in result)) throw new Error('not a pause');
      expect(result.state).toMatchObject({ trigger: 'BREAK_GLASS', changedByVerified: false });
      expect((await s.audit.history('o2', '*'))[0]).toMatchObject({ verified: false, by: 'break-glass:unverified' });
      await expect(requestResume(actions, 'o2', result.incidentId, BREAK_GLASS)).rejects.toBeInstanceOf(PolicyRefusedError);
    });

    it('refuses a scope the program does not declare, naming the declared ones, and changes nothing', async () => {
      const { s, actions } = await setup('o8');
      const refused = pause(actions, 'o8', alice, { scope: 'category#keystroke' });
      await expect(refused).rejects.toBeInstanceOf(ValidationError);
      await expect(refused).rejects.toThrow(
        /scope: "category#keystroke" is not a scope of program o8; its scopes are \*, category#keystrokes, category#mouse, category#transcripts, region#eu-west-1/,
      );
      await expect(pause(actions, 'o8', alice, { scope: 'planet#mars' })).rejects.toBeInstanceOf(ValidationError);
      expect((await s.state.list('o8')).map((x) => x.scope)).toEqual(['*']);
      expect(await s.incidents.list('o8')).toEqual([]);
    });

    it('a dry run says what would stop and what would be revoked, and writes nothing', async () => {
      const { s, actions } = await setup('o9');
      const view = await pause(actions, 'o9', alice, { scope: 'category#mouse', dryRun: true });
      expect(view).toMatchObject({
        dryRun: true,
        wouldStop: { scope: 'category#mouse', currentStatus: 'ACTIVE' },
        wouldRevoke: [{ datasetId: 'mouse' }],
      });
      expect((await s.state.list('o9')).map((x) => x.scope)).toEqual(['*']);
      expect(publishedEvents(s.ebMock)).toEqual([]);
    });

    it('pausing with a closed incident pauses in a new incident linked to it, and says so', async () => {
      const { s, actions } = await setup('o10');
      const first = await pause(actions, 'o10');
      if (!('incidentId' in first)) throw new Error('not a pause');
      const req = await requestResume(actions, 'o10', first.incidentId);
      await actions.resumes.approve({ action: 'approve-resume', programId: 'o10', requestId: req.request.requestId }, bob);
      const again = await pause(actions, 'o10', alice, { incidentId: first.incidentId });
      if (!('incidentId' in again)) throw new Error('not a pause');
      expect(again).toMatchObject({ outcome: 'PAUSED', reopenedFrom: first.incidentId, state: { status: 'PAUSED', version: 4 } });
      expect(again.incidentId).not.toBe(first.incidentId);
      expect(await s.incidents.get(again.incidentId)).toMatchObject({ linkedIncidentId: first.incidentId, status: 'OPEN' });
      expect((await s.state.get('o10', '*'))!.state.status).toBe('PAUSED');
    });
  });

  describe('Methods: resumes.request, resumes.approve', () => {
    it('needs two different people to resume', async () => {
      const { s, actions } = await setup('o3');
      const paused = await pause(actions, 'o3');
      if (!('incidentId' in paused)) throw new Error('not a pause');
      const req = await requestResume(actions, 'o3', paused.incidentId);
      expect(req.request).toMatchObject({ status: 'PENDING', expectedVersion: 2, requestedByPerson: 'alice', closes: [paused.incidentId] });

      await expect(
        actions.resumes.approve({ action: 'approve-resume', programId: 'o3', requestId: req.request.requestId }, alice),
      ).rejects.toBeInstanceOf(PolicyRefusedError);
      expect((await s.state.get('o3', '*'))!.state.status).toBe('PAUSED');

      const approved = await actions.resumes.approve({ action: 'approve-resume', programId: 'o3', requestId: req.request.requestId }, bob);
      expect(approved.state).toMatchObject({ status: 'ACTIVE', version: 3, changedBy: 'resume', resumeRequestId: req.request.requestId });
      expect(approved.request).toMatchObject({ status: 'APPROVED', approvedBy: bob.id, approvedByPerson: 'bob' });
      expect(await s.incidents.get(paused.incidentId)).toMatchObject({
        status: 'RESOLVED',
        resolvedBy: bob.id,
        resolvedByPerson: 'bob',
        resolvedByRequestId: req.request.requestId,
      });
      expect((await s.audit.history('o3', '*')).map((a) => [a.version, a.status, a.person])).toEqual([
        [2, 'PAUSED', 'alice'],
        [3, 'ACTIVE', 'bob'],
      ]);
      expect(publishedEvents(s.ebMock).map((e) => e.detailType)).toContain(DetailType.KillSwitchReleased);
    });

    it('refuses the requester under any spelling of their session name and any operators role, and records the refusal', async () => {
      const { s, actions } = await setup('o11');
      const paused = await pause(actions, 'o11');
      if (!('incidentId' in paused)) throw new Error('not a pause');
      const req = await requestResume(actions, 'o11', paused.incidentId, operator('alice'));
      for (const same of [operator('Alice'), operator('ALICE'), operator('alice', 'AWSReservedSSO_KillswitchOncall_0123456789abcdef')]) {
        await expect(
          actions.resumes.approve({ action: 'approve-resume', programId: 'o11', requestId: req.request.requestId }, same),
        ).rejects.toBeInstanceOf(PolicyRefusedError);
      }
      expect((await s.state.get('o11', '*'))!.state.status).toBe('PAUSED');
      expect((await s.incidents.timeline(paused.incidentId)).filter((t) => t.type === 'RESUME_REFUSED')).toHaveLength(3);
    });

    it('fails an approval when a pause landed after the request', async () => {
      const { s, actions } = await setup('o4');
      const paused = await pause(actions, 'o4');
      if (!('incidentId' in paused)) throw new Error('not a pause');
      const req = await requestResume(actions, 'o4', paused.incidentId);
      // Meanwhile another operator pauses again (the scope is already paused: the pause is linked).
      await pause(actions, 'o4', bob);
      await expect(
        actions.resumes.approve({ action: 'approve-resume', programId: 'o4', requestId: req.request.requestId }, bob),
      ).rejects.toBeInstanceOf(StateConflictError);
      expect((await s.state.get('o4', '*'))!.state).toMatchObject({ status: 'PAUSED', version: 2 });
      expect(await s.approvals.get(req.request.requestId)).toMatchObject({ status: 'REJECTED' });
    });

    it('refuses an approval over an incident the request did not see: a CRITICAL anomaly linked after it', async () => {
      const { s, actions } = await setup('o12');
      const paused = await pause(actions, 'o12');
      if (!('incidentId' in paused)) throw new Error('not a pause');
      const req = await requestResume(actions, 'o12', paused.incidentId);
      const linked = await new AnomalyTrigger(s).handle(anomaly({ programId: 'o12', anomalyId: 'after-request' }));
      expect(linked.outcome).toBe('LINKED');
      await expect(
        actions.resumes.approve({ action: 'approve-resume', programId: 'o12', requestId: req.request.requestId }, bob),
      ).rejects.toThrow(/after the request/);
      expect((await s.state.get('o12', '*'))!.state.status).toBe('PAUSED');
      expect(await s.incidents.get(linked.incidentId)).toMatchObject({ status: 'OPEN' });
    });

    it('a retried approval after a crash completes what the crash left undone', async () => {
      const { s, actions } = await setup('o13');
      const paused = await pause(actions, 'o13');
      if (!('incidentId' in paused)) throw new Error('not a pause');
      const req = await requestResume(actions, 'o13', paused.incidentId);
      // The approval's flag write and decision land; then the process dies (no audit, no resolution, no release).
      const state = await s.state.resume({
        programId: 'o13',
        scope: '*',
        expectedVersion: 2,
        expectedLinks: req.request.expectedLinks,
        requestId: req.request.requestId,
        closes: [paused.incidentId],
        at: new Date(),
      });
      await s.approvals.decide(req.request.requestId, { status: 'APPROVED', by: bob, at: new Date(), stateVersion: state.version });
      expect(await s.audit.get('o13', '*', 3)).toBeUndefined();
      // The client retries.
      const retried = await actions.resumes.approve({ action: 'approve-resume', programId: 'o13', requestId: req.request.requestId }, bob);
      expect(retried.request.status).toBe('APPROVED');
      expect(await s.audit.get('o13', '*', 3)).toMatchObject({ status: 'ACTIVE', person: 'bob' });
      expect(await s.incidents.get(paused.incidentId)).toMatchObject({ status: 'RESOLVED' });
      expect(publishedEvents(s.ebMock).map((e) => e.detailType)).toContain(DetailType.KillSwitchReleased);
    });

    it('returns the same request for a retried request-resume with an idempotency key', async () => {
      const { actions } = await setup('o5');
      const paused = await pause(actions, 'o5');
      if (!('incidentId' in paused)) throw new Error('not a pause');
      const cmd = {
        action: 'request-resume' as const,
        programId: 'o5',
        scope: '*',
        reason: 'fixed',
        incidentId: paused.incidentId,
        idempotencyKey: 'k-1',
      };
      const [a, b] = await Promise.all([actions.resumes.request(cmd, alice), actions.resumes.request(cmd, operator('Alice'))]);
      expect(a.request.requestId).toBe(b.request.requestId);
    });
  });

  describe('Review regressions: requests that would not mean what they say', () => {
    it('refuses a resume request naming an incident of another scope (it would close that incident while its scope stays paused)', async () => {
      const { actions } = await setup('o20');
      const whole = await pause(actions, 'o20');
      if (!('incidentId' in whole)) throw new Error('not a pause');
      await actions.pauses.pause({ action: 'pause', programId: 'o20', scope: 'region#eu-west-1', reason: 'regional leak' }, alice);
      const refused = actions.resumes.request(
        { action: 'request-resume', programId: 'o20', scope: 'region#eu-west-1', reason: 'fixed', incidentId: whole.incidentId },
        alice,
      );
      await expect(refused).rejects.toBeInstanceOf(ValidationError);
      await expect(refused).rejects.toThrow(/incidentId: concerns scope \*, not region#eu-west-1/);
    });

    it('refuses to approve a request made before requests recorded their person (one person could otherwise pass)', async () => {
      const { s, actions } = await setup('o21');
      const paused = await pause(actions, 'o21');
      if (!('incidentId' in paused)) throw new Error('not a pause');
      const request = await requestResume(actions, 'o21', paused.incidentId);
      // A request as an earlier version stored it: no requestedByPerson.
      const { requestedByPerson: _, ...legacy } = request.request;
      await s.ledger.putMany([{ key: LedgerKeys.approvalRequest(legacy.requestId), record: legacy }]);
      const refused = actions.resumes.approve({ action: 'approve-resume', programId: 'o21', requestId: legacy.requestId }, alice);
      await expect(refused).rejects.toBeInstanceOf(PolicyRefusedError);
      await expect(refused).rejects.toThrow(/predates two-person identities/);
      expect((await s.state.get('o21', '*'))!.state.status).toBe('PAUSED');
    });

    it('an approval that died after writing the resume, retried after the scope was paused again, completes instead of refusing', async () => {
      const { s, actions } = await setup('o22');
      const paused = await pause(actions, 'o22');
      if (!('incidentId' in paused)) throw new Error('not a pause');
      const req = await requestResume(actions, 'o22', paused.incidentId);
      // The resume is written, then the process dies; an anomaly pauses the program again.
      await s.state.resume({
        programId: 'o22',
        scope: '*',
        expectedVersion: 2,
        expectedLinks: req.request.expectedLinks,
        requestId: req.request.requestId,
        closes: [paused.incidentId],
        at: new Date(),
      });
      const again = await pause(actions, 'o22', bob);
      expect(again).toMatchObject({ outcome: 'PAUSED', state: { version: 4 } });
      const retried = await actions.resumes.approve({ action: 'approve-resume', programId: 'o22', requestId: req.request.requestId }, bob);
      expect(retried.request).toMatchObject({ status: 'APPROVED', stateVersion: 3 });
      expect(await s.audit.get('o22', '*', 3)).toMatchObject({ status: 'ACTIVE', person: 'bob' });
      // The new pause holds.
      expect((await s.state.get('o22', '*'))!.state).toMatchObject({ status: 'PAUSED', version: 4 });
    });
  });

  describe('Methods: views', () => {
    it('reports status per program with who and why from the audit trail, and refuses unknown programs', async () => {
      const { actions } = await setup('o6');
      await actions.pauses.pause({ action: 'pause', programId: 'o6', scope: 'region#eu-west-1', reason: 'regional leak' }, alice);
      const status = await actions.views.status('o6');
      expect(status.programs[0]).toMatchObject({ programId: 'o6', status: 'PAUSED' });
      expect(status.programs[0]!.scopes.map((x) => x.scope).sort()).toEqual(['*', 'region#eu-west-1']);
      expect(status.programs[0]!.scopes.find((x) => x.scope === 'region#eu-west-1')).toMatchObject({
        by: alice.id,
        person: 'alice',
        why: 'regional leak',
      });
      await expect(actions.views.status('nope')).rejects.toBeInstanceOf(UnknownProgramError);
    });

    it('shows an incident with its timeline', async () => {
      const { actions } = await setup('o7');
      const paused = await pause(actions, 'o7');
      if (!('incidentId' in paused)) throw new Error('not a pause');
      const view = await actions.views.incident(paused.incidentId);
      expect(view.incident.incidentId).toBe(paused.incidentId);
      // The incident's unchanging facts, kept for the hash chain, then the pause.
      expect(view.timeline.map((t) => t.type).sort()).toEqual(['INCIDENT_FACTS', 'STATE_CHANGED']);
      expect(view.audit.map((a) => a.version)).toEqual([2]);
      await expect(actions.views.incident('inc-20261127-000000000bad')).rejects.toBeInstanceOf(NotFoundError);
    });
  });
});
