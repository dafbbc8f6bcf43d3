/*
 * Hunt for counterexamples and print the shrunk sequence that breaks each promise:
 *
 *   npx tsx test/model/discover.ts [runs]              every invariant, one at a time, all commands
 *   npx tsx test/model/discover.ts findings [runs]     the twelve findings of issue 13, each hunted
 *                                                      with the command families that can reach it
 * (Commit 2336c29 has the same hunt against the code as it was before issue 13: FINDINGS.md.)
 *
 * The test (killswitch.model.test.ts) enforces every invariant at once; this finds each one's
 * shortest counterexample, which is what a named regression test is made from.
 */
import fc from 'fast-check';
import { loadDeploymentConfig } from '#infra/config.ts';
import { startTestDynamo } from '../support/dynamo.ts';
import type { CommandFamily, GenerationOptions } from './commands.ts';
import { deployedFacts } from './deployed.ts';
import { INVARIANTS, type InvariantName } from './invariants.ts';
import { modelProperty, type SystemFactory } from './run.ts';

// Never AWS: the emulator's dummy credentials, as in the tests.
await import('../setup.ts');

interface Hunt {
  name: string;
  invariant: InvariantName;
  families?: CommandFamily[];
  generation?: GenerationOptions;
}

/** The review's twelve findings (the gate's is hunted by gate.model.test.ts, IAM by the template tests). */
const FINDINGS: Hunt[] = [
  { name: '1 a pause that says PAUSED and pauses nothing', invariant: 'pausedStaysPaused', families: ['pause', 'resume'] },
  { name: '2 one person passes the two-person rule', invariant: 'twoPersonResume', families: ['pause', 'resume'] },
  { name: '3a grants restored without approval', invariant: 'grantsRestoredOnlyByApproval', families: ['pause', 'forgeRestore'] },
  {
    name: '3b a restore approved during revocation leaves grants revoked',
    invariant: 'approvedRestoreCompletes',
    families: ['pause', 'restore', 'time'],
    generation: { spellings: false },
  },
  { name: '4 escalation pauses silently', invariant: 'everyVersionRecorded', families: ['anomaly'] },
  {
    name: '5 an approval resumes over a newer incident',
    invariant: 'twoPersonResume',
    families: ['anomaly', 'resume'],
    generation: { spellings: false, declaredScopesOnly: true },
  },
  { name: '6 a detector can forge Kill Switch Engaged', invariant: 'grantsRestoredOnlyByApproval', families: ['anomaly', 'forgeEngaged'] },
  { name: '6b a forged Kill Switch Engaged sends notices', invariant: 'noticesExactlyOnce', families: ['anomaly', 'forgeEngaged'] },
  {
    name: '7 a CRITICAL anomaly can be lost',
    invariant: 'pausedStaysPaused',
    families: ['anomaly'],
    generation: { declaredScopesOnly: true },
  },
  { name: '9 a notice stuck in SENDING', invariant: 'noticesExactlyOnce', families: ['pause', 'notify'] },
  {
    name: '10a a retried approve-resume skips steps',
    invariant: 'everyVersionRecorded',
    families: ['pause', 'resume'],
    generation: { spellings: false, crashes: 'often' },
  },
  {
    name: '10b a retried approve-restore queues nothing',
    invariant: 'approvedRestoreCompletes',
    families: ['anomaly', 'restore'],
    generation: { spellings: false, declaredScopesOnly: true, crashes: 'often' },
  },
  { name: '11 mistyped scopes accepted', invariant: 'immediate', families: ['pause'] },
  { name: '11b an anomaly pauses a scope nobody declared', invariant: 'configuredScopesOnly', families: ['anomaly'] },
  { name: '12 operator identity and free text in what collectors read', invariant: 'collectorsReadNoPersonalData', families: ['pause'] },
];

const [mode, count] = process.argv[2] === 'findings' ? ['findings', process.argv[3]] : ['invariants', process.argv[2]];
const runs = Number(count ?? 300);
const seed = Number(process.env.MODEL_SEED ?? 4242);
const system: SystemFactory = (await import('./system-v2.ts')).systemV2;
const hunts: Hunt[] =
  mode === 'findings' ? FINDINGS : (Object.keys(INVARIANTS) as InvariantName[]).map((invariant) => ({ name: invariant, invariant }));

const db = await startTestDynamo();
const facts = deployedFacts(loadDeploymentConfig());
console.log(`deployed: ${JSON.stringify(facts)}`);
for (const hunt of hunts.filter((h) => !process.env.MODEL_ONLY || h.name.startsWith(process.env.MODEL_ONLY))) {
  const started = Date.now();
  const property = modelProperty(db, facts, system, (n) => n === hunt.invariant, { families: hunt.families, generation: hunt.generation });
  const result = await fc.check(property, { numRuns: runs, seed });
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  if (!result.failed) {
    console.log(`\n✓ ${hunt.name}: [${hunt.invariant}] held over ${result.numRuns} sequences (${seconds} s)`);
    continue;
  }
  console.log(
    `\n✗ ${hunt.name}: [${hunt.invariant}] broken after ${result.numRuns} sequences, shrunk ${result.numShrinks} times (${seconds} s); seed ${result.seed}, path ${result.counterexamplePath}`,
  );
  console.log(`  ${String(result.counterexample?.[0])}`);
  console.log(`  ${(result.errorInstance as Error | undefined)?.message ?? String(result.errorInstance)}`);
}
await db.dynamo.stop();
