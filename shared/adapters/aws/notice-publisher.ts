import { asciiSubject } from '../../notices/render.ts';
import { PublishBatchCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { NoticeChannel, OutgoingNotice, PublishResult } from '../../notices/ports.ts';

export type { OutgoingNotice, PublishResult };

/** SNS subjects must be printable ASCII without line breaks, under 100 characters. */

/**
 * Publishes notices to the exposure-notices topic with PublishBatch (at most 10 per call). The
 * body carries the plain text and the structured form; attributes carry the ids the messaging
 * gateway routes on. Results are per notice: SNS may accept some entries of a batch and not others.
 */
export class NoticePublisher implements NoticeChannel {
  static readonly BATCH = 10;
  readonly batchSize = NoticePublisher.BATCH;

  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {}

  async publish(notices: OutgoingNotice[]): Promise<PublishResult[]> {
    if (notices.length > NoticePublisher.BATCH) throw new Error(`PublishBatch takes at most ${NoticePublisher.BATCH} entries`);
    const out = await this.client.send(
      new PublishBatchCommand({
        TopicArn: this.topicArn,
        PublishBatchRequestEntries: notices.map((n, i) => ({
          Id: `n${i}`,
          Subject: asciiSubject(n.notice.subject),
          Message: JSON.stringify({ ...n.notice.structured, text: n.notice.text }),
          MessageAttributes: {
            employeeId: { DataType: 'String', StringValue: n.employeeId },
            incidentId: { DataType: 'String', StringValue: n.incidentId },
            noticeType: { DataType: 'String', StringValue: n.noticeType },
            contentType: { DataType: 'String', StringValue: 'application/json' },
          },
        })),
      }),
    );
    const ok = new Map((out.Successful ?? []).map((s) => [s.Id, s.MessageId ?? '']));
    const failed = new Map((out.Failed ?? []).map((f) => [f.Id, f]));
    return notices.map((_, i): PublishResult => {
      const messageId = ok.get(`n${i}`);
      if (messageId) return { ok: true, messageId };
      const f = failed.get(`n${i}`);
      return {
        ok: false,
        error: f ? `${f.Code}: ${f.Message ?? ''}`.trim() : 'not in the PublishBatch response',
        senderFault: f?.SenderFault ?? false,
      };
    });
  }
}
