import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { PermanentWorkError, ValidationError } from '../domain/errors.ts';
import type { DeadLetters } from '../adapters/aws/dead-letters.ts';
import type { Budget } from '../domain/work.ts';
import { invocationBudget } from './budget.ts';
import { describeError } from './observability.ts';

/** Stop starting new pages this long before the function's timeout. */
const SAFETY_MARGIN_MS = 20_000;

export interface SqsWorkerOptions<W> {
  name: string;
  logger: Logger;
  /** Parse a message body; throw a ValidationError when it can never be processed. */
  parse: (body: string) => W;
  /** Where unparseable messages go at once, with the reason. */
  deadLetters: DeadLetters;
  /** Longest one message may work before it continues in a new invocation. */
  budgetMs: number;
  perform: (work: W, budget: Budget, record: SQSRecord) => Promise<Record<string, unknown>>;
}

/**
 * An SQS-triggered Lambda handler with partial batch responses: a failed record is retried by
 * SQS (and dead-lettered by the queue's redrive policy); a record that does not parse, or that the
 * ledger does not back (PermanentWorkError), goes to the DLQ at once with the reason, since
 * retrying it cannot help.
 */
export function sqsWorker<W>(options: SqsWorkerOptions<W>): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  const processor = new BatchProcessor(EventType.SQS);
  const handleRecord = async (record: SQSRecord, context: Context): Promise<void> => {
    let work: W;
    try {
      work = options.parse(record.body);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      options.logger.error(`${options.name}: message does not parse; kept in the DLQ`, {
        messageId: record.messageId,
        ...describeError(error),
      });
      await options.deadLetters.send(record.body, error.message, options.name);
      return;
    }
    const budget = invocationBudget(context, { marginMs: SAFETY_MARGIN_MS, maxMs: options.budgetMs });
    try {
      const outcome = await options.perform(work, budget, record);
      options.logger.info(`${options.name}: done`, { messageId: record.messageId, ...outcome });
    } catch (error) {
      if (error instanceof PermanentWorkError) {
        // The ledger does not back this work: retrying cannot help, keeping it (with the reason) can.
        options.logger.error(`${options.name}: work refused; kept in the DLQ`, { messageId: record.messageId, ...describeError(error) });
        await options.deadLetters.send(record.body, error.message, options.name);
        return;
      }
      options.logger.error(`${options.name}: failed; SQS will retry it`, { messageId: record.messageId, ...describeError(error) });
      throw error;
    }
  };
  return (event, context) => processPartialResponse(event, (record: SQSRecord) => handleRecord(record, context), processor, { context });
}
