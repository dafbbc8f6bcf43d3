import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleAssets } from '#cli/console-assets.ts';
import { CONSOLE_HEADER, CONSOLE_RUN_HEADER, startConsole, type ConsoleAssets, type RunningConsole } from '#cli/console/server.ts';
import { localTarget } from '#cli/targets.ts';
import { ALICE, BOB, operatorCall } from '../support/local.ts';
import { localStackForCli } from '../support/cli.ts';
import { systemTools } from '../support/system-tools.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ARTEFACTS = join(ROOT, 'test-artifacts/console');

/** An HTTP request with headers fetch would not let a test forge (Host). */
function raw(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('Operator console: a page on 127.0.0.1 that acts with the operator’s own identity', () => {
  const local = localStackForCli({ employees: 12, readers: 2 });
  let assets: ConsoleAssets;
  const running: RunningConsole[] = [];
  const consoleAs = async (as: string) => {
    const stack = local.stack();
    const c = await startConsole({
      target: localTarget({
        operatorUrl: stack.endpoints.operatorUrl,
        lambdaEndpoint: stack.endpoints.lambda,
        stsEndpoint: stack.endpoints.sts,
        as,
        region: stack.config.region,
      }),
      identity: as,
      assets,
      refreshSeconds: 1,
    });
    running.push(c);
    return c;
  };
  beforeAll(async () => {
    assets = await consoleAssets();
  });
  afterAll(async () => {
    await Promise.all(running.map((c) => c.close()));
  });

  /** What the page does with its link: trades the fragment's token for the session, from its own origin. */
  const signIn = (c: RunningConsole, headers: Record<string, string> = { origin: c.origin, [CONSOLE_HEADER]: '1' }) =>
    raw(`${c.origin}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ token: new URL(c.url).hash.replace('#token=', '') }),
    });

  it('opens a session once per link, and refuses everyone without it: other origins, other host names, other actions', async () => {
    const c = await consoleAs(ALICE);
    const link = new URL(c.url);
    expect(link.hostname).toBe('127.0.0.1');
    // The token is in the fragment: a browser never sends it, so no request line or log holds it.
    expect(link.search).toBe('');
    expect(link.hash).toMatch(/^#token=[\w-]{43}$/);
    // The page holds nothing: served to anyone, with a CSP that runs only its own script.
    const page = await raw(`${c.origin}/`, {});
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['set-cookie']).toBeUndefined();
    // DNS rebinding: another name that resolves to 127.0.0.1 is not the console.
    expect((await raw(`${c.origin}/`, { headers: { host: `evil.example:${link.port}` } })).status).toBe(421);
    expect((await raw(`${c.origin}/`, { headers: { host: `localhost:${link.port}` } })).status).toBe(421);

    // The token is traded only by the console's own page (its Origin and header), and only once.
    expect((await signIn(c, { origin: 'https://evil.example', [CONSOLE_HEADER]: '1' })).status).toBe(403);
    expect((await signIn(c, { origin: 'null', [CONSOLE_HEADER]: '1' })).status).toBe(403);
    expect((await signIn(c, { origin: c.origin })).status).toBe(403);
    const first = await signIn(c);
    expect(first.status).toBe(200);
    const session = JSON.parse(first.body) as { secret: string; identity: string };
    expect(session).toMatchObject({ identity: ALICE, secret: expect.stringMatching(/^[\w-]{43}$/) });
    const again = await signIn(c);
    expect(again.status).toBe(403);
    expect(JSON.parse(again.body).error.message).toContain('this link has been used');

    const command = (headers: Record<string, string>, body = JSON.stringify({ action: 'status' })) =>
      raw(`${c.origin}/api/operator`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    const own = { origin: c.origin, [CONSOLE_HEADER]: '1', authorization: `Bearer ${session.secret}` };
    const ok = await command(own);
    expect(JSON.parse(ok.body)).toMatchObject({ ok: true, result: { action: 'status' } });
    // Every answer names this run of the console (the page checks it against its session's).
    expect(ok.headers[CONSOLE_RUN_HEADER]).toBe((session as unknown as { run: string }).run);
    // Without the secret (another local user, a cookie-carrying page on another port), or with a wrong one: nothing.
    expect((await command({ origin: c.origin, [CONSOLE_HEADER]: '1' })).status).toBe(401);
    expect((await command({ ...own, authorization: `Bearer ${'A'.repeat(43)}` })).status).toBe(401);
    // CSRF: another page's origin, no origin, no console header; a form's content type.
    expect((await command({ ...own, origin: 'https://evil.example' })).status).toBe(403);
    expect((await command({ [CONSOLE_HEADER]: '1', authorization: own.authorization })).status).toBe(403);
    expect((await command({ origin: c.origin, authorization: own.authorization })).status).toBe(403);
    expect((await command({ ...own, 'content-type': 'text/plain' })).status).toBe(415);
    // Only the operator's own commands, and nothing large; nothing but the two API routes.
    const other = await command(own, JSON.stringify({ action: 'break-glass' }));
    expect(other.status).toBe(400);
    expect(JSON.parse(other.body).error.message).toContain('action must be one of');
    expect((await command(own, JSON.stringify({ action: 'status', pad: 'x'.repeat(70_000) }))).status).toBe(413);
    expect((await command(own, '{not json')).status).toBe(400);
    expect((await raw(`${c.origin}/api/operator`, { method: 'PUT', headers: own })).status).toBe(405);
    // The operator function still validates and decides: a bad field is named.
    const bad = JSON.parse(
      (await command(own, JSON.stringify({ action: 'pause', programId: 'mci', scope: 'Not A Scope', reason: 'x' }))).body,
    );
    expect(bad).toMatchObject({ ok: false, error: { kind: 'BAD_INPUT' } });
    expect(JSON.stringify(bad.error)).toContain('scope');
  });

  it('`killswitch console` prints its one-time link on 127.0.0.1 and stops on Ctrl-C', async () => {
    const child = spawn(
      process.execPath,
      [join(ROOT, 'bin/killswitch.js'), '--state-dir', local.dir(), '--local', '--as', ALICE, '-o', 'json', 'console'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, KILLSWITCH_STATE_DIR: local.dir() },
      },
    );
    let out = '';
    const line = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0]!);
      });
      child.once('exit', (code) => reject(new Error(`console exited ${code} before printing its link: ${out}`)));
    });
    const printed = JSON.parse(line) as { ok: true; result: { url: string; origin: string } };
    expect(printed.result.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#token=[\w-]{43}$/);
    expect((await signIn({ url: printed.result.url, origin: printed.result.origin, close: async () => {} })).status).toBe(200);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  });

  describe('in a real browser (Playwright driving Debian’s Chromium, headless)', () => {
    let browser: Browser;
    const contexts: BrowserContext[] = [];
    beforeAll(async () => {
      mkdirSync(ARTEFACTS, { recursive: true });
      browser = await chromium.launch({
        executablePath: systemTools('chromium').chromium.executable,
        // Root in CI needs --no-sandbox; the rest keep Chromium off the (closed) network.
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
    }, 16 * 60_000);
    afterAll(async () => {
      await Promise.all(contexts.map((c) => c.close()));
      await browser?.close();
    });
    const open = async (c: RunningConsole): Promise<Page> => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      contexts.push(context);
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      await page.goto(c.url);
      // Signed in, and the token is gone from the address bar.
      expect(page.url()).toBe(`${c.origin}/#/`);
      await page.getByRole('heading', { name: 'Programs', level: 1 }).waitFor();
      (page as Page & { errors: string[] }).errors = errors;
      return page;
    };
    /** axe-core's WCAG 2.x A and AA rules, run in the page; violations listed by rule and element. */
    const axe = async (page: Page) => {
      const source = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
      await page.evaluate(source);
      const result = await page.evaluate(async () => {
        const r = await (
          globalThis as unknown as { axe: { run(o: unknown): Promise<{ violations: { id: string; nodes: { target: string[] }[] }[] }> } }
        ).axe.run({
          runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
        });
        return r.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
      });
      return result;
    };
    const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTEFACTS, `${name}.png`), fullPage: true });

    it('pause, see it on the board, open the incident and its timeline, ask to resume as alice, approve as bob (and not as alice)', async () => {
      const aliceConsole = await consoleAs(ALICE);
      const alice = await open(aliceConsole);
      // The link is spent: another browser that opens it (someone who saw it) gets nothing.
      const intruder = await (await browser.newContext()).newPage();
      contexts.push(intruder.context());
      await intruder.goto(aliceConsole.url);
      await intruder.getByRole('heading', { name: 'Not signed in' }).waitFor();
      expect(await intruder.getByText(/this link has been used/).count()).toBe(1);
      // A reload keeps the session (sessionStorage of the console's origin).
      await alice.reload();
      const mci = alice.getByRole('region', { name: /^mci/ });
      await mci.getByText('Collecting.').waitFor();
      expect(await alice.locator('#who').textContent()).toContain('alice');
      expect(await axe(alice)).toEqual([]);

      // Pause, from the keyboard: focus the button, Enter, type the reason, submit.
      await alice.getByRole('button', { name: 'Pause mci…' }).focus();
      await alice.keyboard.press('Enter');
      const pauseDialog = alice.getByRole('dialog', { name: 'Pause mci' });
      await pauseDialog.waitFor();
      expect(await axe(alice)).toEqual([]);
      await pauseDialog.getByLabel('Reason (required)').fill('console test: the dataset is readable by all staff');
      await pauseDialog.getByRole('button', { name: 'Pause now' }).click();
      await alice
        .locator('#flash')
        .getByText(/^PAUSED: mci\/\* is paused at version \d+/)
        .waitFor();
      await mci.getByText(/scopes paused: collection there is stopped/).waitFor();
      await shot(alice, '1-board-paused');

      // The incident, from the board: its timeline picture, progress, record.
      const row = mci.getByRole('row', { name: /^\* PAUSED/ });
      const incidentId = (await row.getByRole('link').textContent())!;
      expect(incidentId).toMatch(/^inc-/);
      await row.getByRole('link').click();
      await alice.getByRole('heading', { name: `Incident ${incidentId}`, level: 1 }).waitFor();
      const picture = alice.getByRole('img', { name: /Timeline of the incident/ });
      await picture.waitFor();
      // Revocation finishes in the background; the page follows it.
      await alice.getByText(/revoked by this incident/).waitFor({ timeout: 30_000 });
      await picture.locator('circle[data-type="GRANTS_REVOKED"]').waitFor({ timeout: 30_000 });
      expect(await picture.locator('circle[data-type="STATE_CHANGED"]').count()).toBeGreaterThanOrEqual(1);
      expect(await picture.locator('text.lane-label').allTextContents()).toEqual(
        expect.arrayContaining(['Detection', 'Kill switch', 'Access']),
      );
      expect(await alice.getByRole('progressbar', { name: 'Grants revoked' }).count()).toBe(1);
      expect(await axe(alice)).toEqual([]);
      await shot(alice, '2-incident');

      // Ask to resume, as alice.
      await alice.getByRole('button', { name: 'Ask to resume…' }).click();
      const ask = alice.getByRole('dialog', { name: 'Ask to resume mci / *' });
      await ask.getByLabel('Reason (required)').fill('grants revoked and checked; collection may restart');
      await ask.getByRole('button', { name: 'Ask for the resume' }).click();
      await alice
        .locator('#flash')
        .getByText(/^Resume requested \(.+\); it waits for a second person\./)
        .waitFor();

      // Alice cannot approve her own request: the operator API refuses it, and the page says so.
      await alice.getByRole('button', { name: /Approve the resume of mci \* asked by alice/ }).click();
      const selfApprove = alice.getByRole('dialog', { name: 'Approve the resume' });
      await selfApprove.getByRole('button', { name: 'Approve' }).click();
      await selfApprove
        .getByRole('alert')
        .getByText(/must be approved by a different person/)
        .waitFor();
      await shot(alice, '3-self-approval-refused');
      await selfApprove.getByRole('button', { name: 'Cancel' }).click();
      const still = await operatorCall(local.stack(), ALICE, { action: 'status', programId: 'mci' });
      expect(still.body.result.programs[0].scopes.find((s: { scope: string }) => s.scope === '*').status).toBe('PAUSED');

      // Bob, in his own browser with his own console, finds it waiting and approves.
      const bob = await open(await consoleAs(BOB));
      const waiting = bob.getByRole('table', { name: 'Waiting for a second person (mci)' });
      await waiting.waitFor();
      await waiting.getByRole('button', { name: /Approve the resume of mci \* asked by alice/ }).click();
      const approve = bob.getByRole('dialog', { name: 'Approve the resume' });
      await approve.getByLabel('Reason (optional)').fill('checked with alice');
      await approve.getByRole('button', { name: 'Approve' }).click();
      await bob.locator('#flash').getByText('Approved the resume of mci / *.').waitFor();
      await bob
        .getByRole('region', { name: /^mci/ })
        .getByRole('row', { name: /^\* ACTIVE/ })
        .waitFor();
      await shot(bob, '4-board-resumed');

      // The record: paused by alice, resumed by bob, each verified.
      const record = await operatorCall(local.stack(), ALICE, { action: 'incident', incidentId });
      const audit = record.body.result.audit as { status: string; person?: string; verified: boolean }[];
      expect(audit.map((a) => [a.status, a.person, a.verified])).toEqual(
        expect.arrayContaining([
          ['PAUSED', expect.stringContaining('alice'), true],
          ['ACTIVE', expect.stringContaining('bob'), true],
        ]),
      );
      // Alice's board follows, by itself.
      await alice.goto(`${new URL(alice.url()).origin}/#/`);
      await alice.getByRole('region', { name: /^mci/ }).getByText('Collecting.').waitFor();
      expect((alice as Page & { errors: string[] }).errors).toEqual([]);
      expect((bob as Page & { errors: string[] }).errors).toEqual([]);
    }, 180_000);

    it('shows text from the ledger as text: no markup runs, no bidi override reorders the page', async () => {
      const hostile = 'x<img src=x onerror="document.title=`owned`"> \u202Eemuser';
      await operatorCall(local.stack(), ALICE, { action: 'pause', programId: 'mci', scope: 'region#eu-west-1', reason: hostile });
      const own = await consoleAs(ALICE);
      const page = await open(own);
      const why = page.getByRole('region', { name: /^mci/ }).getByRole('row', { name: /^region#eu-west-1 PAUSED/ });
      await why.waitFor();
      const text = await why.textContent();
      expect(text).toContain('x<img src=x onerror=');
      expect(text).toContain('\\u{202e}emuser');
      expect(await page.locator('main img').count()).toBe(0);
      expect(await page.title()).not.toBe('owned');
      // Its console stops: the tab stops refreshing and says so (it never trusts whatever takes the port next).
      await own.close();
      await page.getByText(/The console has stopped/).waitFor({ timeout: 10_000 });
      expect(await page.evaluate('sessionStorage.length')).toBe(0);
    }, 60_000);
  });
});
