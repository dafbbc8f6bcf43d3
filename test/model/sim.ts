/*
 * Simulation primitives for the model-based test: a virtual clock, queues with the delivery
 * semantics AWS gives them (read from the synthesized templates), and faults injected into the
 * DynamoDB client between the steps of a use case.
 *
 * Nothing here changes what the use cases do: they run unchanged against dynalite; only time,
 * delivery and failure are under the test's control.
 */

/** Time as the use cases see it; moved forward by the test only. */
export class VirtualClock {
  now = Date.parse('2026-12-01T09:00:00.000Z');
  readonly date = (): Date => new Date(this.now);
  advance(ms: number): void {
    this.now += Math.max(0, Math.round(ms));
  }
}

/** How AWS delivers to a consumer: SQS with a visibility timeout and a redrive, or Lambda's asynchronous invocation. */
export type DeliverySemantics = { kind: 'sqs'; visibilityMs: number; maxReceives: number } | { kind: 'async'; retryDelaysMs: number[] };

export const attemptsOf = (s: DeliverySemantics): number => (s.kind === 'sqs' ? s.maxReceives : s.retryDelaysMs.length + 1);
const delayAfter = (s: DeliverySemantics, attempt: number): number =>
  s.kind === 'sqs' ? s.visibilityMs : (s.retryDelaysMs[attempt - 1] ?? s.retryDelaysMs.at(-1) ?? 60_000);

export interface SimMessage<T> {
  id: number;
  body: T;
  receives: number;
  visibleAt: number;
  /** Held back by the test until released: out-of-order delivery. */
  held: boolean;
  /** Fault plans for particular receives (1-based): crash after that many effects. */
  crashes: Map<number, number>;
}

export interface DeadLetter<T> {
  queue: string;
  body: T;
  reason: string;
  receives: number;
}

/** A queue of work with a consumer, delivered at least once in (virtual) time order. */
export class SimQueue<T> {
  readonly messages: SimMessage<T>[] = [];
  readonly dlq: DeadLetter<T>[] = [];
  /** Crashes planned for every message sent from now on: receive number → effects before the crash. */
  crashPlan = new Map<number, number>();
  #next = 0;

  constructor(
    readonly name: string,
    readonly semantics: DeliverySemantics,
    readonly consume: (body: T, receive: number) => Promise<void>,
  ) {}

  send(body: T, at: number, options: { held?: boolean; copies?: number } = {}): SimMessage<T>[] {
    return Array.from({ length: options.copies ?? 1 }, () => {
      const m: SimMessage<T> = {
        id: this.#next++,
        body: structuredClone(body),
        receives: 0,
        visibleAt: at,
        held: options.held ?? false,
        crashes: new Map(this.crashPlan),
      };
      this.messages.push(m);
      return m;
    });
  }

  /** The next message that may be delivered, by visibility time. */
  peek(): SimMessage<T> | undefined {
    let best: SimMessage<T> | undefined;
    for (const m of this.messages) if (!m.held && (!best || m.visibleAt < best.visibleAt)) best = m;
    return best;
  }

  release(): void {
    for (const m of this.messages) m.held = false;
  }

  get pending(): number {
    return this.messages.length;
  }

  /** One receive of `m` at the current time: done, or back after its visibility timeout, or dead-lettered. */
  async deliver(m: SimMessage<T>, now: number, faults: Faults): Promise<void> {
    m.receives++;
    const crashAfter = m.crashes.get(m.receives);
    faults.beginDelivery(crashAfter);
    try {
      await this.consume(structuredClone(m.body), m.receives);
      this.#remove(m);
    } catch (error) {
      if (m.receives >= attemptsOf(this.semantics)) {
        this.#remove(m);
        this.dlq.push({ queue: this.name, body: m.body, reason: errorText(error), receives: m.receives });
      } else {
        m.visibleAt = now + delayAfter(this.semantics, m.receives);
      }
    } finally {
      faults.endDelivery();
    }
  }

  /** Dead-letter at once (a consumer that knows a message can never succeed). */
  deadLetter(body: T, reason: string): void {
    this.dlq.push({ queue: this.name, body, reason, receives: 0 });
  }

  #remove(m: SimMessage<T>): void {
    const i = this.messages.indexOf(m);
    if (i >= 0) this.messages.splice(i, 1);
  }
}

export const errorText = (error: unknown): string => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

/** The process died after an effect: nothing it would have done next happens. */
export class Crash extends Error {
  constructor(after: number) {
    super(`injected crash after ${after} effects`);
    this.name = 'Crash';
  }
}

/** DynamoDB answering 503 to everything (a regional outage, as the SDK sees it after its retries). */
export class Outage extends Error {
  readonly $retryable = {};
  constructor() {
    super('Service Unavailable (injected outage)');
    this.name = 'ServiceUnavailableException';
  }
}

const WRITES = new Set([
  'PutCommand',
  'UpdateCommand',
  'BatchWriteCommand',
  'DeleteCommand',
  'PutItemCommand',
  'UpdateItemCommand',
  'BatchWriteItemCommand',
]);

/**
 * Faults between the steps of a use case. An *effect* is a write the service applied (DynamoDB
 * write, event published, message queued, alert sent); a crash after the k-th effect of a delivery
 * lets that write land and then kills the delivery: every later call of the same delivery fails too
 * (a dead process runs no catch blocks). An outage fails every DynamoDB call until a virtual time.
 */
export class Faults {
  #crashAfter: number | undefined;
  #effects = 0;
  #dead = false;
  outageUntil = 0;
  crashes = 0;

  constructor(private readonly clock: VirtualClock) {}

  beginDelivery(crashAfter: number | undefined): void {
    this.#crashAfter = crashAfter;
    this.#effects = 0;
    this.#dead = false;
  }

  endDelivery(): void {
    this.#crashAfter = undefined;
    this.#dead = false;
  }

  /** Run `call` as one effect (or a read when `effect` is false). */
  async around<R>(effect: boolean, dynamo: boolean, call: () => Promise<R>): Promise<R> {
    if (this.#dead) throw new Crash(this.#effects);
    if (dynamo && this.clock.now < this.outageUntil) throw new Outage();
    const out = await call();
    if (effect) {
      this.#effects++;
      if (this.#crashAfter !== undefined && this.#effects >= this.#crashAfter) {
        this.#dead = true;
        this.crashes++;
        throw new Crash(this.#effects);
      }
    }
    return out;
  }

  /** Route every `send` of a DynamoDB (document) client through the faults. */
  instrument<C extends { send: (...args: never[]) => Promise<unknown> }>(client: C): C {
    const original = client.send.bind(client) as (...args: unknown[]) => Promise<unknown>;
    (client as unknown as { send: (...args: unknown[]) => Promise<unknown> }).send = (...args: unknown[]) => {
      const name = (args[0] as { constructor: { name: string } }).constructor.name;
      return this.around(WRITES.has(name), true, () => original(...args));
    };
    return client;
  }
}
