import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OperatorActions } from '#shared/killswitch/operator.ts';
import { PolicyRefusedError } from '#shared/domain/errors.ts';
import type { Principal } from '#shared/schemas/common.ts';
import { startTestDynamo, type TestDynamo } from '../support/dynamo.ts';
import { operator as operatorNamed, program, services } from '../support/fixtures.ts';

const PRINCIPALS: Principal[] = ['alice', 'bob', 'carol', 'dave'].map((n) => operatorNamed(n));
const COMMANDS_PER_WAVE = 200;
const WAVES = 3;

/** A small seeded generator: the same command mix on every run, so a failure can be replayed. */
function random(seed: number) {
  let s = seed;
  return () => (s = (s * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}

type Attempt =
  | { kind: 'pause'; by: Principal; outcome?: string; error?: string }
  | { kind: 'request'; by: Principal; requestId?: string; error?: string }
  | { kind: 'approve'; by: Principal; requestId: string; requestedBy: string; version?: number; error?: unknown };

describe(`Races: ${WAVES} waves of ${COMMANDS_PER_WAVE} concurrent pause / request-resume / approve-resume commands on one program`, () => {
  let db: TestDynamo;
  let s: ReturnType<typeof services>;
  let operator: OperatorActions;
  const attempts: Attempt[] = [];

  beforeAll(async () => {
    db = await startTestDynamo();
    s = services(db, [program({ programId: 'race' })]);
    await s.state.register('race', new Date());
    operator = new OperatorActions(s);
    const next = random(9);
    const pick = <T>(xs: T[]) => xs[Math.floor(next() * xs.length)]!;
    await operator.pauses.pause({ action: 'pause', programId: 'race', scope: '*', reason: 'first report' }, PRINCIPALS[0]!);

    for (let wave = 0; wave < WAVES; wave++) {
      // Before each wave: a few resume requests on the current pause, from different people.
      const current = (await s.state.get('race', '*'))!.state;
      const pending: { requestId: string; requestedBy: string }[] = [];
      if (current.status === 'PAUSED') {
        for (const by of PRINCIPALS.slice(0, 3)) {
          const view = await operator.resumes.request(
            { action: 'request-resume', programId: 'race', scope: '*', reason: `fixed (${wave})`, incidentId: current.incidentId! },
            by,
          );
          pending.push({ requestId: view.request.requestId, requestedBy: by.id });
        }
      }
      // Each step with the delay it starts after: pauses spread over the second half of the wave, the
      // rest over the first two thirds, so approvals race each other, the pauses, and each other's writes.
      const wavePlan: { after: number; run: () => Promise<void> }[] = [];
      // Pauses start their delay once an approval of the wave has won (or all have lost), so that a
      // slow or loaded machine cannot turn every wave into pauses landing before any approval: the
      // approvals still race each other, and the later ones race the pauses.
      let approvalWon: () => void = () => {};
      const approvalRace = new Promise<void>((resolve) => (approvalWon = resolve));
      const approvals: Promise<void>[] = [];
      for (let i = 0; i < COMMANDS_PER_WAVE; i++) {
        const by = pick(PRINCIPALS);
        const roll = next();
        if (roll < 0.4 || (!pending.length && (roll >= 0.7 || !current.incidentId))) {
          const a: Attempt = { kind: 'pause', by };
          attempts.push(a);
          const after = 150 + next() * 250;
          wavePlan.push({
            after: 0,
            run: async () => {
              await approvalRace;
              await new Promise((r) => setTimeout(r, after - 150));
              try {
                a.outcome = String(
                  (
                    (await operator.pauses.pause(
                      { action: 'pause', programId: 'race', scope: '*', reason: `report ${wave}/${i}` },
                      by,
                    )) as { outcome?: string }
                  ).outcome,
                );
              } catch (e) {
                a.error = (e as Error).name;
              }
            },
          });
        } else if (roll < 0.7 && current.incidentId) {
          const a: Attempt = { kind: 'request', by };
          attempts.push(a);
          wavePlan.push({
            after: next() * 250,
            run: async () => {
              try {
                a.requestId = (
                  await operator.resumes.request(
                    { action: 'request-resume', programId: 'race', scope: '*', reason: 'looks fine', incidentId: current.incidentId! },
                    by,
                  )
                ).request.requestId;
              } catch (e) {
                a.error = (e as Error).name;
              }
            },
          });
        } else if (pending.length) {
          const request = pick(pending);
          const a: Attempt = { kind: 'approve', by, requestId: request.requestId, requestedBy: request.requestedBy };
          attempts.push(a);
          let settled: () => void = () => {};
          approvals.push(new Promise<void>((resolve) => (settled = resolve)));
          wavePlan.push({
            after: next() * 250,
            run: async () => {
              try {
                a.version = (
                  await operator.resumes.approve({ action: 'approve-resume', programId: 'race', requestId: request.requestId }, by)
                ).state?.version;
                approvalWon();
              } catch (e) {
                a.error = e;
              } finally {
                settled();
              }
            },
          });
        }
      }
      void Promise.all(approvals).then(() => approvalWon());
      await Promise.all(wavePlan.map(async ({ after, run }) => (await new Promise((r) => setTimeout(r, after)), run())));
    }
  }, 180_000);
  afterAll(() => db.dynamo.stop());

  it('keeps one audit entry per version, versions 2..n with no gap, and the table at the last one', async () => {
    // Version 1 is the registration (SEED), before any command.
    const history = await s.audit.history('race', '*');
    const versions = history.map((e) => e.version);
    expect(versions).toEqual(Array.from({ length: versions.length }, (_, i) => i + 2));
    const state = (await s.state.get('race', '*'))!.state;
    expect(state.version).toBe(versions.length + 1);
    expect(history.at(-1)).toMatchObject({ status: state.status, version: state.version });
  });

  it('ends in the state a serial order of the accepted commands produces', async () => {
    const history = await s.audit.history('race', '*');
    // Replay the audit trail as a serial history: every change must be legal from the state before it.
    let status = 'ACTIVE';
    for (const entry of history) {
      if (entry.status === 'PAUSED') expect(status, `version ${entry.version}`).toBe('ACTIVE');
      else expect([status, entry.trigger], `version ${entry.version}`).toEqual(['PAUSED', 'RESUME']);
      status = entry.status;
    }
    expect((await s.state.get('race', '*'))!.state.status).toBe(status);

    // Each accepted command is one version: the pauses that flipped the flag and the approvals that resumed it.
    const flips = attempts.filter((a) => a.kind === 'pause' && a.outcome === 'PAUSED').length + 1; // + the opening pause
    const resumes = new Set(attempts.flatMap((a) => (a.kind === 'approve' && a.version !== undefined ? [a.version] : [])));
    expect(history.filter((e) => e.status === 'PAUSED')).toHaveLength(flips);
    expect(
      history
        .filter((e) => e.status === 'ACTIVE')
        .map((e) => e.version)
        .sort(),
    ).toEqual([...resumes].sort());
    expect(history).toHaveLength(flips + resumes.size);
    expect(resumes.size).toBeGreaterThan(0);
  });

  it('never lets a requester approve their own resume, nor a resume land over a newer pause', async () => {
    const own = attempts.filter((a): a is Extract<Attempt, { kind: 'approve' }> => a.kind === 'approve' && a.by.id === a.requestedBy);
    expect(own.length).toBeGreaterThan(0);
    for (const a of own) expect(a.error).toBeInstanceOf(PolicyRefusedError);

    const history = await s.audit.history('race', '*');
    const resumed = history.filter((e) => e.trigger === 'RESUME');
    expect(resumed.length).toBeGreaterThan(0);
    for (const entry of resumed) {
      const request = await s.approvals.get(entry.requestId!);
      if (request?.kind !== 'RESUME') throw new Error(`no request ${entry.requestId}`);
      expect(request.requestedBy).not.toBe(entry.by);
      // Applied exactly at the version the request saw: nothing (no newer pause) came in between.
      expect(entry.version).toBe(request.expectedVersion + 1);
      expect(request).toMatchObject({ status: 'APPROVED', stateVersion: entry.version });
    }
  });

  it('answers every losing command with a clear refusal, never a crash', () => {
    const errors = attempts.flatMap((a) => (a.error === undefined ? [] : [a.error instanceof Error ? a.error.name : String(a.error)]));
    const allowed = new Set(['PolicyRefusedError', 'StateConflictError', 'NotFoundError']);
    expect(errors.filter((e) => !allowed.has(e))).toEqual([]);
    const tally = attempts.reduce<Record<string, number>>((t, a) => {
      const key = `${a.kind}:${a.error === undefined ? ('outcome' in a && a.outcome) || 'ok' : a.error instanceof Error ? a.error.name : String(a.error)}`;
      t[key] = (t[key] ?? 0) + 1;
      return t;
    }, {});
    console.log(`race outcomes over ${attempts.length} commands: ${JSON.stringify(tally)}`);
    expect(attempts.length).toBe(WAVES * COMMANDS_PER_WAVE);
  });
});
