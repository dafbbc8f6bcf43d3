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
 * - other local users and processes: every request but the first needs the session cookie, which
 *   only the browser that opened the one-time link holds; the link's token is 256 random bits and
 *   dies on first use (a copy in shell history or on a screen share is worth nothing afterwards);
 * - web pages in the operator's browser (CSRF): the cookie is SameSite=Strict, and a command must
 *   come with the console's own Origin and a custom header that no cross-origin form can send
 *   without a CORS preflight, which this server never grants;
 * - DNS rebinding (evil.example resolving to 127.0.0.1): the Host header must be the console's own;
 * - text from the ledger (reasons, messages) written by someone else: the page sets it as text,
 *   never as markup, and a Content-Security-Policy allows only the console's own script and style.
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
const COOKIE = 'killswitch_console';
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

function cookieOf(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === COOKIE) return value.join('=');
  }
  return undefined;
}

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
  const sessions = new Set<string>();
  let origin = '';
  let host = '';
  const hasSession = (req: IncomingMessage) => {
    const given = cookieOf(req);
    return [...sessions].some((s) => sameSecret(given, s));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) refusal(res, 500, `the console failed: ${(error as Error).message}`);
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // DNS rebinding: a page on another name that resolves here sends its own name as Host.
    if (req.headers.host !== host) return notice(res, 421, 'Wrong address', `Open the console at ${origin}.`);
    const url = new URL(req.url ?? '/', origin);

    if (req.method === 'GET' && url.pathname === '/' && url.searchParams.has('token')) {
      if (oneTime === undefined || !sameSecret(url.searchParams.get('token') ?? undefined, oneTime))
        return notice(
          res,
          403,
          'This link has been used',
          'Each link the console prints opens one session, once. Stop <code>killswitch console</code> and start it again for a new link.',
        );
      oneTime = undefined;
      const session = token();
      sessions.add(session);
      // The token leaves the address bar (and the history) at once.
      return send(res, 303, 'text/plain; charset=utf-8', 'signed in', {
        location: '/',
        'set-cookie': `${COOKIE}=${session}; HttpOnly; SameSite=Strict; Path=/`,
      });
    }
    if (!hasSession(req)) {
      if (url.pathname.startsWith('/api/')) return refusal(res, 401, 'no console session: open the link killswitch console printed');
      return notice(res, 401, 'Not signed in', 'Open the link that <code>killswitch console</code> printed in your terminal.');
    }

    if (req.method === 'GET') {
      if (url.pathname === '/') return send(res, 200, 'text/html; charset=utf-8', options.assets.html);
      if (url.pathname === '/assets/app.js') return send(res, 200, 'text/javascript; charset=utf-8', options.assets.js);
      if (url.pathname === '/assets/app.css') return send(res, 200, 'text/css; charset=utf-8', options.assets.css);
      if (url.pathname === '/assets/icon.svg' || url.pathname === '/favicon.ico')
        return send(res, 200, 'image/svg+xml', options.assets.icon);
      if (url.pathname === '/api/session')
        return send(
          res,
          200,
          'application/json; charset=utf-8',
          JSON.stringify({ identity: options.identity, target: options.target.description, refreshSeconds: options.refreshSeconds ?? 2 }),
        );
      return notice(res, 404, 'Not found', 'The console has no such page.');
    }

    if (req.method === 'POST' && url.pathname === '/api/operator') {
      // CSRF: only the console's own page, by fetch, with its header.
      if (req.headers.origin !== origin || req.headers[CONSOLE_HEADER] !== '1')
        return refusal(res, 403, 'commands are accepted only from the console page itself');
      if (!/^application\/json(;|$)/.test(req.headers['content-type'] ?? '')) return refusal(res, 415, 'a command is JSON');
      const text = await bodyOf(req);
      if (text === undefined) return refusal(res, 413, `a command is at most ${MAX_BODY} bytes`);
      let command: unknown;
      try {
        command = JSON.parse(text);
      } catch {
        return refusal(res, 400, 'the command is not JSON');
      }
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
    return refusal(res, 405, `${req.method} ${url.pathname} is not something the console does`);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  host = `127.0.0.1:${port}`;
  origin = `http://${host}`;
  return {
    url: `${origin}/?token=${oneTime}`,
    origin,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
