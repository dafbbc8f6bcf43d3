import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '#local/stack.ts';
import { seedPrograms } from '#local/seed.ts';
import { sampleFindingPath } from '#local/samples.ts';
import { writeLocalState } from '#cli/local.ts';
import { anomalyIdOf } from '#shared/findings/normalise.ts';
import { cli } from '../support/cli.ts';
import { ledgerOf } from '../support/local.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const CORPUS = join(import.meta.dirname, '../fixtures/aws-events');

describe('Local stack: a Security Hub OCSF finding ("Findings Imported V2"), sent with the CLI', () => {
  let stack: LocalStack;
  let dir: string;

  beforeAll(async () => {
    stack = await startLocalStack({ asyncRetryDelaysMs: [10, 20] });
    await seedPrograms(stack);
    dir = mkdtempSync(join(tmpdir(), 'ks-ocsf-'));
    writeLocalState(dir, stack);
  }, 120_000);
  afterAll(() => stack?.stop());

  it('pauses the program: killswitch --local events send --file local/samples/securityhub-ocsf-finding.json', async () => {
    const file = sampleFindingPath('securityhub-ocsf');
    const sent = await cli(dir, '--local', 'events', 'send', '--file', file);
    expect(sent).toMatchObject({ code: 0, out: expect.stringMatching(/^event .* put on default \(as aws\.securityhub\)$/) });
    await stack.idle();
    const event = JSON.parse(readFileSync(file, 'utf8')) as Json;
    expect(stack.bus.journal.find((j) => j.event.id === event.id)?.rules).toEqual(['FindingTriggersSecurityHubOcsfRule']);
    const { state, incidents } = ledgerOf(stack);
    expect((await state.get('mci', '*'))?.state).toMatchObject({ status: 'PAUSED', trigger: 'ANOMALY' });
    const anomalyId = anomalyIdOf('securityhub-ocsf', event.detail.findings[0].finding_info.uid);
    expect(anomalyId.startsWith('securityhub:')).toBe(true);
    expect((await incidents.list('mci', 10)).find((i) => i.anomalyId === anomalyId)).toMatchObject({
      detector: 'aws.securityhub',
      severity: 'CRITICAL',
      action: 'PAUSED',
      kind: 'data-exposure',
      datasetIds: ['keystrokes'],
    });
  });

  it('leaves a suppressed OCSF finding (a real one, from the corpus) to nobody: nothing changes', async () => {
    const { state } = ledgerOf(stack);
    const version = (await state.get('mci', '*'))?.state.version;
    const suppressed = join(CORPUS, 'securityhub/ocsf-guardduty-cloudtrail-disabled-suppressed.json');
    expect((await cli(dir, '--local', 'events', 'send', '--file', suppressed)).code).toBe(0);
    await stack.idle();
    expect((await state.get('mci', '*'))?.state.version).toBe(version);
  });
});
