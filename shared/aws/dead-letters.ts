import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

/**
 * Sends input that can never succeed (it does not parse) straight to a DLQ, with the reason as
 * message attributes, instead of retrying it pointlessly: it is kept for replay, not lost.
 */
export class DeadLetters {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(body: string, reason: string, source: string): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: body,
        MessageAttributes: {
          ErrorMessage: { DataType: 'String', StringValue: reason.slice(0, 1000) },
          Source: { DataType: 'String', StringValue: source },
        },
      }),
    );
  }
}
