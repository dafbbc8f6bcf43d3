import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OperatorAction, OperatorTarget } from '../targets.ts';

/**
 * `killswitch console`: a web page for the operator, served by the CLI on the operator's own
 * machine. The browser never holds credentials and no new endpoint exists in AWS: the page posts
 * operator commands to this server, which sends them through the CLI's own target (SigV4 and a
 * caller proof with the operator's credentials, or the local stack's `--as`), so every rule the
 * operator function enforces (the two-person rule first) applies unchanged.
 *
 * Who else could reach it, and what stops them:
 * - other machines: it listens on 127.0.0.1 only;
 * - other local users and processes: every command needs the session secret, which only the page
 *   that opened the one-time link holds. The link carries a 256-bit token in its fragment (never
 *   sent in a request line, a log or a Referer); the page trades it, once, for the session secret
 *   and keeps that in sessionStorage, which is scoped to the console's origin, port included. (Not
 *   a cookie: cookies ignore ports, so the browser would hand a console cookie to any other server
 *   on 127.0.0.1, another user's included.) A used link, in a shell history or on a shared screen,
 *   opens nothing;
 * - web pages in the operator's browser (CSRF): they cannot know the secret, and a command must
 *   also come with the console's own Origin and a custom header that no cross-origin page can send
 *   without a CORS preflight, which this server never grants;
 * - DNS rebinding (evil.example resolving to 127.0.0.1): the Host header must be the console's own;
 * - text from the ledger (reasons, messages) written by someone else: the page sets it as text,
 *   never as markup, and a Content-Security-Policy allows only the console's own script and style.
 * The page, its script and its style hold no data and are served to anyone who can connect.
 */

/** The page, its script and its style (see assets.ts). */
export interface ConsoleAssets {
  html: string;
  js: string;
  css: string;
  icon: string;
}

export interface ConsoleOptions {
  target: OperatorTarget;
  /** Who the console acts as (shown on the page; the operator function decides who it really is). */
  identity: string;
  assets: ConsoleAssets;
  /** 0 (the default): a port the system picks. */
  port?: number;
  /** How often the board refreshes itself. */
  refreshSeconds?: number;
}

export interface RunningConsole {
  /** The one-time link: opening it starts the browser's session. */
  url: string;
  origin: string;
  close(): Promise<void>;
}

/** What the page may ask for: the operator's own commands, nothing else (no break-glass: the CLI keeps that). */
export const CONSOLE_ACTIONS: readonly OperatorAction[] = [
  'status',
  'list-incidents',
  'incident',
  'list-requests',
  'pause',
  'request-resume',
  'approve-resume',
  'restore-grants',
  'approve-restore-grants',
  'notify',
  'resend-failed',
];

/** The header a command must carry: a cross-origin page cannot add it without a preflight the console refuses. */
export const CONSOLE_HEADER = 'x-killswitch-console';
const MAX_BODY = 64 * 1024;

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
};

const token = () => randomBytes(32).toString('base64url');
const sameSecret = (given: string | undefined, expected: string) => {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
};

function bearerOf(req: IncomingMessage): string | undefined {
  const match = /^Bearer ([\w-]{1,100})$/.exec(req.headers.authorization ?? '');
  return match?.[1];
}

/** The header every API answer carries: the run's id (see `run`). */
export const CONSOLE_RUN_HEADER = 'x-killswitch-console-run';

function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

const refusal = (res: ServerResponse, status: number, message: string) =>
  send(res, status, 'application/json; charset=utf-8', JSON.stringify({ ok: false, error: { kind: 'REFUSED', message } }));

/** A plain page saying what went wrong and what to do (no script, no untrusted text). */
const notice = (res: ServerResponse, status: number, title: string, text: string) =>
  send(
    res,
    status,
    'text/html; charset=utf-8',
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title} · killswitch console</title></head><body><main><h1>${title}</h1><p>${text}</p></main></body></html>`,
  );

async function bodyOf(req: IncomingMessage): Promise<string | undefined> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function startConsole(options: ConsoleOptions): Promise<RunningConsole> {
  let oneTime: string | undefined = token();
  /**
   * This run's id, given with the session and sent on every API answer: a tab left open after the
   * console stopped can tell that whatever answers on the port now (another user's server) is not it.
   */
  const run = token();
  const sessions = new Set<string>();
  let origin = '';
  let host = '';
  const hasSession = (req: IncomingMessage) => {
    const given = bearerOf(req);
    return [...sessions].some((s) => sameSecret(given, s));
  };
  /** A request from the console's own page, by fetch: its Origin and its header (CSRF). */
  const fromPage = (req: IncomingMessage) => req.headers.origin === origin && req.headers[CONSOLE_HEADER] === '1';
  /** The JSON body of a POST, or why not. */
  const jsonOf = async (req: IncomingMessage, res: ServerResponse): Promise<{ value: unknown } | undefined> => {
    if (!/^application\/json(;|$)/.test(req.headers['content-type'] ?? '')) return void refusal(res, 415, 'a request is JSON');
    const text = await bodyOf(req);
    if (text === undefined) return void refusal(res, 413, `a request is at most ${MAX_BODY} bytes`);
    try {
      return { value: JSON.parse(text) as unknown };
    } catch {
      return void refusal(res, 400, 'the request is not JSON');
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) refusal(res, 500, `the console failed: ${(error as Error).message}`);
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader(CONSOLE_RUN_HEADER, run);
    // DNS rebinding: a page on another name that resolves here sends its own name as Host.
    if (req.headers.host !== host) return notice(res, 421, 'Wrong address', `Open the console at ${origin}.`);
    const url = new URL(req.url ?? '/', origin);

    if (req.method === 'GET') {
      if (url.pathname === '/') return send(res, 200, 'text/html; charset=utf-8', options.assets.html);
      if (url.pathname === '/assets/app.js') return send(res, 200, 'text/javascript; charset=utf-8', options.assets.js);
      if (url.pathname === '/assets/app.css') return send(res, 200, 'text/css; charset=utf-8', options.assets.css);
      if (url.pathname === '/assets/icon.svg' || url.pathname === '/favicon.ico')
        return send(res, 200, 'image/svg+xml', options.assets.icon);
      return notice(res, 404, 'Not found', 'The console has no such page.');
    }
    if (req.method !== 'POST' || (url.pathname !== '/api/session' && url.pathname !== '/api/operator'))
      return refusal(res, 405, `${req.method} ${url.pathname} is not something the console does`);
    if (!fromPage(req)) return refusal(res, 403, 'requests are accepted only from the console page itself');

    if (url.pathname === '/api/session') {
      // The one-time link's token, traded once for the session secret.
      const body = await jsonOf(req, res);
      if (!body) return;
      const given = (body.value as { token?: unknown } | null)?.token;
      if (oneTime === undefined || typeof given !== 'string' || !sameSecret(given, oneTime))
        return refusal(
          res,
          403,
          'this link has been used (each link opens one session, once): stop `killswitch console` and start it again for a new one',
        );
      oneTime = undefined;
      const secret = token();
      sessions.add(secret);
      return send(
        res,
        200,
        'application/json; charset=utf-8',
        JSON.stringify({
          secret,
          run,
          identity: options.identity,
          target: options.target.description,
          refreshSeconds: options.refreshSeconds ?? 2,
        }),
      );
    }

    if (!hasSession(req)) return refusal(res, 401, 'no console session: open the link killswitch console printed');
    const body = await jsonOf(req, res);
    if (!body) return;
    const command = body.value;
    const action = (command as { action?: unknown } | null)?.action;
    if (typeof action !== 'string' || !CONSOLE_ACTIONS.includes(action as OperatorAction))
      return refusal(res, 400, `action must be one of ${CONSOLE_ACTIONS.join(', ')}`);
    // The operator function validates the rest, and decides.
    let answer: unknown;
    try {
      answer = (await options.target.call(command as Parameters<OperatorTarget['call']>[0])).raw;
    } catch (error) {
      answer = { ok: false, error: { kind: 'FAILURE', message: (error as Error).message } };
    }
    return send(res, 200, 'application/json; charset=utf-8', JSON.stringify(answer));
  }

  // A local process holding connections open must not starve the operator's page (slowloris).
  server.headersTimeout = 5_000;
  server.requestTimeout = 10_000;
  server.maxConnections = 64;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  host = `127.0.0.1:${port}`;
  origin = `http://${host}`;
  return {
    url: `${origin}/#token=${oneTime}`,
    origin,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
