import { DeleteMessageBatchCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { LocalFunctions } from './functions.ts';

/**
 * A Lambda SQS event source mapping, locally: receive a batch, invoke the function with the
 * SQS event, delete what succeeded (all of it, or all but the reported `batchItemFailures`).
 * What failed becomes visible again after the queue's visibility timeout, and the queue's
 * redrive policy moves it to its DLQ after `maxReceiveCount` receives, as in AWS.
 */
export class QueuePoller {
  #running = false;
  #busy = false;
  #loop: Promise<void> | undefined;
  #abort = new AbortController();

  constructor(
    private readonly sqs: SQSClient,
    private readonly functions: LocalFunctions,
    private readonly mapping: {
      functionName: string;
      queueUrl: string;
      queueArn: string;
      batchSize: number;
      reportBatchItemFailures: boolean;
      region: string;
    },
    /** Long-poll wait, as Lambda's pollers use: no busy polling of an empty queue. */
    private readonly waitTimeSeconds = 1,
  ) {}

  get busy(): boolean {
    return this.#busy;
  }

  start(): void {
    this.#running = true;
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#abort.abort();
    await this.#loop;
  }

  async #run(): Promise<void> {
    while (this.#running) {
      let messages: Message[];
      try {
        const out = await this.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: this.mapping.queueUrl,
            MaxNumberOfMessages: this.mapping.batchSize,
            WaitTimeSeconds: this.waitTimeSeconds,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
          { abortSignal: this.#abort.signal },
        );
        messages = out.Messages ?? [];
      } catch {
        if (this.#running) await new Promise((r) => setTimeout(r, 100)); // the emulator is going away, or hiccuped
        continue;
      }
      if (!messages.length) continue;
      this.#busy = true;
      try {
        await this.#deliver(messages);
      } finally {
        this.#busy = false;
      }
    }
  }

  async #deliver(messages: Message[]): Promise<void> {
    const event = {
      Records: messages.map((m) => ({
        messageId: m.MessageId,
        receiptHandle: m.ReceiptHandle,
        body: m.Body ?? '',
        attributes: m.Attributes ?? {},
        messageAttributes: Object.fromEntries(
          Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [
            k,
            { stringValue: v.StringValue, dataType: v.DataType, stringListValues: [], binaryListValues: [] },
          ]),
        ),
        md5OfBody: m.MD5OfBody,
        eventSource: 'aws:sqs',
        eventSourceARN: this.mapping.queueArn,
        awsRegion: this.mapping.region,
      })),
    };
    let failed = new Set<string>();
    try {
      const result = (await this.functions.invoke(this.mapping.functionName, event)) as
        { batchItemFailures?: { itemIdentifier: string }[] } | undefined;
      if (this.mapping.reportBatchItemFailures) failed = new Set((result?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    } catch {
      return; // the whole batch failed: every message becomes visible again
    }
    const done = messages.filter((m) => !failed.has(m.MessageId ?? ''));
    if (done.length) {
      await this.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.mapping.queueUrl,
          Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
    }
  }
}
