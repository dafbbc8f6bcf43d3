import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { WorkQueue as WorkQueuePort } from '../../killswitch/ports.ts';

/** Puts a unit of work (JSON) on an SQS queue: continuations, restores, notice batches. */
export class WorkQueue<T extends object> implements WorkQueuePort<T> {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async enqueue(work: T): Promise<string | undefined> {
    const { MessageId } = await this.client.send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(work) }));
    return MessageId;
  }
}
