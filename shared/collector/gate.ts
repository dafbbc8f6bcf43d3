import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { performance } from 'node:perf_hooks';
import { ScopeSchema, ProgramIdSchema } from '../schemas/common.ts';
import { parseOrThrow } from '../errors.ts';
import { z } from 'zod';
import { evaluate, type Evaluation } from './evaluate.ts';

export interface KillSwitchGateOptions {
  /** The ProgramState table (its name or ARN). */
  tableName: string;
  programId: string;
  /** The scopes this collector belongs to, e.g. `['category#keystrokes', 'region#eu-west-1']`. @default [] */
  scopes?: string[];
  /** How often to read the state. @default 1000 */
  refreshIntervalMs?: number;
  /** After this long without a good read, `allowed()` turns false. @default 3 × refreshIntervalMs */
  maxStalenessMs?: number;
  /** A read that takes longer than this is abandoned and counts as an error. @default refreshIntervalMs */
  readTimeoutMs?: number;
  /** A DynamoDB client (plain or document); a client with at most two attempts per read by default. */
  client?: DynamoDBClient | DynamoDBDocumentClient;
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

const OptionsSchema = z.object({
  tableName: z.string().min(1),
  programId: ProgramIdSchema,
  scopes: z.array(ScopeSchema).default([]),
  refreshIntervalMs: z.number().int().min(50).max(3_600_000).default(1000),
  maxStalenessMs: z.number().int().min(50).optional(),
  readTimeoutMs: z.number().int().min(10).optional(),
});

/**
 * The collector's half of the kill switch.
 *
 * One strongly consistent Query per refresh interval reads every scope of the program;
 * `allowed()` returns a cached boolean (no I/O, no allocation). It fails closed: before the
 * first good read, after a failed read, and once the last good read is older than
 * `maxStalenessMs`, `allowed()` is false. Staleness runs on a monotonic timer, so a jump of
 * the wall clock changes nothing.
 *
 * @example
 * const gate = new KillSwitchGate({ tableName, programId: 'mci', scopes: ['category#keystrokes'] });
 * await gate.start();
 * if (gate.allowed()) capture(event);
 */
export class KillSwitchGate {
  readonly #client: DynamoDBDocumentClient;
  readonly #tableName: string;
  readonly #programId: string;
  readonly #scopes: string[];
  readonly #refreshMs: number;
  readonly #maxStalenessMs: number;
  readonly #readTimeoutMs: number;
  readonly #listeners = new Set<GateListener>();

  #allowed = false;
  #evaluation: Evaluation = { allowed: false, status: 'UNKNOWN', version: undefined, reason: 'not started' };
  #lastGoodAt: number | undefined; // performance.now() of the last good read
  #checkedAt: string | undefined;
  #error: string | undefined;
  #inflight: Promise<GateState> | undefined;
  #tick: NodeJS.Timeout | undefined;
  #staleTimer: NodeJS.Timeout | undefined;
  #running = false;
  #reads = 0;

  constructor(options: KillSwitchGateOptions) {
    const o = parseOrThrow(OptionsSchema, options, 'KillSwitchGate options');
    this.#tableName = o.tableName;
    this.#programId = o.programId;
    this.#scopes = o.scopes;
    this.#refreshMs = o.refreshIntervalMs;
    this.#maxStalenessMs = o.maxStalenessMs ?? 3 * o.refreshIntervalMs;
    this.#readTimeoutMs = o.readTimeoutMs ?? o.refreshIntervalMs;
    const client = options.client ?? new DynamoDBClient({ maxAttempts: 2 });
    this.#client = client instanceof DynamoDBDocumentClient ? client : DynamoDBDocumentClient.from(client);
  }

  /** The hot path: may this collector collect right now? */
  allowed(): boolean {
    return this.#allowed;
  }

  state(): GateState {
    const stale = this.#lastGoodAt === undefined || performance.now() - this.#lastGoodAt > this.#maxStalenessMs;
    return {
      allowed: this.#allowed,
      status: this.#evaluation.status,
      version: this.#evaluation.version,
      reason: this.#evaluation.reason,
      checkedAt: this.#checkedAt,
      stale,
      ...(this.#error ? { error: this.#error } : {}),
    };
  }

  /** Reads issued since construction (for capacity figures). */
  get reads(): number {
    return this.#reads;
  }

  /** Called whenever `allowed`, the status or the version changes. Returns an unsubscribe function. */
  onChange(listener: GateListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Read once, then keep reading every `refreshIntervalMs` at a fixed rate, starting at a
   * random phase so that many collectors started together do not read in one burst.
   * Resolves after the first read, whether or not it succeeded (a failure leaves the gate closed).
   */
  async start(): Promise<GateState> {
    if (this.#running) return this.state();
    this.#running = true;
    const first = await this.refresh();
    if (this.#running) this.#schedule(Math.random() * this.#refreshMs);
    return first;
  }

  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#tick);
    clearTimeout(this.#staleTimer);
    await this.#inflight?.catch(() => undefined);
    this.#close('stopped');
  }

  /** Read the state now. Concurrent callers share one request. */
  refresh(): Promise<GateState> {
    this.#inflight ??= this.#read().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  #schedule(delayMs: number): void {
    const due = performance.now() + delayMs;
    this.#tick = setTimeout(() => {
      if (!this.#running) return;
      void this.refresh();
      // Fixed rate: the next read is due one interval after this one was due, not after it ended.
      this.#schedule(Math.max(0, due + this.#refreshMs - performance.now()));
    }, delayMs);
    this.#tick.unref();
  }

  async #read(): Promise<GateState> {
    this.#reads++;
    try {
      const items: Record<string, unknown>[] = [];
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const page = await this.#client.send(
          new QueryCommand({
            TableName: this.#tableName,
            KeyConditionExpression: 'programId = :p',
            ExpressionAttributeValues: { ':p': this.#programId },
            ConsistentRead: true,
            ExclusiveStartKey,
          }),
          { abortSignal: AbortSignal.timeout(this.#readTimeoutMs) },
        );
        if (!Array.isArray(page.Items)) throw new Error('malformed Query response: no Items');
        items.push(...page.Items);
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey);
      this.#lastGoodAt = performance.now();
      this.#checkedAt = new Date().toISOString();
      this.#error = undefined;
      this.#apply(evaluate(items, this.#programId, this.#scopes));
      this.#armStaleness();
    } catch (error) {
      this.#error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      this.#apply({ ...this.#evaluation, allowed: false, reason: `state unreadable (${this.#error})` });
    }
    return this.state();
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
