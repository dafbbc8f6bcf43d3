import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { NoticeSender } from '#shared/notices/sender.ts';
import { parseSendBatch } from '#shared/notices/notice-work.ts';
import { sendNoticesServices } from '#shared/runtime/composition.ts';
import { observability } from '#shared/runtime/observability.ts';
import { sqsWorker } from '#shared/runtime/sqs-worker.ts';
import { KillSwitchError } from '#shared/errors.ts';

const { logger, metrics } = observability('send-notices');
const services = sendNoticesServices();
const sender = new NoticeSender(services);

/**
 * Sends batches of notices. Notices SNS rejects are retried with the SQS message; on its last
 * delivery they are marked FAILED and the batch of them goes to the DLQ with the errors.
 */
export const handler = sqsWorker({
  name: 'send-notices',
  logger,
  parse: parseSendBatch,
  deadLetters: services.deadLetters,
  budgetMs: Number.MAX_SAFE_INTEGER,
  perform: async (batch, _budget, record) => {
    const attempt = Number(record.attributes.ApproximateReceiveCount ?? '1');
    const lastAttempt = attempt >= services.env.NOTICE_MAX_ATTEMPTS;
    const report = await sender.send(batch, { lastAttempt });
    metrics.addMetric('NoticesSent', MetricUnit.Count, report.sent.length);
    metrics.addMetric('NoticesFailed', MetricUnit.Count, lastAttempt ? report.failed.length : 0);
    metrics.publishStoredMetrics();
    if (report.failed.length && lastAttempt) {
      const failedIds = report.failed.map((f) => f.employeeId);
      const errors = [...new Set(report.failed.map((f) => f.error))].join('; ');
      await services.deadLetters.send(JSON.stringify({ ...batch, employeeIds: failedIds }), `notices marked FAILED after ${attempt} attempts: ${errors}`, 'send-notices');
    } else if (report.failed.length) {
      throw new NoticeBatchRetry(report.failed.length, attempt);
    }
    return { incidentId: batch.incidentId, attempt, sent: report.sent.length, failed: report.failed.length, skipped: report.skipped.length };
  },
});

class NoticeBatchRetry extends KillSwitchError {
  constructor(failed: number, attempt: number) {
    super(`${failed} notices not accepted by SNS on attempt ${attempt}; the batch will be retried`, 'FAILURE');
  }
}
