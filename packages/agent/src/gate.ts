import { verifyStateDocument, REJECT_REASONS, type Jwks, type RejectReason, type ScopeStatus } from './document.ts';
import { AckSender, type AckOptions } from './ack.ts';

/** Where the agent keeps `H`, the highest `seq` it has accepted (docs/state-feed.md §5: it must survive restarts). */
export interface SeqStore {
  load(): Promise<number>;
  save(seq: number): Promise<void>;
}

/** Only for tests and short-lived tools: `H` is lost on restart. Agents use `fileSeqStore` (Node.js) or their own. */
export const memorySeqStore = (initial = 0): SeqStore => {
  let seq = initial;
  return { load: async () => seq, save: async (s) => void (seq = s) };
};

export interface AgentGateOptions {
  /** The feed's root, e.g. `https://d111111abcdef8.cloudfront.net/`: the document is `state/<programId>.jws`, the keys `keys.json`. */
  feedUrl: string;
  programId: string;
  /** This agent's scopes, e.g. `['category#keystrokes', 'region#eu-west-1']`. @default [] (any paused scope stops it) */
  scopes?: string[];
  /** How often to fetch the document. @default 2000 */
  refreshIntervalMs?: number;
  /** A fetch that takes longer is abandoned and counts as a failure. @default refreshIntervalMs */
  requestTimeoutMs?: number;
  /** `S` of the specification. @default 60 */
  maxClockSkewSeconds?: number;
  /** Where `H` is kept. Required: an agent that forgets `H` can be rolled back (docs/state-feed.md §6). */
  seqStore: SeqStore;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Acknowledge what this agent applied (docs/state-feed.md §7). */
  ack?: AckOptions;
}

export type AgentRejection = RejectReason | 'FETCH_FAILED';

export interface AgentState {
  allowed: boolean;
  status: ScopeStatus | 'UNKNOWN';
  /** `seq` of the accepted document, if any. */
  seq: number | undefined;
  /** Version of the scope that decided. */
  version: number | undefined;
  /** Why the agent may or may not collect. */
  reason: string;
  /** The accepted document's remaining validity, in ms (0 when none). */
  validForMs: number;
  /** Rejected documents and failed fetches since start, by reason. */
  rejections: Record<AgentRejection, number>;
}

export type AgentListener = (state: AgentState) => void;

interface Fetched {
  status: number;
  body: string;
  date: number;
  etag?: string;
}

const zeroCounts = () => Object.fromEntries([...REJECT_REASONS, 'FETCH_FAILED'].map((r) => [r, 0])) as Record<AgentRejection, number>;
const unref = (t: ReturnType<typeof setTimeout>) => (t as { unref?: () => void }).unref?.();

/**
 * The endpoint agent's half of the kill switch: the collector gate's contract (`start`, a
 * synchronous `allowed()`, `state()`, `onChange`) over the signed state feed instead of DynamoDB.
 *
 * It fails closed: `allowed()` is false before the first accepted document, as soon as a fetched
 * document is rejected (bad signature or key, wrong program, expired, not yet valid, older than one
 * already accepted), and once the accepted document's validity has run out — counted from the
 * moment its fetch was sent, on the monotonic clock, bounded by the server's `Date`, so an agent's
 * wall clock that is wrong by hours changes nothing. No I/O and no allocation in `allowed()`.
 *
 * @example
 * const gate = new AgentGate({ feedUrl, programId: 'mci', scopes: ['category#keystrokes'], seqStore: fileSeqStore(path) });
 * await gate.start();
 * if (gate.allowed()) capture(event);
 */
export class AgentGate {
  readonly refreshIntervalMs: number;
  readonly #o: Required<Omit<AgentGateOptions, 'ack' | 'scopes'>> & { scopes: string[] };
  readonly #listeners = new Set<AgentListener>();
  readonly #rejections = zeroCounts();
  readonly #ack: AckSender | undefined;
  #allowed = false;
  #status: AgentState['status'] = 'UNKNOWN';
  #seq: number | undefined;
  #version: number | undefined;
  #reason = 'not started';
  #highest = 0;
  #monoUntil = 0; // performance.now() until which the accepted document is valid
  #wallUntil = 0; // the same instant on the wall clock (which keeps moving through a suspend)
  #wallSeen = 0;
  #jwks: Jwks | undefined;
  #jwksAt = -Infinity;
  #etag: string | undefined;
  #cachedToken: string | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #expiry: ReturnType<typeof setTimeout> | undefined;
  #inflight: Promise<void> | undefined;
  #running = false;
  fetches = 0;

  constructor(options: AgentGateOptions) {
    const problems: string[] = [];
    try {
      new URL(options.feedUrl);
    } catch {
      problems.push('feedUrl: must be an absolute URL');
    }
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(options.programId ?? '')) problems.push('programId: must be a program id');
    const refresh = options.refreshIntervalMs ?? 2000;
    if (!Number.isInteger(refresh) || refresh < 50) problems.push('refreshIntervalMs: must be an integer of 50 or more');
    if (!options.seqStore) problems.push('seqStore: required (fileSeqStore(path) on Node.js)');
    for (const s of options.scopes ?? [])
      if (!/^(\*|[a-z][a-z0-9-]{0,31}#[A-Za-z0-9._-]{1,64})$/.test(s)) problems.push(`scopes: ${JSON.stringify(s)} is not a scope`);
    if (problems.length) throw new TypeError(`invalid AgentGate options: ${problems.join('; ')}`);
    const fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.refreshIntervalMs = refresh;
    this.#o = {
      feedUrl: options.feedUrl.endsWith('/') ? options.feedUrl : `${options.feedUrl}/`,
      programId: options.programId,
      scopes: options.scopes ?? [],
      refreshIntervalMs: refresh,
      requestTimeoutMs: options.requestTimeoutMs ?? refresh,
      maxClockSkewSeconds: options.maxClockSkewSeconds ?? 60,
      seqStore: options.seqStore,
      fetch: fetchFn,
    };
    this.#ack = options.ack ? new AckSender(options.ack, options.programId, fetchFn) : undefined;
  }

  /** The hot path: one wall-clock read, no I/O, no allocation. */
  allowed(): boolean {
    const now = Date.now();
    if (now < this.#wallSeen) {
      // The wall clock stepped back: it can no longer tell how old the document is.
      this.#wallSeen = now;
      this.#wallUntil = 0;
      this.#close('the wall clock stepped back; closed until the next accepted document');
      return false;
    }
    this.#wallSeen = now;
    return this.#allowed && now < this.#wallUntil;
  }

  state(): AgentState {
    const left = Math.max(0, Math.min(this.#monoUntil - performance.now(), this.#wallUntil - Date.now()));
    return {
      allowed: this.#allowed && left > 0,
      status: this.#status,
      seq: this.#seq,
      version: this.#version,
      reason: this.#allowed && left <= 0 ? 'the accepted document has expired' : this.#reason,
      validForMs: this.#seq === undefined ? 0 : left,
      rejections: { ...this.#rejections },
    };
  }

  onChange(listener: AgentListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Load `H`, fetch once and start polling. Resolves after the first fetch, good or not. */
  async start(): Promise<AgentState> {
    if (this.#running) return this.state();
    this.#running = true;
    this.#highest = await this.#o.seqStore.load();
    await this.refresh();
    this.#schedule(Math.random() * this.refreshIntervalMs);
    this.#ack?.startHeartbeat(() => this.state());
    return this.state();
  }

  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    clearTimeout(this.#expiry);
    this.#ack?.stop();
    this.#close('stopped');
  }

  /** Fetch now (shared with a fetch already in flight). */
  async refresh(): Promise<AgentState> {
    this.#inflight ??= this.#poll().finally(() => (this.#inflight = undefined));
    await this.#inflight;
    return this.state();
  }

  #schedule(delayMs: number): void {
    if (!this.#running) return;
    const due = performance.now() + delayMs;
    this.#timer = setTimeout(() => {
      void this.refresh();
      this.#schedule(Math.max(0, due + this.refreshIntervalMs - performance.now()));
    }, delayMs);
    unref(this.#timer);
  }

  async #get(path: string, etag?: string): Promise<Fetched> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.#o.requestTimeoutMs);
    try {
      const res = await this.#o.fetch(new URL(path, this.#o.feedUrl), {
        headers: etag ? { 'if-none-match': etag } : {},
        signal: abort.signal,
      });
      // D = Date + Age (docs/state-feed.md §5): a cache keeps the origin's Date and counts its holding time in Age.
      const age = /^\d{1,9}$/.test(res.headers.get('age') ?? '') ? Number(res.headers.get('age')) * 1000 : 0;
      const date = Date.parse(res.headers.get('date') ?? '') + age;
      const body = res.status === 304 ? '' : await res.text();
      if (res.status !== 200 && res.status !== 304) throw new Error(`GET ${path}: HTTP ${res.status}`);
      if (!Number.isFinite(date)) throw new Error(`GET ${path}: no Date header`);
      return {
        status: res.status,
        body,
        date: Math.floor(date / 1000),
        ...(res.headers.get('etag') ? { etag: res.headers.get('etag')! } : {}),
      };
    } finally {
      clearTimeout(timer);
    }
  }

  async #keys(force: boolean): Promise<Jwks> {
    if (this.#jwks && !force) return this.#jwks;
    // A forced re-read (an unknown kid: a rotation) at most once a minute, so a forged kid cannot make every poll fetch twice.
    if (this.#jwks && performance.now() - this.#jwksAt < 60_000) return this.#jwks;
    const { body } = await this.#get('keys.json');
    this.#jwks = JSON.parse(body) as Jwks;
    this.#jwksAt = performance.now();
    return this.#jwks;
  }

  async #poll(): Promise<void> {
    this.fetches++;
    const [sentMono, sentWall] = [performance.now(), Date.now()];
    let fetched: Fetched;
    let jwks: Jwks;
    try {
      jwks = await this.#keys(false);
      fetched = await this.#get(`state/${this.#o.programId}.jws`, this.#cachedToken ? this.#etag : undefined);
    } catch (error) {
      this.#rejections.FETCH_FAILED++;
      // The accepted document stays valid until it expires: a failed fetch alone does not stop the agent.
      if (this.#seq === undefined) this.#close(`no document yet (${error instanceof Error ? error.message : String(error)})`);
      return;
    }
    const token = fetched.status === 304 ? this.#cachedToken! : fetched.body.trim();
    const verify = (keys: Jwks) =>
      verifyStateDocument(token, keys, {
        programId: this.#o.programId,
        serverTime: fetched.date,
        highestSeq: this.#highest,
        maxClockSkewSeconds: this.#o.maxClockSkewSeconds,
        scopes: this.#o.scopes,
      });
    let result = await verify(jwks);
    if (!result.valid && result.error === 'UNKNOWN_KID') {
      try {
        result = await verify(await this.#keys(true));
      } catch {
        // keep the first result
      }
    }
    if (!this.#running && this.#seq !== undefined) return;
    if (!result.valid) {
      this.#rejections[result.error]++;
      this.#cachedToken = undefined;
      this.#close(`document rejected: ${result.error} (${result.detail})`);
      return;
    }
    this.#cachedToken = token;
    this.#etag = fetched.etag;
    if (result.seq > this.#highest) {
      // Persist H before acting on the document that raised it (docs/state-feed.md §5).
      await this.#o.seqStore.save(result.seq);
      this.#highest = result.seq;
    }
    const validMs = result.validForSeconds * 1000;
    this.#monoUntil = sentMono + validMs;
    this.#wallUntil = sentWall + validMs;
    this.#wallSeen = Math.max(this.#wallSeen, sentWall);
    clearTimeout(this.#expiry);
    this.#expiry = setTimeout(() => this.#close('the accepted document has expired'), Math.max(0, this.#monoUntil - performance.now()));
    unref(this.#expiry);
    this.#apply({
      allowed: result.allowed,
      status: result.status,
      seq: result.seq,
      version: result.version,
      reason: result.allowed ? `ACTIVE (seq ${result.seq})` : `PAUSED (${result.pausedScope ?? '*'}, seq ${result.seq})`,
    });
  }

  #close(reason: string): void {
    this.#apply({ allowed: false, status: this.#status, seq: this.#seq, version: this.#version, reason });
  }

  #apply(next: {
    allowed: boolean;
    status: AgentState['status'];
    seq: number | undefined;
    version: number | undefined;
    reason: string;
  }): void {
    const changed = next.allowed !== this.#allowed || next.status !== this.#status || next.seq !== this.#seq;
    this.#allowed = next.allowed;
    this.#status = next.status;
    this.#seq = next.seq;
    this.#version = next.version;
    this.#reason = next.reason;
    if (!changed) return;
    const snapshot = this.state();
    this.#ack?.send(snapshot, 'change');
    for (const listener of this.#listeners) {
      try {
        listener(snapshot);
      } catch {
        // A listener's failure must never affect the gate.
      }
    }
  }
}
