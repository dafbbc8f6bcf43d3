import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { NoticeSender } from '#shared/notices/sender.ts';
import { NoticeBatchRetry, parseSendBatch, performSendBatch } from '#shared/notices/notice-work.ts';
import { sendNoticesServices } from '#shared/runtime/composition.ts';
import { observability } from '#shared/runtime/observability.ts';
import { sqsWorker } from '#shared/runtime/sqs-worker.ts';

const { logger, metrics } = observability('send-notices');
const services = sendNoticesServices();
const deps = { sender: new NoticeSender(services), deadLetters: services.deadLetters, maxAttempts: services.env.NOTICE_MAX_ATTEMPTS };

/** Sends batches of notices; the delivery policy (retry, then FAILED and the DLQ) is performSendBatch's. */
export const handler = sqsWorker({
  name: 'send-notices',
  logger,
  parse: parseSendBatch,
  deadLetters: services.deadLetters,
  budgetMs: Number.MAX_SAFE_INTEGER,
  perform: async (batch, _budget, record) => {
    const attempt = Number(record.attributes.ApproximateReceiveCount ?? '1');
    try {
      const report = await performSendBatch(batch, attempt, deps);
      metrics.addMetric('NoticesSent', MetricUnit.Count, report.sent.length);
      metrics.addMetric('NoticesFailed', MetricUnit.Count, report.lastAttempt ? report.failed.length : 0);
      return { incidentId: batch.incidentId, attempt, sent: report.sent.length, failed: report.failed.length, skipped: report.skipped.length };
    } catch (error) {
      if (error instanceof NoticeBatchRetry) metrics.addMetric('NoticesSent', MetricUnit.Count, error.sent);
      throw error;
    } finally {
      metrics.publishStoredMetrics();
    }
  },
});
