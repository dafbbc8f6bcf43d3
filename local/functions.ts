import { randomUUID } from 'node:crypto';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { LocalFunctionSpec } from './system.ts';

export type LambdaHandler = (event: unknown, context: LambdaContext) => Promise<unknown>;

export interface LambdaContext {
  functionName: string;
  functionVersion: string;
  invokedFunctionArn: string;
  memoryLimitInMB: string;
  awsRequestId: string;
  logGroupName: string;
  logStreamName: string;
  callbackWaitsForEmptyEventLoop: boolean;
  getRemainingTimeInMillis(): number;
}

interface Registered {
  spec: LocalFunctionSpec;
  arn: string;
  handler: LambdaHandler;
  dlqUrl?: string;
}

export interface InvocationRecord {
  function: string;
  requestId: string;
  attempt: number;
  ok: boolean;
  error?: string;
  startedAt: number;
  endedAt: number;
}

/**
 * Runs the functions' real handlers in-process, with Lambda's invocation semantics:
 * synchronous invokes return the result or the error; asynchronous invokes (what EventBridge
 * does) are retried twice on error and then sent to the function's DLQ with the error, as
 * Lambda does. Retry delays are scaled down from Lambda's minutes to milliseconds.
 */
export class LocalFunctions {
  readonly #functions = new Map<string, Registered>();
  readonly #pending = new Set<Promise<void>>();
  readonly log: InvocationRecord[] = [];

  constructor(
    private readonly sqs: SQSClient,
    private readonly retryDelaysMs: readonly number[] = [200, 400],
  ) {}

  register(spec: LocalFunctionSpec, arn: string, handler: LambdaHandler, dlqUrl?: string): void {
    const entry = { spec, arn, handler, ...(dlqUrl ? { dlqUrl } : {}) };
    this.#functions.set(spec.name, entry);
    this.#functions.set(spec.ref.logicalId, entry);
    this.#functions.set(arn, entry);
  }

  get(nameOrArn: string): Registered | undefined {
    return this.#functions.get(nameOrArn) ?? this.#functions.get(nameOrArn.split(':').pop() ?? '');
  }

  names(): string[] {
    return [...new Set([...this.#functions.values()].map((f) => f.spec.name))];
  }

  /** Synchronous (RequestResponse) invocation. */
  async invoke(name: string, event: unknown, attempt = 1): Promise<unknown> {
    const fn = this.#require(name);
    const requestId = randomUUID();
    const startedAt = performance.now();
    try {
      const result = await fn.handler(structuredClone(event), context(fn, requestId));
      this.log.push({ function: fn.spec.name, requestId, attempt, ok: true, startedAt, endedAt: performance.now() });
      return result;
    } catch (error) {
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      this.log.push({ function: fn.spec.name, requestId, attempt, ok: false, error: message, startedAt, endedAt: performance.now() });
      throw error;
    }
  }

  /** Asynchronous (Event) invocation: accepted at once, retried, then dead-lettered. */
  invokeAsync(name: string, event: unknown): void {
    const fn = this.#require(name);
    const run = (async () => {
      let lastError: unknown;
      for (let attempt = 1; attempt <= this.retryDelaysMs.length + 1; attempt++) {
        if (attempt > 1) await sleep(this.retryDelaysMs[attempt - 2]!);
        try {
          await this.invoke(fn.spec.name, event, attempt);
          return;
        } catch (error) {
          lastError = error;
        }
      }
      if (fn.dlqUrl) {
        await this.sqs.send(
          new SendMessageCommand({
            QueueUrl: fn.dlqUrl,
            MessageBody: JSON.stringify(event),
            MessageAttributes: {
              RequestID: { DataType: 'String', StringValue: randomUUID() },
              ErrorCode: { DataType: 'Number', StringValue: '200' },
              ErrorMessage: { DataType: 'String', StringValue: String((lastError as Error)?.message ?? lastError).slice(0, 1000) },
            },
          }),
        );
      }
    })();
    const tracked = run.catch(() => undefined).finally(() => this.#pending.delete(tracked));
    this.#pending.add(tracked);
  }

  /** Resolves when no asynchronous invocation is in flight or waiting for a retry. */
  async idle(): Promise<void> {
    while (this.#pending.size) await Promise.all([...this.#pending]);
  }

  #require(name: string): Registered {
    const fn = this.get(name);
    if (!fn) throw new Error(`no local function "${name}" (have: ${this.names().join(', ')})`);
    return fn;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function context(fn: Registered, requestId: string): LambdaContext {
  const deadline = Date.now() + 30_000;
  return {
    functionName: fn.spec.name,
    functionVersion: '$LATEST',
    invokedFunctionArn: fn.arn,
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${fn.spec.name}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}
