import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { ValidationError } from '#shared/errors.ts';
import { GrantRevoker } from '#shared/grants/revoker.ts';
import { GrantRestorer } from '#shared/grants/restorer.ts';
import { budgetUntil } from '#shared/grants/run.ts';
import { parseGrantWork, performGrantWork } from '#shared/grants/grant-work.ts';
import { grantWorkServices } from '#shared/runtime/composition.ts';
import { describeError, observability } from '#shared/runtime/observability.ts';

const { logger } = observability('revoke-grants');
const services = grantWorkServices();
const deps = {
  ...services,
  revoker: new GrantRevoker(services.grants, services.revocations),
  restorer: new GrantRestorer(services.grants, services.revocations),
};
const processor = new BatchProcessor(EventType.SQS);
/** Stop starting new pages this long before the function's timeout. */
const SAFETY_MARGIN_MS = 20_000;

/**
 * Grant work from the queue: `Kill Switch Engaged` events (revoke the incident's datasets),
 * continuations, and approved restores. Failures are reported per record, so SQS retries only
 * those and, after its retries, moves them to the DLQ. Work that does not parse goes to the DLQ
 * at once, with the reason.
 */
export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
  processPartialResponse(event, (record: SQSRecord) => handleRecord(record, context), processor, { context });

async function handleRecord(record: SQSRecord, context: Context): Promise<void> {
  let work;
  try {
    work = parseGrantWork(record.body);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    logger.error('grant work does not parse; kept in the DLQ', { messageId: record.messageId, ...describeError(error) });
    await services.deadLetters.send(record.body, error.message, 'revoke-grants');
    return;
  }
  const deadline = Date.now() + Math.min(context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS, services.env.GRANT_WORK_BUDGET_MS);
  try {
    const outcome = await performGrantWork(work, budgetUntil(deadline), deps);
    logger.info('grant work', { type: work.type, incidentId: work.incidentId, outcome, continuation: work.continuation });
  } catch (error) {
    logger.error('grant work failed; SQS will retry it', { type: work.type, incidentId: work.incidentId, ...describeError(error) });
    throw error;
  }
}
