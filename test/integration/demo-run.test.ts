import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoDocumentClient } from '#shared/adapters/aws/clients.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliWith, json } from '../support/cli.ts';

const ROOT = join(import.meta.dirname, '../..');
const TSX = join(ROOT, 'node_modules/tsx/dist/cli.mjs');

/** The demo as `npm run -s demo -- …` runs it; each line of stdout with the order of the chunk it came in. */
function runDemo(args: string[]): Promise<{ code: number | null; lines: { text: string; chunk: number }[]; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TSX, 'local/demo.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, KILLSWITCH_DEMO_DEBUG: '' },
    });
    const lines: { text: string; chunk: number }[] = [];
    let chunk = 0;
    let partial = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (data: string) => {
      chunk++;
      const parts = (partial + data).split('\n');
      partial = parts.pop()!;
      for (const text of parts) lines.push({ text, chunk });
    });
    child.stderr.setEncoding('utf8').on('data', (data: string) => (stderr += data));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, lines: partial ? [...lines, { text: partial, chunk }] : lines, stderr }));
  });
}

describe('npm run demo: the whole incident, told as it happens', () => {
  it('with 1,000 collectors at the default refresh: every collector and agent halts, and each step is printed when it happens', async () => {
    const { code, lines, stderr } = await runDemo(['--collectors', '1000', '--agents', '200', '--employees', '300']);
    expect(code, stderr).toBe(0);
    const at = (pattern: RegExp) => {
      const line = lines.find((l) => pattern.test(l.text));
      expect(line, `a line matching ${pattern}`).toBeDefined();
      return line!.chunk;
    };
    // Setup, the incident and the notices each came out when they happened, not all at the end.
    const setup = at(/· stack up:/);
    const collecting = at(/^1000\/1000 collectors collecting/);
    const engaged = at(/^\s+\d+ ms {2}Kill Switch Engaged on the bus/);
    const sending = at(/^\s+\d+ ms {2}notices: \d+\/300 planned, \d+ sent/);
    const recap = at(/^Timeline \(ms since the event\):$/);
    expect(setup).toBeLessThan(collecting);
    expect(collecting).toBeLessThan(engaged);
    expect(engaged).toBeLessThan(sending);
    expect(sending).toBeLessThan(recap);
    expect(lines.some((l) => /all 1000 collectors halted/.test(l.text))).toBe(true);
    const summary = JSON.parse(lines.filter((l) => l.text.trim()).at(-1)!.text);
    expect(summary).toMatchObject({
      collectors: { total: 1000, halted: 1000 },
      refreshIntervalMs: 250,
      agents: { total: 200, halted: 200, acknowledged: 200 },
      notices: { affected: 300, sent: 300, delivered: 300, duplicates: 0 },
    });
  }, 240_000);

  it('--json --keep: one line on stdout, the figures; the stack stays up for the CLI until Ctrl-C, then stops and clears its record', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'ks-demo-keep-'));
    const child = spawn(
      process.execPath,
      [TSX, 'local/demo.ts', '--json', '--keep', '--collectors', '20', '--agents', '20', '--employees', '50'],
      { cwd: ROOT, env: { ...process.env, KILLSWITCH_STATE_DIR: stateDir } },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    for (let i = 0; i < 1200 && !stdout.endsWith('\n'); i++) await new Promise((r) => setTimeout(r, 100));
    // Nothing but the figures on stdout: `npm run -s demo -- --json | jq` works.
    const lines = stdout.split('\n').filter(Boolean);
    expect(lines, stderr).toHaveLength(1);
    const summary = JSON.parse(lines[0]!);
    expect(summary).toMatchObject({ collectors: { total: 20, halted: 20 }, agents: { total: 20, halted: 20 } });
    const shown = await cliWith(
      {},
      stateDir,
      '--local',
      '--as',
      'arn:aws:sts::111111111111:assumed-role/KillswitchOperators/alice',
      '-o',
      'json',
      'incident',
      'show',
      summary.incidentId,
    );
    expect(shown.code, `${shown.err}${shown.out}`).toBe(0);
    expect(json(shown.out)).toMatchObject({ ok: true, result: { incident: { incidentId: summary.incidentId, status: 'OPEN' } } });
    await theRecordOf(summary.incidentId, stateDir);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(stdout.split('\n').filter(Boolean)).toHaveLength(1);
    expect(existsSync(join(stateDir, 'local.json'))).toBe(false);
  }, 300_000);
});

/**
 * Issue 19's "done when", on the demo's incident as `--keep` leaves it: the PDF report has the
 * timeline and the numbers, the register's CSV lists the incident, one employee's exact notice is
 * shown, verify passes — and fails, naming the entry, after one ledger item is edited by hand.
 */
async function theRecordOf(incidentId: string, stateDir: string): Promise<void> {
  const as = ['--local', '--as', 'arn:aws:sts::111111111111:assumed-role/KillswitchOperators/alice'];
  const cli = (...args: string[]) => cliWith({}, stateDir, ...as, ...args);
  const show = json((await cli('-o', 'json', 'incident', 'show', incidentId)).out) as {
    result: { timeline: { type: string }[]; notices: { sent: number; planned: number }; grants: { revoked: number } };
  };

  const pdfPath = join(stateDir, 'report.pdf');
  const report = await cli('-o', 'pdf', 'incident', 'report', incidentId, '--out', pdfPath);
  expect(report.code, report.err).toBe(0);
  const text = await pdfText(readFileSync(pdfPath));
  expect(text).toContain(`Incident report: ${incidentId}`);
  expect(text).toContain('Timeline');
  for (const type of ['INCIDENT_FACTS', 'STATE_CHANGED', 'GRANTS_REVOKED', 'NOTICES_PLANNED', 'HALT_CONFIRMED'])
    expect(text).toContain(type);
  expect(text).toMatch(new RegExp(`notices sent\\s+${show.result.notices.sent}\\b`));
  expect(text).toMatch(new RegExp(`grants revoked\\s+${show.result.grants.revoked}\\b`));
  expect(text).toContain('Integrity of this record');
  // Every page has content and its footer, and there are no pages of footers alone (an attacker's review found them).
  const pages = text.split('\n');
  pages.forEach((page, i) => expect(page).toContain(`page ${i + 1} of ${pages.length}`));
  expect(pages.every((page) => page.length > 200)).toBe(true);

  const csv = await cli('-o', 'csv', 'register', 'export', '--since', '1h');
  expect(csv.code, csv.err).toBe(0);
  const [header, ...rows] = csv.out.trim().split('\n');
  expect(header).toMatch(/^incidentId,programId,scope,status,severity,openedAt,awareAt,art33DueAt,authorityDecision/);
  expect(rows.filter((r) => r.startsWith(`${incidentId},`))).toHaveLength(1);

  const notice = await cli('-o', 'json', 'notices', 'show', '--incident', incidentId, '--employee', 'E000001');
  expect(notice.code, notice.err).toBe(0);
  expect(json(notice.out)).toMatchObject({ ok: true, result: { entry: { status: 'SENT' }, reproduced: 'EXACT' } });

  const verified = await cli('-o', 'json', 'verify', incidentId);
  expect(verified.code, verified.out).toBe(0);
  expect(json(verified.out)).toMatchObject({ ok: true, result: { status: 'VERIFIED', record: { status: 'MATCHES' } } });

  // One ledger item edited by hand, as an administrator's UpdateItem would: no trace in the data but the chain.
  const state = JSON.parse(readFileSync(join(stateDir, 'local.json'), 'utf8')) as {
    endpoints: { dynamodb: string };
    tables: { ledger: string };
  };
  const doc = dynamoDocumentClient({
    endpoint: state.endpoints.dynamodb,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
  });
  const revoked = (
    await doc.send(
      new QueryCommand({
        TableName: state.tables.ledger,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
        ExpressionAttributeValues: { ':pk': `INCIDENT#${incidentId}`, ':p': 'EVENT#GRANTS_REVOKED' },
      }),
    )
  ).Items![0]!;
  await doc.send(
    new UpdateCommand({
      TableName: state.tables.ledger,
      Key: { pk: revoked.pk, sk: revoked.sk },
      UpdateExpression: 'SET message = :m',
      ExpressionAttributeValues: { ':m': 'no grants were revoked' },
    }),
  );
  const broken = await cli('-o', 'json', 'verify', incidentId);
  expect(broken.code).toBe(1);
  expect(json(broken.out)).toMatchObject({
    ok: true,
    result: { status: 'BROKEN', chains: [{ status: 'BROKEN', broken: { problem: 'EDITED', sk: revoked.sk } }, {}] },
  });
}

/** The text of a PDF, as a reader extracts it (Mozilla's pdf.js). */
async function pdfText(bytes: Buffer): Promise<string> {
  const { getDocument } = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const pdf = await getDocument({ data: new Uint8Array(bytes), useSystemFonts: false, disableFontFace: true, verbosity: 0 }).promise;
  const pages: string[] = [];
  for (let n = 1; n <= pdf.numPages; n++) {
    const content = await (await pdf.getPage(n)).getTextContent();
    pages.push(content.items.map((i) => ('str' in i ? i.str : '')).join(' '));
  }
  return pages.join('\n');
}
