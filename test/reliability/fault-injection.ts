import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';

/*
 * Faults injected into the AWS SDK clients' own middleware stacks, in this process: every client
 * the functions create (DynamoDB, SNS, EventBridge) gets two middlewares on its first call.
 *
 * - attempt level (deserialize step, inside the SDK's retry loop, before the request is sent):
 *   throttling, 5xx and timeouts, which the SDK retries, and we count as retries;
 * - entry level (initialize step): some entries of a PublishBatch or PutEvents are left out of the
 *   request and reported back as failed, as SNS and EventBridge do with partial failures.
 *
 * Faults are injected before the service sees the request, so the service's state is never
 * changed by a request the caller believes failed (see the README for what that leaves out).
 */

export interface FaultRates {
  dynamoThrottle: number;
  dynamo5xx: number;
  snsTimeout: number;
  snsEntryFailure: number;
  eventsEntryFailure: number;
  /** Every domain event (type and incident) fails its first PutEvents (so each is retried at least once). */
  eventsFailFirstTry?: boolean;
  /** Employees whose notices SNS always refuses (a poisoned subset: what cannot succeed). */
  poisoned?: (body: string) => boolean;
}

export interface OperationStats {
  operations: number;
  attempts: number;
  retries: number;
  faults: number;
  entries: number;
  entryFaults: number;
  /** Calls that failed after the SDK's retries, by error name. */
  failed: Record<string, number>;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- the SDK's middleware arguments are untyped here */
type Middleware = (
  next: (args: any) => Promise<any>,
  context: { commandName?: string; clientName?: string },
) => (args: any) => Promise<any>;
/* eslint-enable @typescript-eslint/no-explicit-any */
interface Stack {
  add(mw: Middleware, options: { step: 'initialize' | 'deserialize'; name: string; priority?: 'high' | 'low' }): void;
}

const SERVICE: Record<string, string> = {
  DynamoDBClient: 'DynamoDB',
  DynamoDBDocumentClient: 'DynamoDB',
  SNSClient: 'SNS',
  EventBridgeClient: 'EventBridge',
};

export class FaultInjector {
  enabled = false;
  readonly stats = new Map<string, OperationStats>();
  readonly #instrumented = new WeakSet<object>();
  readonly #seenEntries = new Set<string>();
  readonly #restore: (() => void)[] = [];
  #seed: number;

  constructor(
    public rates: FaultRates,
    seed = 1,
  ) {
    this.#seed = seed;
  }

  /** Patch the client classes so that each instance is instrumented on its first `send`. */
  install(): this {
    for (const Client of [DynamoDBClient, DynamoDBDocumentClient, SNSClient, EventBridgeClient]) {
      const proto = Client.prototype as unknown as { send: (...args: unknown[]) => unknown };
      const original = proto.send;
      const instrument = (stack: Stack) => this.#instrument(stack);
      Object.defineProperty(proto, 'send', {
        configurable: true,
        writable: true,
        value: function (this: { middlewareStack: Stack }, ...args: unknown[]) {
          instrument(this.middlewareStack);
          return original.apply(this, args);
        },
      });
      this.#restore.push(() => Object.defineProperty(proto, 'send', { configurable: true, writable: true, value: original }));
    }
    return this;
  }

  uninstall(): void {
    for (const restore of this.#restore.splice(0)) restore();
  }

  #random(): number {
    // Park-Miller: repeatable fault sequences for a given seed.
    this.#seed = (this.#seed * 48_271) % 2_147_483_647;
    return this.#seed / 2_147_483_647;
  }

  #stat(key: string): OperationStats {
    let s = this.stats.get(key);
    if (!s) this.stats.set(key, (s = { operations: 0, attempts: 0, retries: 0, faults: 0, entries: 0, entryFaults: 0, failed: {} }));
    return s;
  }

  #instrument(stack: Stack): void {
    if (this.#instrumented.has(stack)) return;
    this.#instrumented.add(stack);
    const key = (c: { commandName?: string; clientName?: string }) =>
      `${SERVICE[c.clientName ?? ''] ?? c.clientName} ${String(c.commandName).replace(/Command$/, '')}`;

    stack.add(
      (next, context) => async (args) => {
        if (!this.enabled) return next(args);
        const op = key(context);
        const stat = this.#stat(op);
        stat.operations++;
        try {
          if (op === 'SNS PublishBatch') return await this.#partial(stat, next, args, 'PublishBatchRequestEntries');
          if (op === 'EventBridge PutEvents') return await this.#partial(stat, next, args, 'Entries');
          return await next(args);
        } catch (error) {
          const name = (error as Error).name;
          stat.failed[name] = (stat.failed[name] ?? 0) + 1;
          throw error;
        }
      },
      { step: 'initialize', name: 'killswitchFaultsEntries', priority: 'low' },
    );

    stack.add(
      (next, context) => async (args) => {
        if (!this.enabled) return next(args);
        const op = key(context);
        const stat = this.#stat(op);
        stat.attempts++;
        const attempt = Number(/attempt=(\d+)/.exec(String(args.request?.headers?.['amz-sdk-request'] ?? ''))?.[1] ?? 1);
        if (attempt > 1) stat.retries++;
        const r = this.#random();
        const { rates } = this;
        if (op.startsWith('DynamoDB ')) {
          if (r < rates.dynamoThrottle)
            throw this.#fault(
              stat,
              'ProvisionedThroughputExceededException',
              400,
              'client',
              'The level of configured provisioned throughput for the table was exceeded (injected)',
            );
          if (r < rates.dynamoThrottle + rates.dynamo5xx)
            throw this.#fault(stat, 'InternalServerError', 500, 'server', 'Internal server error (injected)');
        } else if (op === 'SNS PublishBatch' && r < rates.snsTimeout) {
          throw this.#fault(stat, 'TimeoutError', undefined, 'client', 'Connection timed out before the request was sent (injected)');
        }
        return next(args);
      },
      { step: 'deserialize', name: 'killswitchFaultsAttempts', priority: 'high' },
    );
  }

  #fault(stat: OperationStats, name: string, status: number | undefined, fault: 'client' | 'server', message: string): Error {
    stat.faults++;
    return Object.assign(new Error(message), { name, $fault: fault, $metadata: status ? { httpStatusCode: status } : {} });
  }

  /** Leave some entries out of the request; report them failed at their positions. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the SDK's middleware arguments are untyped here
  async #partial(stat: OperationStats, next: (args: any) => Promise<any>, args: any, field: 'PublishBatchRequestEntries' | 'Entries') {
    const entries: Record<string, unknown>[] = args.input[field] ?? [];
    stat.entries += entries.length;
    const rate = field === 'Entries' ? this.rates.eventsEntryFailure : this.rates.snsEntryFailure;
    const failing = new Set<number>();
    entries.forEach((e, i) => {
      const poisoned = field === 'PublishBatchRequestEntries' && this.rates.poisoned?.(String(e.Message ?? ''));
      // One domain event = its type and incident (its detail differs between retries: times, counts).
      const event =
        field === 'Entries' ? `${String(e.DetailType)}/${/"incidentId":"([^"]+)"/.exec(String(e.Detail))?.[1] ?? String(e.Detail)}` : '';
      const firstTry = field === 'Entries' && this.rates.eventsFailFirstTry && !this.#seenEntries.has(event);
      if (field === 'Entries') this.#seenEntries.add(event);
      if (poisoned || firstTry || this.#random() < rate) failing.add(i);
    });
    stat.entryFaults += failing.size;
    if (!failing.size) return next(args);
    const kept = entries.filter((_, i) => !failing.has(i));
    const result = kept.length
      ? await next({ ...args, input: { ...args.input, [field]: kept } })
      : { output: field === 'Entries' ? { Entries: [], FailedEntryCount: 0 } : { Successful: [], Failed: [] }, response: {} };
    if (field === 'Entries') {
      const sent = [...(result.output.Entries ?? [])];
      const merged = entries.map((_, i) => (failing.has(i) ? { ErrorCode: 'InternalFailure', ErrorMessage: 'injected' } : sent.shift()));
      return {
        ...result,
        output: { ...result.output, Entries: merged, FailedEntryCount: (result.output.FailedEntryCount ?? 0) + failing.size },
      };
    }
    const failed = [...failing].map((i) => ({
      Id: String(entries[i]!.Id),
      Code: 'InternalError',
      SenderFault: false,
      Message: 'injected',
    }));
    return { ...result, output: { ...result.output, Failed: [...(result.output.Failed ?? []), ...failed] } };
  }
}
