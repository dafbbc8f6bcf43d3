import fc from 'fast-check';
import { uuidFor } from '#shared/domain/ids.ts';
import { checkInvariants, expectThat, type Enforced } from './invariants.ts';
import { arnOf, count, PERSONS, reportAnomaly, SEVERITIES, type Model, type Person, type Severity } from './model.ts';
import type { Envelope, SystemUnderTest } from './system.ts';

export interface Real {
  sys: SystemUnderTest;
  enforced: Enforced;
}

/** One step: act, let every delivery settle (redeliveries, retries, time), then check every invariant. */
abstract class Step implements fc.AsyncCommand<Model, Real> {
  check(): boolean {
    return true;
  }
  async run(model: Model, real: Real): Promise<void> {
    model.step++;
    await this.act(model, real);
    await real.sys.settle();
    await checkInvariants(real.sys, model, real.enforced);
  }
  protected abstract act(model: Model, real: Real): Promise<void>;
  abstract toString(): string;
}

const pick = <T>(xs: readonly T[], i: number): T | undefined => (xs.length ? xs[i % xs.length] : undefined);
const show = (o: object) => JSON.stringify(o);
const refusal = (env: Envelope) => (env.ok ? 'ok' : env.error.kind);
const immediate = (real: Real, ok: boolean, message: () => string) => expectThat(real.enforced, 'immediate', ok, message);

interface Who {
  person: number;
  spelling: number;
  role: number;
}
const personOf = (w: Who): Person => PERSONS[w.person]!;
const arn = (w: Who) => arnOf(personOf(w), w.spelling, w.role);

/** A detector reports an anomaly (maybe again, maybe escalated, maybe with odd text, during an outage, delivered twice, crashing). */
export class Anomaly extends Step {
  constructor(
    readonly a: {
      anomaly: number;
      severity: Severity;
      datasets: number[];
      scope: number;
      day: number;
      odd: boolean;
      copies: number;
      crashAfter: number;
      outageMinutes: number;
      hold: boolean;
    },
  ) {
    super();
  }
  protected async act(model: Model, { sys }: Real) {
    const { fixture } = model;
    const named = [undefined, '*', `category#${fixture.datasetIds[0]}`, model.scopes.find((s) => s.startsWith('region#')), model.typoScope][
      this.a.scope
    ];
    const scope = named && model.scopes.includes(named) ? named : '*';
    const datasets = [...new Set(this.a.datasets.map((i) => fixture.datasetIds[i % fixture.datasetIds.length]!))];
    const anomalyId = `${fixture.programId}-a${this.a.anomaly}`;
    reportAnomaly(model, `${anomalyId}|${scope}`, scope, this.a.severity, datasets);
    model.anomaliesPut.push({ anomalyId, step: model.step });
    if (this.a.outageMinutes) sys.faults.outageUntil = sys.clock.now + this.a.outageMinutes * 60_000;
    sys.holdGrantWork(this.a.hold);
    sys.putAnomaly(
      {
        anomalyId,
        programId: fixture.programId,
        detector: 'dlp',
        severity: this.a.severity,
        kind: 'access-exposure',
        datasetIds: datasets,
        ...(named ? { scope: named } : {}),
        observedAt: new Date(Date.parse('2026-12-01T08:00:00Z') - this.a.day * 86_400_000).toISOString(),
        summary: this.a.odd ? `${'transcripts readable by all staff; '.repeat(70)}\u0007` : 'transcripts readable by all staff',
      },
      { copies: this.a.copies, ...(this.a.crashAfter ? { crashAfter: this.a.crashAfter } : {}) },
    );
    await sys.settle();
    // The outage is over before the next command: operators act on a working system.
    if (sys.clock.now < sys.faults.outageUntil) sys.clock.now = sys.faults.outageUntil;
    await sys.settle();
    sys.holdGrantWork(false);
    count(model, 'anomalies');
  }
  toString() {
    return `Anomaly(${show(this.a)})`;
  }
}

/** An operator (or break-glass) pauses a scope, maybe naming an incident, maybe a mistyped scope. */
export class OperatorPause extends Step {
  constructor(readonly a: Who & { scope: number; incident: number; breakGlass: boolean; crashAfter: number; hold: boolean }) {
    super();
  }
  protected async act(model: Model, real: Real) {
    const { sys } = real;
    const { programId } = model.fixture;
    const scopes = [model.typoScope, ...model.scopes];
    const scope = scopes[this.a.scope % scopes.length]!;
    const named = this.a.incident >= 0 ? pick(model.view.incidents, this.a.incident)?.incidentId : undefined;
    const reason = `reason-${programId}-${model.step}`;
    model.secrets.add(reason);
    const command = {
      action: 'pause',
      programId,
      scope,
      reason,
      ...(named ? { incidentId: named } : {}),
      idempotencyKey: `${programId}-k${model.step}`,
    };
    const crash = this.a.crashAfter ? { crashAfter: this.a.crashAfter } : {};
    sys.holdGrantWork(this.a.hold);
    const env = this.a.breakGlass ? await sys.breakGlass(command, crash) : await sys.operator(arn(this.a), command, crash);
    await sys.settle();
    sys.holdGrantWork(false);
    if (!model.scopes.includes(scope)) {
      immediate(
        real,
        !env.ok && env.error.kind === 'BAD_INPUT',
        () => `pause of undeclared scope ${scope} answered ${refusal(env)}: ${show(env)}`,
      );
      return;
    }
    immediate(real, env.ok, () => `pausing is always allowed, but ${show(command)} answered ${show(env)}`);
    if (!env.ok) return;
    const outcome = String((env.result as { outcome?: string }).outcome);
    model.obligations.push({
      scope,
      step: model.step,
      what: `${this.a.breakGlass ? 'break-glass' : 'operator'} pause answered ${outcome}${named ? ` naming ${named}` : ''}`,
    });
    model.incidentEvents.push({ scope, step: model.step, what: `operator pause` });
    count(model, `pause:${outcome}`);
  }
  toString() {
    return `OperatorPause(${show(this.a)})`;
  }
}

export class RequestResume extends Step {
  constructor(readonly a: Who & { scopePick: number; incidentPick: number }) {
    super();
  }
  protected async act(model: Model, real: Real) {
    const { programId } = model.fixture;
    const state = pick(
      model.view.states.filter((s) => s.status === 'PAUSED'),
      this.a.scopePick,
    );
    if (!state) return;
    const open = model.view.incidents.filter((i) => i.status === 'OPEN' && i.scope === state.scope);
    const incidentId = pick(open, this.a.incidentPick)?.incidentId ?? state.incidentId;
    if (!incidentId) return;
    const reason = `reason-${programId}-${model.step}`;
    model.secrets.add(reason);
    const env = await real.sys.operator(
      arn(this.a),
      { action: 'request-resume', programId, scope: state.scope, reason, incidentId, idempotencyKey: `${programId}-k${model.step}` },
      {},
    );
    immediate(real, env.ok || env.error.kind === 'CONFLICT', () => `request-resume answered ${show(env)}`);
    if (!env.ok) return;
    const requestId = String((env.result as { request: { requestId: string } }).request.requestId);
    model.requests.push({ requestId, kind: 'RESUME', person: personOf(this.a), incidentId, scope: state.scope, step: model.step });
    count(model, 'resume requests');
  }
  toString() {
    return `RequestResume(${show(this.a)})`;
  }
}

export class ApproveResume extends Step {
  /** `retryLater`: a call that dies is not retried at once; the approver (or another) runs it again in a later step. */
  constructor(readonly a: Who & { requestPick: number; crashAfter: number; retryLater?: boolean }) {
    super();
  }
  protected async act(model: Model, real: Real) {
    const { sys } = real;
    // Newest first: the request an approver was just asked about, then older ones (retries, stale requests).
    const request = pick(model.requests.filter((r) => r.kind === 'RESUME').reverse(), this.a.requestPick);
    if (!request) return;
    const before = (await sys.observe.request(request.requestId))?.status;
    const env = await sys.operator(
      arn(this.a),
      { action: 'approve-resume', programId: model.fixture.programId, requestId: request.requestId },
      this.a.crashAfter ? { crashAfter: this.a.crashAfter, retryLater: this.a.retryLater ?? false } : {},
    );
    if (!env.ok && env.error.kind === 'CRASHED') {
      // The client saw its call die. If the resume was written, two people did resume the scope; its
      // record is owed until the client runs the approval again (a later step, or the end).
      const raw = (await sys.observe.states(model.fixture.programId)).find((s) => s.scope === request.scope)?.raw as
        { lastResume?: { requestId?: string; version?: number } } | undefined;
      if (raw?.lastResume?.requestId === request.requestId && raw.lastResume.version !== undefined && before !== 'APPROVED') {
        model.inFlight.set(request.requestId, {
          arn: arn(this.a),
          scope: request.scope!,
          version: raw.lastResume.version,
          step: model.step,
        });
        model.obligations = model.obligations.filter((o) => o.scope !== request.scope);
        count(model, 'resumes left in flight');
      }
      return;
    }
    if (personOf(this.a) === request.person) {
      immediate(
        real,
        !env.ok && env.error.kind === 'REFUSED',
        () => `${arn(this.a)} approved (${refusal(env)}) the resume ${request.person} requested`,
      );
    } else {
      immediate(real, env.ok || env.error.kind === 'CONFLICT', () => `approve-resume by a second person answered ${show(env)}`);
    }
    await sys.settle();
    const after = await sys.observe.request(request.requestId);
    // When the resume was written: now, or at the step whose call died after writing it.
    const writtenAt = model.inFlight.get(request.requestId)?.step ?? model.step;
    // Only a call that answered ok ran the completion; a refused one (the requester's) leaves the record owed.
    if (env.ok && after?.status === 'APPROVED') model.inFlight.delete(request.requestId);
    if (before !== 'APPROVED' && after?.status === 'APPROVED' && after.stateVersion !== undefined) {
      const newer = model.incidentEvents.filter((e) => e.scope === request.scope && e.step > request.step && e.step <= writtenAt);
      expectThat(
        real.enforced,
        'twoPersonResume',
        !newer.length,
        () =>
          `resume ${request.requestId} (requested at step ${request.step}) applied over newer: ${newer.map((e) => `step ${e.step} ${e.what}`).join('; ')}`,
      );
      // Pauses owed from before the resume was written are released; one that came after it still holds.
      model.obligations = model.obligations.filter((o) => o.scope !== request.scope || o.step > writtenAt);
      count(model, 'resumes');
    }
  }
  toString() {
    return `ApproveResume(${show(this.a)})`;
  }
}

export class RequestRestore extends Step {
  constructor(readonly a: Who & { incidentPick: number }) {
    super();
  }
  protected async act(model: Model, real: Real) {
    const incident = pick(
      model.view.incidents.filter((i) => i.action !== 'RECORDED'),
      this.a.incidentPick,
    );
    if (!incident) return;
    const reason = `reason-${model.fixture.programId}-${model.step}`;
    model.secrets.add(reason);
    const env = await real.sys.operator(
      arn(this.a),
      { action: 'restore-grants', incidentId: incident.incidentId, reason, idempotencyKey: `${model.fixture.programId}-k${model.step}` },
      {},
    );
    immediate(real, env.ok, () => `restore-grants answered ${show(env)}`);
    if (!env.ok) return;
    const requestId = String((env.result as { request: { requestId: string } }).request.requestId);
    model.requests.push({
      requestId,
      kind: 'RESTORE_GRANTS',
      person: personOf(this.a),
      incidentId: incident.incidentId,
      step: model.step,
      datasets: [...incident.datasetIds],
    });
  }
  toString() {
    return `RequestRestore(${show(this.a)})`;
  }
}

export class ApproveRestore extends Step {
  constructor(readonly a: Who & { requestPick: number; crashAfter: number }) {
    super();
  }
  protected async act(model: Model, real: Real) {
    const request = pick(model.requests.filter((r) => r.kind === 'RESTORE_GRANTS').reverse(), this.a.requestPick);
    if (!request) return;
    const env = await real.sys.operator(
      arn(this.a),
      { action: 'approve-restore-grants', requestId: request.requestId },
      this.a.crashAfter ? { crashAfter: this.a.crashAfter } : {},
    );
    if (personOf(this.a) === request.person) {
      immediate(
        real,
        !env.ok && env.error.kind === 'REFUSED',
        () => `${arn(this.a)} approved (${refusal(env)}) the restore ${request.person} requested`,
      );
      return;
    }
    immediate(real, env.ok || env.error.kind === 'CONFLICT', () => `approve-restore-grants by a second person answered ${show(env)}`);
    if (env.ok) {
      request.approvedAt ??= real.sys.clock.now;
      count(model, 'restores');
    }
  }
  toString() {
    return `ApproveRestore(${show(this.a)})`;
  }
}

/** An operator notifies an incident's employees; the sender may crash on some of its deliveries. */
export class Notify extends Step {
  constructor(readonly a: Who & { incidentPick: number; senderCrashes: number[]; after: number }) {
    super();
  }
  protected async act(model: Model, real: Real) {
    const { sys } = real;
    const incident = pick(model.view.incidents, this.a.incidentPick);
    if (!incident) return;
    const send = sys.queues.find((q) => q.name === 'sendWork')!;
    send.crashPlan = new Map(this.a.senderCrashes.map((r) => [r, this.a.after]));
    const env = await sys.operator(arn(this.a), { action: 'notify', incidentId: incident.incidentId }, {});
    await sys.settle();
    send.crashPlan = new Map();
    immediate(real, env.ok, () => `notify answered ${show(env)}`);
    if (env.ok) model.notified.add(incident.incidentId);
    count(model, 'notifications');
  }
  toString() {
    return `Notify(${show(this.a)})`;
  }
}

/** A detector puts `Kill Switch Engaged` on the bus itself, naming any incident, datasets and notify mode. */
export class ForgeEngaged extends Step {
  constructor(readonly a: { incidentPick: number; datasets: number[]; auto: boolean }) {
    super();
  }
  protected async act(model: Model, { sys }: Real) {
    const { programId, datasetIds } = model.fixture;
    const incidentId =
      (this.a.incidentPick >= 0 && pick(model.view.incidents, this.a.incidentPick)?.incidentId) ||
      `inc-20261201-${uuidFor(`${programId}/${model.step}`).replaceAll('-', '').slice(0, 12)}`;
    const datasets = this.a.datasets.length ? [...new Set(this.a.datasets.map((i) => datasetIds[i % datasetIds.length]!))] : datasetIds;
    const delivered = sys.forgeDomainEvent('Kill Switch Engaged', {
      incidentId,
      programId,
      scope: '*',
      stateVersion: 1,
      stateChanged: true,
      datasetIds: datasets,
      severity: 'CRITICAL',
      trigger: 'ANOMALY',
      notify: this.a.auto ? 'auto' : 'manual',
      engagedAt: sys.clock.date().toISOString(),
    });
    count(model, delivered ? 'forged events delivered' : 'forged events refused');
  }
  toString() {
    return `ForgeEngaged(${show(this.a)})`;
  }
}

/** Some other rule of the account sends a restore to the grant-work queue. */
export class ForgeRestore extends Step {
  constructor(readonly a: { incidentPick: number }) {
    super();
  }
  protected async act(model: Model, { sys }: Real) {
    const incident = pick(model.view.incidents, this.a.incidentPick);
    if (!incident) return;
    sys.forgeGrantWork({
      type: 'restore',
      incidentId: incident.incidentId,
      programId: model.fixture.programId,
      requestId: uuidFor(`forged/${model.fixture.programId}/${model.step}`),
      approvedBy: 'arn:aws:sts::111111111111:assumed-role/Other/mallory',
      continuation: 0,
    });
  }
  toString() {
    return `ForgeRestore(${show(this.a)})`;
  }
}

export class ReleaseHeld extends Step {
  protected async act(_model: Model, { sys }: Real) {
    sys.releaseHeld();
  }
  toString() {
    return 'ReleaseHeld()';
  }
}

export class Advance extends Step {
  constructor(readonly minutes: number) {
    super();
  }
  protected async act(_model: Model, { sys }: Real) {
    sys.clock.advance(this.minutes * 60_000);
  }
  toString() {
    return `Advance(${this.minutes} min)`;
  }
}

const datasets = fc.uniqueArray(fc.nat(1), { maxLength: 2 });

/** Narrower generation, to steer a hunt towards one kind of counterexample (discover.ts). */
export interface GenerationOptions {
  /** Operators spell their session names and pick their roles freely. @default true */
  spellings?: boolean;
  /** Anomalies name only scopes the program declares. @default false */
  declaredScopesOnly?: boolean;
  /** How often a delivery or a command crashes mid-way. @default 'sometimes' */
  crashes?: 'sometimes' | 'often';
}

/** The command mix, by family: anomalies and approvals most often, every other way in now and then. */
export const commandFamilies = ({ spellings = true, declaredScopesOnly = false, crashes = 'sometimes' }: GenerationOptions = {}) => {
  const crash = fc.oneof(
    { weight: crashes === 'often' ? 1 : 4, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 6 }) },
  );
  const spelling = spellings ? fc.nat(2) : fc.constant(0);
  const role = spellings ? fc.nat(1) : fc.constant(0);
  return {
    anomaly: [
      fc
        .record({
          anomaly: fc.nat(2),
          severity: fc.constantFrom(...SEVERITIES),
          datasets,
          scope: declaredScopesOnly ? fc.nat(3) : fc.nat(4),
          day: fc.constantFrom(0, 0, 0, 1),
          odd: fc.constantFrom(false, false, false, true),
          copies: fc.constantFrom(1, 1, 2),
          crashAfter: crash,
          outageMinutes: fc.constantFrom(0, 0, 0, 0, 10, 240),
          hold: fc.constantFrom(false, false, true),
        })
        .map((a) => new Anomaly(a)),
      // Re-reports of the same few anomalies on the whole program: escalations and duplicates.
      fc
        .record({
          anomaly: fc.nat(1),
          severity: fc.constantFrom<Severity>('MEDIUM', 'HIGH', 'CRITICAL'),
          datasets,
          scope: fc.constant(1),
          day: fc.constant(0),
          odd: fc.constant(false),
          copies: fc.constant(1),
          crashAfter: crash,
          outageMinutes: fc.constant(0),
          hold: fc.constant(false),
        })
        .map((a) => new Anomaly(a)),
    ],
    pause: [
      fc
        .record({
          person: fc.nat(2),
          spelling,
          role,
          scope: fc.nat(4),
          incident: fc.integer({ min: -1, max: 5 }),
          breakGlass: fc.boolean(),
          crashAfter: crash,
          hold: fc.constantFrom(false, false, true),
        })
        .map((a) => new OperatorPause(a)),
      // The whole program, the operator's usual pause: often on a program already paused.
      fc
        .record({
          person: fc.nat(2),
          spelling,
          role,
          scope: fc.constant(1),
          incident: fc.integer({ min: -1, max: 5 }),
          breakGlass: fc.boolean(),
          crashAfter: crash,
          hold: fc.constant(false),
        })
        .map((a) => new OperatorPause(a)),
    ],
    resume: [
      fc.record({ person: fc.nat(2), spelling, role, scopePick: fc.nat(3), incidentPick: fc.nat(3) }).map((a) => new RequestResume(a)),
      fc.record({ person: fc.nat(2), spelling, role, scopePick: fc.nat(3), incidentPick: fc.nat(3) }).map((a) => new RequestResume(a)),
      fc.record({ person: fc.nat(2), spelling, role, requestPick: fc.nat(3), crashAfter: crash }).map((a) => new ApproveResume(a)),
      fc
        .record({
          person: fc.nat(2),
          spelling,
          role,
          requestPick: fc.nat(3),
          crashAfter: crash,
          retryLater: fc.constantFrom(false, false, true),
        })
        .map((a) => new ApproveResume(a)),
    ],
    restore: [
      fc.record({ person: fc.nat(2), spelling, role, incidentPick: fc.nat(3) }).map((a) => new RequestRestore(a)),
      fc.record({ person: fc.nat(2), spelling, role, requestPick: fc.nat(3), crashAfter: crash }).map((a) => new ApproveRestore(a)),
      fc.record({ person: fc.nat(2), spelling, role, requestPick: fc.nat(3), crashAfter: crash }).map((a) => new ApproveRestore(a)),
    ],
    notify: [
      fc
        .record({
          person: fc.nat(2),
          spelling,
          role,
          incidentPick: fc.nat(3),
          senderCrashes: fc.uniqueArray(fc.integer({ min: 1, max: 6 }), { maxLength: 3 }),
          after: fc.integer({ min: 1, max: 3 }),
        })
        .map((a) => new Notify(a)),
    ],
    forgeEngaged: [
      fc.record({ incidentPick: fc.integer({ min: -1, max: 3 }), datasets, auto: fc.boolean() }).map((a) => new ForgeEngaged(a)),
    ],
    forgeRestore: [fc.record({ incidentPick: fc.nat(3) }).map((a) => new ForgeRestore(a))],
    time: [fc.constant(new ReleaseHeld()), fc.constantFrom(1, 20, 180).map((m) => new Advance(m))],
  } satisfies Record<string, fc.Arbitrary<fc.AsyncCommand<Model, Real>>[]>;
};
export type CommandFamily = keyof ReturnType<typeof commandFamilies>;
export const ALL_FAMILIES = Object.keys(commandFamilies()) as CommandFamily[];

export const commandArbitraries = (
  families: readonly CommandFamily[] = ALL_FAMILIES,
  options: GenerationOptions = {},
): fc.Arbitrary<fc.AsyncCommand<Model, Real>>[] => {
  const all = commandFamilies(options);
  return families.flatMap((f): fc.Arbitrary<fc.AsyncCommand<Model, Real>>[] => all[f]);
};

/** What every sequence ends with: held work released, everything delivered, every invariant checked once more. */
export async function finish(model: Model, real: Real): Promise<void> {
  model.step++;
  // Clients whose approval died run it again.
  for (const [requestId, { arn: approver }] of model.inFlight) {
    await real.sys.operator(approver, { action: 'approve-resume', programId: model.fixture.programId, requestId }, {});
  }
  model.inFlight.clear();
  real.sys.releaseHeld();
  await real.sys.settle();
  await checkInvariants(real.sys, model, real.enforced);
}
