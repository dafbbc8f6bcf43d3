import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OperatorService } from '#shared/killswitch/operator.ts';
import { PolicyRefusedError, StateConflictError, UnknownProgramError } from '#shared/errors.ts';
import { DetailType } from '#shared/schemas/domain-events.ts';
import { startTestDynamo, type TestDynamo } from '../support/dynamo.ts';
import { program, publishedEvents, services } from '../support/fixtures.ts';

const alice = { id: 'arn:aws:sts::111111111111:assumed-role/Operators/alice', verified: true };
const bob = { id: 'arn:aws:sts::111111111111:assumed-role/Operators/bob', verified: true };
const unverified = { id: 'break-glass:unverified', verified: false };

describe('Class: OperatorService (dynalite)', () => {
  let db: TestDynamo;
  beforeAll(async () => {
    db = await startTestDynamo();
  });
  afterAll(() => db.dynamo.stop());

  const setup = async (programId: string) => {
    const s = services(db, [program({ programId })]);
    await s.state.register(programId, { id: 'seed', verified: true }, new Date());
    return { s, operator: new OperatorService(s) };
  };
  const pause = (operator: OperatorService, programId: string, who = alice) =>
    operator.pause({ action: 'pause', programId, scope: '*', reason: 'exposure reported by HR' }, who);

  it('pauses at once, opens an incident and publishes Kill Switch Engaged', async () => {
    const { s, operator } = await setup('o1');
    const result = await pause(operator, 'o1');
    expect(result).toMatchObject({ outcome: 'PAUSED', state: { status: 'PAUSED', version: 2, trigger: 'OPERATOR', changedBy: alice.id } });
    expect(await s.incidents.get(result.incidentId)).toMatchObject({ action: 'PAUSED', openedBy: alice.id });
    expect(publishedEvents(s.ebMock).map((e) => e.detailType)).toEqual([DetailType.KillSwitchEngaged]);
  });

  it('lets a break-glass (unverified) caller pause, recorded as unverified, but never resume', async () => {
    const { s, operator } = await setup('o2');
    const result = await pause(operator, 'o2', unverified);
    expect(result.state).toMatchObject({ trigger: 'BREAK_GLASS', changedByVerified: false });
    expect((await s.audit.history('o2', '*'))[0]).toMatchObject({ verified: false });
    await expect(
      operator.requestResume({ action: 'request-resume', programId: 'o2', scope: '*', reason: 'x', incidentId: result.incidentId }, unverified),
    ).rejects.toBeInstanceOf(PolicyRefusedError);
  });

  it('needs two different people to resume', async () => {
    const { s, operator } = await setup('o3');
    const paused = await pause(operator, 'o3');
    const req = await operator.requestResume(
      { action: 'request-resume', programId: 'o3', scope: '*', reason: 'access fixed', incidentId: paused.incidentId },
      alice,
    );
    expect(req.request).toMatchObject({ status: 'PENDING', expectedVersion: 2 });

    await expect(operator.approveResume({ action: 'approve-resume', programId: 'o3', requestId: req.request.requestId }, alice)).rejects.toBeInstanceOf(
      PolicyRefusedError,
    );
    expect((await s.state.get('o3', '*'))!.state.status).toBe('PAUSED');

    const approved = await operator.approveResume({ action: 'approve-resume', programId: 'o3', requestId: req.request.requestId }, bob);
    expect(approved.state).toMatchObject({ status: 'ACTIVE', version: 3, changedBy: bob.id, resumeRequestId: req.request.requestId });
    expect(approved.request).toMatchObject({ status: 'APPROVED', approvedBy: bob.id });
    expect(await s.incidents.get(paused.incidentId)).toMatchObject({ status: 'RESOLVED', resolvedBy: bob.id });
    expect((await s.audit.history('o3', '*')).map((a) => [a.version, a.status])).toEqual([
      [2, 'PAUSED'],
      [3, 'ACTIVE'],
    ]);
    expect(publishedEvents(s.ebMock).map((e) => e.detailType)).toContain(DetailType.KillSwitchReleased);
  });

  it('fails an approval when a pause landed after the request', async () => {
    const { s, operator } = await setup('o4');
    const paused = await operator.pause({ action: 'pause', programId: 'o4', scope: '*', reason: 'first' }, alice);
    const req = await operator.requestResume(
      { action: 'request-resume', programId: 'o4', scope: '*', reason: 'fixed', incidentId: paused.incidentId },
      alice,
    );
    // Meanwhile another request is approved and the scope is paused again: the version moved on.
    const req2 = await operator.requestResume(
      { action: 'request-resume', programId: 'o4', scope: '*', reason: 'fixed too', incidentId: paused.incidentId },
      bob,
    );
    await operator.approveResume({ action: 'approve-resume', programId: 'o4', requestId: req2.request.requestId }, alice);
    await operator.pause({ action: 'pause', programId: 'o4', scope: '*', reason: 'again' }, bob);

    await expect(operator.approveResume({ action: 'approve-resume', programId: 'o4', requestId: req.request.requestId }, bob)).rejects.toBeInstanceOf(
      StateConflictError,
    );
    expect((await s.state.get('o4', '*'))!.state).toMatchObject({ status: 'PAUSED', version: 4 });
    expect(await s.approvals.get(req.request.requestId)).toMatchObject({ status: 'REJECTED' });
  });

  it('returns the same request for a retried request-resume with an idempotency key', async () => {
    const { operator } = await setup('o5');
    const paused = await pause(operator, 'o5');
    const cmd = { action: 'request-resume' as const, programId: 'o5', scope: '*', reason: 'fixed', incidentId: paused.incidentId, idempotencyKey: 'k-1' };
    const [a, b] = await Promise.all([operator.requestResume(cmd, alice), operator.requestResume(cmd, alice)]);
    expect(a.request.requestId).toBe(b.request.requestId);
  });

  it('reports status per program and refuses unknown programs', async () => {
    const { operator } = await setup('o6');
    await operator.pause({ action: 'pause', programId: 'o6', scope: 'region#eu-west-1', reason: 'regional leak' }, alice);
    const status = await operator.status('o6');
    expect(status.programs[0]).toMatchObject({ programId: 'o6', status: 'PAUSED' });
    expect(status.programs[0]!.scopes.map((s) => s.scope).sort()).toEqual(['*', 'region#eu-west-1']);
    await expect(operator.status('nope')).rejects.toBeInstanceOf(UnknownProgramError);
  });

  it('shows an incident with its timeline', async () => {
    const { operator } = await setup('o7');
    const paused = await pause(operator, 'o7');
    const view = await operator.incident(paused.incidentId);
    expect(view.incident.incidentId).toBe(paused.incidentId);
    expect(view.timeline.map((t) => t.type)).toEqual(['STATE_CHANGED']);
    expect(view.audit.map((a) => a.version)).toEqual([2]);
  });
});
