import fc from 'fast-check';
import type { TestDynamo } from '../support/dynamo.ts';
import { commandArbitraries, finish, type CommandFamily, type GenerationOptions, type Real } from './commands.ts';
import type { DeployedFacts } from './deployed.ts';
import type { Enforced } from './invariants.ts';
import { newModel, type Model } from './model.ts';
import type { ProgramFixture, SystemUnderTest } from './system.ts';

export type SystemFactory = (db: TestDynamo, facts: DeployedFacts, programs: ProgramFixture[]) => SystemUnderTest;

export const REGIONS = ['eu-west-1'];
let programs = 0;

/** A fresh program per sequence (its own datasets, grants and employees), so sequences share one dynalite. */
export function fixture(): ProgramFixture {
  const programId = `m${++programs}-${process.pid % 1000}`;
  const [a, b] = [`${programId}-a`, `${programId}-b`];
  const role = (name: string) => `arn:aws:iam::111111111111:role/${programId}-${name}`;
  return {
    programId,
    datasetIds: [a, b],
    regions: REGIONS,
    grants: [a, b].flatMap((datasetId) => [
      { datasetId, principal: role('owner'), owner: true },
      { datasetId, principal: role('analyst'), owner: false },
      { datasetId, principal: `group:${programId}-all-staff`, owner: false },
    ]),
    subjects: [
      { datasetId: a, employeeId: `${programId}-e1`, categories: ['keystrokes'] },
      { datasetId: b, employeeId: `${programId}-e2`, categories: ['chat-transcripts'] },
      { datasetId: a, employeeId: `${programId}-e3`, categories: ['keystrokes'] },
      { datasetId: b, employeeId: `${programId}-e3`, categories: ['chat-transcripts'] },
    ],
  };
}

/** The property: any sequence of commands keeps every enforced invariant, to the end. */
export function modelProperty(
  db: TestDynamo,
  facts: DeployedFacts,
  system: SystemFactory,
  enforced: Enforced,
  options: { stats?: Record<string, number>; families?: readonly CommandFamily[]; generation?: GenerationOptions } = {},
) {
  const { stats, families, generation } = options;
  return fc.asyncProperty(fc.commands(commandArbitraries(families, generation), { maxCommands: 14 }), async (commands) => {
    const f = fixture();
    const sys = system(db, facts, [f]);
    await sys.setup(f);
    const model: Model = newModel(f, REGIONS);
    model.view.states = await sys.observe.states(f.programId);
    const real: Real = { sys, enforced };
    await fc.asyncModelRun(() => ({ model, real }), commands);
    await finish(model, real);
    if (stats) for (const [k, v] of Object.entries(model.stats)) stats[k] = (stats[k] ?? 0) + v;
  });
}
