import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { startLocalStack, type LocalStack } from '#local/stack.ts';
import { seedDataSubjects, seedGrants, seedPrograms } from '#local/seed.ts';
import { sampleFindingEvent } from '#local/samples.ts';
import { KILLSWITCH_SOURCE } from '#shared/schemas/domain-events.ts';
import { ALICE, drainGateway, operatorCall, putAnomaly } from '../support/local.ts';

/*
 * Privacy of killswitch's own outputs. With every log level on and metrics printed, one whole
 * incident runs (anomaly with an exposed-data sample in its free text, a malformed finding,
 * revocation, notices to every employee); then every log line, metric, bus event and operator
 * alert is scanned.
 */
process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
process.env.POWERTOOLS_METRICS_DISABLED = 'false';
process.env.POWERTOOLS_METRICS_NAMESPACE = 'killswitch';

const EMPLOYEES = 300;
/** What a detector might paste into its free text: a sample of the exposed data itself. */
const EXPOSED_SAMPLE = ['jane.doe@example.org', 'hunter2-Sup3rSecret', '+44 7700 900123'];
const EMPLOYEE_ID = /\bE\d{6}\b/;
const LABELS = {
  keystrokes: 'the keystrokes you typed',
  'mouse-activity': 'your mouse movements and clicks',
  'chat-transcripts': 'transcripts of your chats',
};
const expectedCategories = (i: number) =>
  [['keystrokes'], i % 3 !== 0 ? ['mouse-activity'] : [], i % 2 === 0 ? ['chat-transcripts'] : []].flat().sort();

describe('Privacy of our own outputs: logs, metrics, events and alerts carry ids and counts only', () => {
  let stack: LocalStack;
  const output: string[] = [];
  const alerts: string[] = [];
  let notices: Awaited<ReturnType<typeof drainGateway>> = [];
  const restore: (() => void)[] = [];

  beforeAll(async () => {
    // Capture everything the functions print (Powertools writes JSON lines to stdout and stderr).
    for (const stream of [process.stdout, process.stderr]) {
      const write = stream.write.bind(stream);
      stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
        output.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
        return typeof rest.at(-1) === 'function' ? ((rest.at(-1) as () => void)(), true) : true;
      }) as typeof stream.write;
      restore.push(() => (stream.write = write));
    }
    // Record every operator alert the functions publish.
    const send = SNSClient.prototype.send;
    SNSClient.prototype.send = function (this: SNSClient, command: unknown, ...rest: unknown[]) {
      if (command instanceof PublishCommand) alerts.push(JSON.stringify(command.input));
      return (send as (...a: unknown[]) => unknown).call(this, command, ...rest);
    } as typeof send;
    restore.push(() => (SNSClient.prototype.send = send));

    stack = await startLocalStack({ asyncRetryDelaysMs: [10, 20] });
    await seedPrograms(stack);
    await seedGrants(stack, 5);
    await seedDataSubjects(stack, EMPLOYEES);
    await putAnomaly(stack, {
      anomalyId: 'privacy-1',
      exposure: {
        audience: 'all-staff group',
        principals: ['group:all-staff'],
        window: { start: '2026-11-27T07:00:00Z', end: '2026-11-27T10:00:00Z' },
      },
      summary: `Transcripts readable by all staff, e.g. row 17: ${EXPOSED_SAMPLE.join(' / ')}`,
    });
    await stack.idle();
    // A malformed finding carrying the same sample (rejected: alert and DLQ, never the logs).
    const bad = sampleFindingEvent('macie', { at: new Date(), suffix: 'priv' }) as unknown as { detail: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
    bad.detail.createdAt = EXPOSED_SAMPLE[0];
    stack.bus.emitServiceEvent(bad as never);
    await stack.idle();
    const engaged = stack.bus.journal.find((j) => j.event['detail-type'] === 'Kill Switch Engaged')!;
    const incidentId = (engaged.event.detail as { incidentId: string }).incidentId;
    expect((await operatorCall(stack, ALICE, { action: 'notify', incidentId })).status).toBe(200);
    await stack.idle();
    notices = await drainGateway(stack);
  }, 180_000);
  afterAll(async () => {
    await stack?.stop();
    for (const r of restore.splice(0)) r();
  });

  const logLines = () =>
    output
      .join('')
      .split('\n')
      .filter((l) => l.trim().startsWith('{'));

  it('produced logs, metrics, events, alerts and notices to scan', () => {
    const lines = logLines();
    expect(lines.some((l) => l.includes('"level":"INFO"'))).toBe(true);
    expect(lines.some((l) => l.includes('"_aws"') && l.includes('CloudWatchMetrics'))).toBe(true);
    expect(new Set(stack.bus.journal.filter((j) => j.event.source === KILLSWITCH_SOURCE).map((j) => j.event['detail-type']))).toEqual(
      new Set(['Kill Switch Engaged', 'Grants Revoked', 'Exposure Notices Planned']),
    );
    expect(logLines().some((l) => l.includes('malformed finding rejected'))).toBe(true);
    expect(alerts.length).toBeGreaterThan(1);
    expect(notices.length).toBe(EMPLOYEES);
  });

  it('no log line, metric, event or alert holds the exposed data, a notice text or an employee id', () => {
    const noticeSentences = [...new Set(notices.flatMap((n) => n.text.split(/(?<=\.)\s/).filter((s) => s.length > 60)))].slice(0, 50);
    expect(noticeSentences.length).toBeGreaterThan(3);
    const surfaces: [string, string[]][] = [
      ['log lines and metrics', logLines()],
      // Our own events (the detectors' and AWS's inputs are theirs).
      ['killswitch events', stack.bus.journal.filter((j) => j.event.source === KILLSWITCH_SOURCE).map((j) => JSON.stringify(j.event))],
      ['operator alerts', alerts],
    ];
    for (const [surface, texts] of surfaces) {
      for (const text of texts) {
        for (const sample of EXPOSED_SAMPLE) expect(text, `${surface} hold exposed data`).not.toContain(sample);
        expect(text, `${surface} hold an employee id`).not.toMatch(EMPLOYEE_ID);
        for (const sentence of noticeSentences) expect(text, `${surface} hold notice text`).not.toContain(sentence);
        // Contact data never enters killswitch: the only e-mail address anywhere is the organisation's.
        for (const email of text.match(/[\w.+-]+@[\w-]+\.[\w.]+/g) ?? []) expect(['privacy@example.com']).toContain(email);
      }
    }
  });

  it('no log line names the operator: the session name is a pseudonym there (who did what is in the ledger)', () => {
    const operatorLines = logLines().filter((l) => l.includes('operator action'));
    expect(operatorLines.length).toBeGreaterThan(0);
    for (const line of logLines()) expect(line).not.toContain(ALICE.split('/').slice(-2).join('/'));
    expect(operatorLines.every((l) => /KillswitchOperators\/~[0-9a-f]{12}/.test(l))).toBe(true);
  });

  it("each notice holds only its recipient's own categories", () => {
    for (const n of notices) {
      const i = Number(n.employeeId.slice(1));
      const own = expectedCategories(i);
      expect([...n.categories].sort()).toEqual(own);
      for (const [category, label] of Object.entries(LABELS)) {
        if (own.includes(category)) expect(n.text).toContain(label);
        else expect(n.text, `${n.employeeId} is told about ${category}`).not.toContain(label);
      }
      for (const sample of EXPOSED_SAMPLE) expect(n.text).not.toContain(sample);
    }
  });
});
