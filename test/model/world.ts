import { afterAll, beforeAll } from 'vitest';
import { loadDeploymentConfig } from '#infra/config.ts';
import { startTestDynamo, type TestDynamo } from '../support/dynamo.ts';
import { deployedFacts, type DeployedFacts } from './deployed.ts';

/** What every model suite runs against: one dynalite for all its sequences, and the facts of the synthesized templates. */
export interface ModelWorld {
  db: TestDynamo;
  facts: DeployedFacts;
}

/** Start the world before the suite's tests and stop it after; read its fields inside the tests. */
export function modelWorld(): ModelWorld {
  const world = {} as ModelWorld;
  beforeAll(async () => {
    world.db = await startTestDynamo();
    world.facts = deployedFacts(loadDeploymentConfig());
  }, 120_000);
  afterAll(() => world.db.dynamo.stop());
  return world;
}
