import fc from 'fast-check';
import { describe, it } from 'vitest';
import {
  Advance,
  Anomaly,
  ApproveRestore,
  ApproveResume,
  finish,
  ForgeEngaged,
  ForgeRestore,
  Notify,
  OperatorPause,
  ReleaseHeld,
  RequestRestore,
  RequestResume,
  type Real,
} from './commands.ts';
import type { InvariantName } from './invariants.ts';
import { newModel, type Severity } from './model.ts';
import { fixture, REGIONS, type SystemFactory } from './run.ts';
import { systemV2 } from './system-v2.ts';
import { modelWorld } from './world.ts';

/*
 * The counterexamples the model test found on the code before issue 13 (commit 6a61d62), shrunk by
 * fast-check and kept here by name (test/model/FINDINGS.md has the original outputs). Each fails on
 * that code and holds now, with every invariant enforced after every step.
 */
const who = (person: number, spelling = 0, role = 0) => ({ person, spelling, role });
const anomaly = (a: Partial<ConstructorParameters<typeof Anomaly>[0]> & { severity: Severity }) =>
  new Anomaly({ anomaly: 0, datasets: [], scope: 1, day: 0, odd: false, copies: 1, crashAfter: 0, outageMinutes: 0, hold: false, ...a });
/** Scope index 1 is "*", 0 a scope the program does not declare. */
const pause = (a: Partial<ConstructorParameters<typeof OperatorPause>[0]> = {}) =>
  new OperatorPause({ ...who(0), scope: 1, incident: -1, breakGlass: false, crashAfter: 0, hold: false, ...a });
const requestResume = (person: number) => new RequestResume({ ...who(person), scopePick: 0, incidentPick: 0 });
const approveResume = (w: ReturnType<typeof who>, crashAfter = 0) => new ApproveResume({ ...w, requestPick: 0, crashAfter });

export const REGRESSIONS: {
  name: string;
  invariant: InvariantName;
  commands: () => fc.AsyncCommand<ReturnType<typeof newModel>, Real>[];
}[] = [
  {
    invariant: 'pausedStaysPaused',
    name: 'finding 1: a pause naming an incident a resume closed pauses (in a new linked incident), never answers PAUSED over an ACTIVE flag',
    commands: () => [pause({ incident: -1 }), requestResume(0), approveResume(who(1)), pause({ incident: 0 })],
  },
  {
    invariant: 'twoPersonResume',
    name: 'finding 2: the same person through another role (or spelling of their session name) is refused as approver',
    commands: () => [pause(), requestResume(0), approveResume(who(0, 0, 1)), approveResume(who(0, 1, 0)), approveResume(who(0, 2, 1))],
  },
  {
    invariant: 'grantsRestoredOnlyByApproval',
    name: 'finding 3a: a restore nobody approved (a message some other rule enqueued) restores nothing',
    commands: () => [pause({ crashAfter: 1 }), new ForgeRestore({ incidentPick: 0 })],
  },
  {
    invariant: 'approvedRestoreCompletes',
    name: 'finding 3b: a restore approved while revocation still runs restores everything once revocation finishes',
    commands: () => [
      pause({ hold: true }),
      new RequestRestore({ ...who(1), incidentPick: 0 }),
      new ApproveRestore({ ...who(2), requestPick: 1, crashAfter: 0 }),
      new ReleaseHeld(),
    ],
  },
  {
    invariant: 'everyVersionRecorded',
    name: 'finding 4: an anomaly reported MEDIUM (its first delivery crashing) then CRITICAL pauses, with its audit entry and incident',
    commands: () => [anomaly({ severity: 'MEDIUM', crashAfter: 1 }), anomaly({ severity: 'CRITICAL', scope: 0 })],
  },
  {
    invariant: 'twoPersonResume',
    name: 'finding 5: an approval refuses when an incident opened after its request',
    commands: () => [
      anomaly({ severity: 'CRITICAL' }),
      requestResume(0),
      anomaly({ anomaly: 1, severity: 'MEDIUM' }),
      approveResume(who(1)),
    ],
  },
  {
    invariant: 'twoPersonResume',
    name: 'finding 5b: an approval refuses when a CRITICAL anomaly linked to the pause after its request',
    commands: () => [
      anomaly({ severity: 'CRITICAL' }),
      requestResume(0),
      anomaly({ anomaly: 1, severity: 'CRITICAL' }),
      approveResume(who(1)),
    ],
  },
  {
    invariant: 'grantsRestoredOnlyByApproval',
    name: 'finding 6: a Kill Switch Engaged a detector forged revokes nothing',
    commands: () => [new ForgeEngaged({ incidentPick: 0, datasets: [], auto: false })],
  },
  {
    invariant: 'noticesExactlyOnce',
    name: 'finding 6b: a forged Kill Switch Engaged with notify auto sends no notice',
    commands: () => [anomaly({ severity: 'MEDIUM' }), new ForgeEngaged({ incidentPick: 0, datasets: [], auto: true })],
  },
  {
    invariant: 'pausedStaysPaused',
    name: 'finding 7: a HIGH anomaly during a four-hour DynamoDB outage still pauses',
    commands: () => [anomaly({ severity: 'HIGH', scope: 0, outageMinutes: 240 })],
  },
  {
    invariant: 'pausedStaysPaused',
    name: 'finding 7b: a CRITICAL anomaly with an over-long summary and a control character still pauses',
    commands: () => [anomaly({ severity: 'CRITICAL', odd: true })],
  },
  {
    invariant: 'noticesExactlyOnce',
    name: 'finding 9: a notice whose sender crashed on deliveries 1 and 4 is sent, not stranded in SENDING',
    commands: () => [pause(), new Notify({ ...who(0), incidentPick: 0, senderCrashes: [4, 1], after: 1 })],
  },
  {
    invariant: 'everyVersionRecorded',
    name: 'finding 10a: a retried approve-resume after a crash completes the audit entry, resolution and release',
    commands: () => [pause(), requestResume(0), approveResume(who(1), 2)],
  },
  {
    invariant: 'approvedRestoreCompletes',
    name: 'finding 10b: a retried approve-restore after a crash between its decision and queuing the restore queues it',
    commands: () => [
      anomaly({ severity: 'CRITICAL' }),
      new RequestRestore({ ...who(0), incidentPick: 0 }),
      new ApproveRestore({ ...who(1), requestPick: 0, crashAfter: 1 }),
    ],
  },
  {
    invariant: 'immediate',
    name: 'finding 11: an operator pause of a scope the program does not declare is refused and changes nothing',
    commands: () => [pause({ scope: 0 })],
  },
  {
    invariant: 'configuredScopesOnly',
    name: 'finding 11b: an anomaly naming a scope the program does not declare pauses the whole program instead',
    commands: () => [anomaly({ severity: 'HIGH', scope: 4 })],
  },
  {
    invariant: 'collectorsReadNoPersonalData',
    name: 'finding 12: no operator identity or free text reaches the item collectors read',
    commands: () => [pause({ crashAfter: 1 }), requestResume(0), approveResume(who(1)), new Advance(1)],
  },
  {
    invariant: 'everyVersionRecorded',
    name: "model: an escalation reported on another day, whose delivery dies after naming the first report's incident on the flag, records its version on the retry",
    commands: () => [
      anomaly({ anomaly: 1, severity: 'LOW', scope: 0, day: 1 }),
      anomaly({ anomaly: 1, severity: 'HIGH', scope: 0, day: 0, crashAfter: 3 }),
    ],
  },
  {
    invariant: 'noticesExactlyOnce',
    name: 'model: notices reach the employees of datasets an escalation adds to an incident already notified',
    commands: () => [
      anomaly({ severity: 'MEDIUM', datasets: [0] }),
      new Notify({ ...who(0), incidentPick: 0, senderCrashes: [], after: 1 }),
      anomaly({ severity: 'MEDIUM', datasets: [] }),
    ],
  },
  // Found by the attacker's review of the fixes (helper session), then written as sequences here.
  {
    invariant: 'grantsRestoredOnlyByApproval',
    name: "review: a restore approved before an escalation added a dataset never gives back the new dataset's grants",
    commands: () => [
      anomaly({ severity: 'HIGH', datasets: [0] }),
      new RequestRestore({ ...who(0), incidentPick: 0 }),
      new ApproveRestore({ ...who(1), requestPick: 0, crashAfter: 0 }),
      anomaly({ severity: 'CRITICAL', datasets: [0, 1] }),
    ],
  },
  {
    invariant: 'everyVersionRecorded',
    name: 'review: an operator pause naming an incident that was only recorded is recorded by an incident that says it paused',
    commands: () => [anomaly({ severity: 'MEDIUM' }), pause({ incident: 0 })],
  },
  {
    invariant: 'everyVersionRecorded',
    name: 'review: an approval that died after writing the resume, retried after the scope was paused again, records its version',
    commands: () => [
      pause(),
      requestResume(0),
      new ApproveResume({ ...who(1), requestPick: 0, crashAfter: 1, retryLater: true }),
      anomaly({ anomaly: 1, severity: 'CRITICAL' }),
      approveResume(who(1)),
    ],
  },
  {
    invariant: 'everyVersionRecorded',
    name: "model: an approval that died after deciding the request is still owed its record when the requester's own approval is refused",
    commands: () => [
      pause(),
      requestResume(0),
      new ApproveResume({ ...who(1), requestPick: 0, crashAfter: 2, retryLater: true }),
      approveResume(who(0), 1),
    ],
  },
];

/**
 * `onlyOwnInvariant`: enforce only the invariant each regression is about (to show, on the code
 * before the fix, that each fails for its own finding and not for another one found first).
 */
export function regressionSuite(system: SystemFactory, label: string, onlyOwnInvariant = false) {
  describe(`Regressions (${label}): the model's counterexamples, by name`, () => {
    const world = modelWorld();

    it.each(REGRESSIONS)('$name', async ({ commands, invariant }) => {
      const f = fixture();
      const sys = system(world.db, world.facts, [f]);
      await sys.setup(f);
      const model = newModel(f, REGIONS);
      model.view.states = await sys.observe.states(f.programId);
      const real: Real = { sys, enforced: (name) => !onlyOwnInvariant || name === invariant };
      await fc.asyncModelRun(() => ({ model, real }), commands());
      await finish(model, real);
    });
  });
}

regressionSuite(systemV2, 'as deployed');
