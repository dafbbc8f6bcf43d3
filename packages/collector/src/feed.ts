import { QueryCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';

/** One read of a program's state items, good or failed. */
export type Snapshot =
  /**
   * `at`: performance.now() when the read was sent; `wallAt`: Date.now() then. The items show the
   * state at some instant after that, so freshness counted from the send is never overstated, however
   * long the answer took.
   */
  { ok: true; items: Record<string, unknown>[]; at: number; wallAt: number } | { ok: false; error: string; at: number };

export interface FeedSubscriber {
  refreshIntervalMs: number;
  readTimeoutMs: number;
  onSnapshot(snapshot: Snapshot): void;
}

/**
 * Polls one program's state items for every gate of this process that watches it: one
 * strongly consistent Query per refresh interval (the shortest any subscriber asks for),
 * however many collectors the process runs. Reads run at a fixed rate from a random phase, and
 * a read still in flight is shared rather than doubled (single flight).
 */
export class ProgramStateFeed {
  readonly #subscribers = new Set<FeedSubscriber>();
  #timer: NodeJS.Timeout | undefined;
  #inflight: Promise<Snapshot> | undefined;
  #intervalMs = Infinity;
  #timeoutMs = Infinity;
  #reads = 0;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly programId: string,
  ) {}

  get reads(): number {
    return this.#reads;
  }

  get subscribers(): number {
    return this.#subscribers.size;
  }

  subscribe(subscriber: FeedSubscriber): void {
    this.#subscribers.add(subscriber);
    this.#retune();
  }

  unsubscribe(subscriber: FeedSubscriber): void {
    this.#subscribers.delete(subscriber);
    this.#retune();
  }

  /** Read now, sharing a read already in flight. */
  refresh(): Promise<Snapshot> {
    this.#inflight ??= this.#read().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  #retune(): void {
    const interval = Math.min(...[...this.#subscribers].map((s) => s.refreshIntervalMs));
    this.#timeoutMs = Math.min(...[...this.#subscribers].map((s) => s.readTimeoutMs));
    if (interval === this.#intervalMs) return;
    this.#intervalMs = interval;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (Number.isFinite(interval)) this.#schedule(Math.random() * interval);
  }

  #schedule(delayMs: number): void {
    const due = performance.now() + delayMs;
    this.#timer = setTimeout(() => {
      void this.refresh();
      // Fixed rate: the next read is due one interval after this one was due, not after it ended.
      this.#schedule(Math.max(0, due + this.#intervalMs - performance.now()));
    }, delayMs);
    this.#timer.unref();
  }

  async #read(): Promise<Snapshot> {
    this.#reads++;
    // One controller per read, cleared when the read ends (AbortSignal.timeout would keep every
    // signal and its timer alive until it fires).
    const abort = new AbortController();
    const timeoutMs = this.#timeoutMs;
    const timer = setTimeout(() => abort.abort(new Error(`read timed out after ${timeoutMs} ms`)), timeoutMs);
    let snapshot: Snapshot;
    const [sentAt, sentAtWall] = [performance.now(), Date.now()];
    try {
      const items: Record<string, unknown>[] = [];
      let ExclusiveStartKey: Record<string, AttributeValue> | undefined;
      do {
        // Plain commands: document-client marshalling would nearly double the CPU of every read.
        const page = await this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'programId = :p',
            ExpressionAttributeValues: { ':p': { S: this.programId } },
            ConsistentRead: true,
            ExclusiveStartKey,
          }),
          { abortSignal: abort.signal },
        );
        if (!Array.isArray(page.Items)) throw new Error('malformed Query response: no Items');
        for (const item of page.Items) items.push(unmarshall(item));
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey);
      snapshot = { ok: true, items, at: sentAt, wallAt: sentAtWall };
    } catch (error) {
      snapshot = { ok: false, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error), at: performance.now() };
    } finally {
      clearTimeout(timer);
    }
    for (const s of this.#subscribers) s.onSnapshot(snapshot);
    return snapshot;
  }
}

const feeds = new WeakMap<DynamoDBClient, Map<string, ProgramStateFeed>>();

/** The feed for (client, table, program): shared by every gate built on the same client. */
export function feedFor(client: DynamoDBClient, tableName: string, programId: string): ProgramStateFeed {
  let byKey = feeds.get(client);
  if (!byKey) feeds.set(client, (byKey = new Map()));
  const key = `${tableName}\u0000${programId}`;
  let feed = byKey.get(key);
  if (!feed) byKey.set(key, (feed = new ProgramStateFeed(client, tableName, programId)));
  return feed;
}
