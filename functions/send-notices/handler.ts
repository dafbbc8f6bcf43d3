import { NoticeSender } from '#shared/notices/sender.ts';
import { parseSendBatch, performSendBatch } from '#shared/notices/notice-work.ts';
import { sendNoticesServices } from '#shared/runtime/send-notices-services.ts';
import { instrumented } from '#shared/runtime/middleware.ts';
import { observability } from '#shared/runtime/observability.ts';
import { sqsWorker } from '#shared/runtime/sqs-worker.ts';

const obs = observability('send-notices');
const services = sendNoticesServices();
const deps = {
  sender: new NoticeSender(services),
  deadLetters: services.deadLetters,
  maxAttempts: services.env.NOTICE_MAX_ATTEMPTS,
  telemetry: obs.telemetry,
};

/** Sends batches of notices; the delivery policy (retry, then FAILED and the DLQ) is performSendBatch's. */
export const handler = instrumented(
  sqsWorker({
    name: 'send-notices',
    logger: obs.logger,
    parse: parseSendBatch,
    deadLetters: services.deadLetters,
    budgetMs: Number.MAX_SAFE_INTEGER,
    perform: async (batch, budget, record) => {
      const attempt = Number(record.attributes.ApproximateReceiveCount ?? '1');
      const report = await performSendBatch(batch, attempt, deps, budget);
      return {
        incidentId: batch.incidentId,
        attempt,
        sent: report.sent.length,
        failed: report.failed.length,
        skipped: report.skipped.length,
      };
    },
  }),
  obs,
);
