import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import * as z from 'zod';
import { GateOptionsError } from './errors.ts';
import { ProgramIdSchema, ScopeSchema } from './state.ts';
import { evaluate, type Evaluation } from './evaluate.ts';
import { feedFor, type FeedSubscriber, type ProgramStateFeed, type Snapshot } from './feed.ts';

export interface KillSwitchGateOptions {
  /** The ProgramState table (its name or ARN). */
  tableName: string;
  programId: string;
  /**
   * The scopes this collector belongs to, e.g. `['category#keystrokes', 'region#eu-west-1']`. A gate
   * that declares none cannot show it is outside a paused scope, so a pause of any scope of its
   * program stops it. @default []
   */
  scopes?: string[];
  /** How often to read the state. @default 1000 */
  refreshIntervalMs?: number;
  /** After this long without a good read, `allowed()` turns false. @default 3 × refreshIntervalMs */
  maxStalenessMs?: number;
  /** A read that takes longer than this is abandoned and counts as an error. @default refreshIntervalMs */
  readTimeoutMs?: number;
  /**
   * A DynamoDB client (plain or document). Gates built on the same client share one read per
   * interval for the same program. @default one client per process, with at most two attempts per read
   */
  client?: DynamoDBClient | DocumentClientLike;
}

export interface GateState {
  allowed: boolean;
  status: 'ACTIVE' | 'PAUSED' | 'UNKNOWN';
  /** Version of the state item that decided, as last read. */
  version: number | undefined;
  reason: string;
  /** When the last good read completed (ISO), or undefined before the first. */
  checkedAt: string | undefined;
  /** True when the last good read is older than `maxStalenessMs` (or there was none). */
  stale: boolean;
  /** The last read error, if the last read failed. */
  error?: string;
}

export type GateListener = (state: GateState) => void;

/**
 * A DynamoDB document client (`DynamoDBDocumentClient` of `@aws-sdk/lib-dynamodb`), described by
 * shape so this package does not depend on lib-dynamodb: it sends plain commands unchanged.
 */
export interface DocumentClientLike {
  send(...args: never[]): Promise<unknown>;
}

const OptionsSchema = z.object({
  tableName: z.string().min(1),
  programId: ProgramIdSchema,
  scopes: z.array(ScopeSchema).default([]),
  refreshIntervalMs: z.number().int().min(50).max(3_600_000).default(1000),
  maxStalenessMs: z.number().int().min(50).optional(),
  readTimeoutMs: z.number().int().min(10).optional(),
});

let defaultClient: DynamoDBClient | undefined;

/**
 * The collector's half of the kill switch.
 *
 * One strongly consistent Query per refresh interval reads every scope of the program, shared
 * by all gates of this process on the same client; `allowed()` returns a cached boolean (no
 * I/O, no allocation). It fails closed: before the first good read, after a failed read, and
 * once the last good read is older than `maxStalenessMs`, `allowed()` is false. Staleness is
 * checked on every call, on the wall clock (a step back closes the gate until the next read), and
 * by a monotonic timer besides, so neither a busy thread, nor a system suspend, nor a jump of the
 * wall clock in either direction keeps it open.
 *
 * @example
 * const gate = new KillSwitchGate({ tableName, programId: 'mci', scopes: ['category#keystrokes'] });
 * await gate.start();
 * if (gate.allowed()) capture(event);
 */
export class KillSwitchGate implements FeedSubscriber {
  readonly refreshIntervalMs: number;
  readonly readTimeoutMs: number;
  readonly #feed: ProgramStateFeed;
  readonly #programId: string;
  readonly #scopes: string[];
  readonly #maxStalenessMs: number;
  readonly #listeners = new Set<GateListener>();

  #allowed = false;
  #evaluation: Evaluation = { allowed: false, status: 'UNKNOWN', version: undefined, reason: 'not started' };
  #lastGoodAt: number | undefined; // performance.now() of the last good read
  // Until when (wall clock) the last good read counts, and the latest wall-clock time allowed() saw:
  // the wall clock advances while a laptop sleeps (the monotonic one does not), and a step back
  // (the only way it could hide staleness) is seen as one and closes the gate until the next read.
  #wallFreshUntil = 0;
  #wallSeen = 0;
  #checkedAt: string | undefined;
  #error: string | undefined;
  #staleTimer: NodeJS.Timeout | undefined;
  #running = false;

  constructor(options: KillSwitchGateOptions) {
    const parsed = OptionsSchema.safeParse(options);
    if (!parsed.success) throw new GateOptionsError('KillSwitchGate options', parsed.error);
    const o = parsed.data;
    this.#programId = o.programId;
    this.#scopes = o.scopes;
    this.refreshIntervalMs = o.refreshIntervalMs;
    this.#maxStalenessMs = o.maxStalenessMs ?? 3 * o.refreshIntervalMs;
    this.readTimeoutMs = o.readTimeoutMs ?? o.refreshIntervalMs;
    // A document client passes plain commands through unchanged, so either kind works.
    const client = (options.client as DynamoDBClient | undefined) ?? (defaultClient ??= new DynamoDBClient({ maxAttempts: 2 }));
    this.#feed = feedFor(client, o.tableName, o.programId);
  }

  /**
   * The hot path: may this collector collect right now? The last good read's verdict, if that read
   * is still fresh. The deadline is checked here, on every call, rather than by a timer: a timer
   * does not fire while the collector's thread is busy, nor during a system suspend, and the first
   * call after either must already say no. One clock read (the wall clock, which keeps moving
   * through a suspend; a step back closes the gate), no I/O, no allocation.
   */
  allowed(): boolean {
    const now = Date.now();
    if (now < this.#wallSeen) return this.#wallWentBack();
    this.#wallSeen = now;
    return this.#allowed && now < this.#wallFreshUntil;
  }

  /** The wall clock stepped back: whatever it says now, staleness can no longer be told by it. Closed until the next good read. */
  #wallWentBack(): false {
    this.#wallSeen = Date.now();
    this.#wallFreshUntil = 0;
    this.#close('the wall clock stepped back; closed until the next good read');
    return false;
  }

  state(): GateState {
    const stale =
      this.#lastGoodAt === undefined || performance.now() - this.#lastGoodAt > this.#maxStalenessMs || Date.now() >= this.#wallFreshUntil;
    return {
      allowed: this.#allowed && !stale,
      status: this.#evaluation.status,
      version: this.#evaluation.version,
      reason: this.#evaluation.reason,
      checkedAt: this.#checkedAt,
      stale,
      ...(this.#error ? { error: this.#error } : {}),
    };
  }

  /** Reads issued by this gate's feed, which it may share with other gates of the process. */
  get reads(): number {
    return this.#feed.reads;
  }

  /** Called whenever `allowed`, the status or the version changes. Returns an unsubscribe function. */
  onChange(listener: GateListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Subscribe to the program's feed and read once. Resolves after that read, whether or not it
   * succeeded (a failure leaves the gate closed; the feed keeps reading).
   */
  async start(): Promise<GateState> {
    if (this.#running) return this.state();
    this.#running = true;
    this.#feed.subscribe(this);
    await this.#feed.refresh();
    return this.state();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#feed.unsubscribe(this);
    clearTimeout(this.#staleTimer);
    this.#close('stopped');
  }

  /** Read the state now (shared with any read already in flight). */
  async refresh(): Promise<GateState> {
    await this.#feed.refresh();
    return this.state();
  }

  /** @internal Called by the feed after each read. */
  onSnapshot(snapshot: Snapshot): void {
    if (!this.#running) return;
    if (snapshot.ok) {
      this.#lastGoodAt = snapshot.at;
      this.#wallFreshUntil = snapshot.wallAt + this.#maxStalenessMs;
      this.#wallSeen = Math.max(this.#wallSeen, snapshot.wallAt);
      this.#checkedAt = new Date().toISOString();
      this.#error = undefined;
      this.#apply(evaluate(snapshot.items, this.#programId, this.#scopes));
      this.#armStaleness();
    } else {
      this.#error = snapshot.error;
      this.#apply({ ...this.#evaluation, allowed: false, reason: `state unreadable (${snapshot.error})` });
    }
  }

  #armStaleness(): void {
    clearTimeout(this.#staleTimer);
    this.#staleTimer = setTimeout(() => this.#close(`no good read for ${this.#maxStalenessMs} ms`), this.#maxStalenessMs);
    this.#staleTimer.unref();
  }

  #close(reason: string): void {
    this.#apply({ ...this.#evaluation, allowed: false, reason });
  }

  #apply(next: Evaluation): void {
    const before = this.#evaluation;
    this.#evaluation = next;
    this.#allowed = next.allowed;
    if (before.allowed !== next.allowed || before.status !== next.status || before.version !== next.version) {
      const snapshot = this.state();
      for (const listener of this.#listeners) {
        try {
          listener(snapshot);
        } catch {
          // A listener's failure must never affect the gate.
        }
      }
    }
  }
}
