import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { replaceForSqs } from './safe-text.ts';
import type { Alerts, OperatorAlert } from '../../killswitch/ports.ts';

export type { OperatorAlert } from '../../killswitch/ports.ts';

/** Alerts the people on call through the operator alert topic. */
export class OperatorAlerts implements Alerts {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {}

  async send(alert: OperatorAlert): Promise<string | undefined> {
    const result = await this.client.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        // SNS subjects are one line of printable ASCII-safe text; messages exclude the same characters as SQS.
        Subject: alert.subject.replace(/[^\x20-\x7e]/g, '?').slice(0, 100),
        Message: replaceForSqs(alert.lines.join('\n')),
        MessageAttributes: {
          severity: { DataType: 'String', StringValue: alert.severity },
          programId: { DataType: 'String', StringValue: alert.programId },
          ...(alert.incidentId ? { incidentId: { DataType: 'String', StringValue: alert.incidentId } } : {}),
        },
      }),
    );
    return result.MessageId;
  }
}
