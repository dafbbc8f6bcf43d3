import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { escapeForSqs, replaceForSqs } from './safe-text.ts';
import type { DeadLetterSink } from '../../killswitch/ports.ts';

/**
 * Sends input that can never succeed (it does not parse) straight to a DLQ, with the reason as
 * message attributes, instead of retrying it pointlessly: it is kept for replay, not lost.
 */
export class DeadLetters implements DeadLetterSink {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(body: string, reason: string, source: string): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        // The body is JSON (or the original message): escaping keeps it replayable byte for byte.
        MessageBody: escapeForSqs(body) || '(empty body)', // SQS refuses an empty body; nothing is lost by naming it
        MessageAttributes: {
          ErrorMessage: { DataType: 'String', StringValue: replaceForSqs(reason.slice(0, 1000)) || '-' },
          Source: { DataType: 'String', StringValue: replaceForSqs(source) || '-' },
        },
      }),
    );
  }
}
