import { ValidationError, toFieldIssues } from '#shared/domain/errors.ts';
import { AckSchema, MAX_DOCUMENT_VALIDITY_SECONDS, type ReceivedAck } from '#shared/killswitch/acks.ts';
import { TimestampSchema } from '#shared/schemas/common.ts';
import { ackAggregatorServices } from '#shared/runtime/ack-aggregator-services.ts';
import { instrumented } from '#shared/runtime/middleware.ts';
import { observability } from '#shared/runtime/observability.ts';
import { sqsWorker } from '#shared/runtime/sqs-worker.ts';

const obs = observability('aggregate-acks');
const { env, aggregator, deadLetters } = ackAggregatorServices();
const QueuedAckSchema = AckSchema.extend({ receivedAt: TimestampSchema });

const acknowledgements = sqsWorker<ReceivedAck>({
  name: 'aggregate-acks',
  logger: obs.logger,
  parse: (body) => {
    let raw: unknown;
    try {
      raw = JSON.parse(body);
    } catch {
      throw new ValidationError('acknowledgement', [{ path: '(root)', message: 'not JSON' }]);
    }
    const parsed = QueuedAckSchema.safeParse(raw);
    if (!parsed.success) throw new ValidationError('acknowledgement', toFieldIssues(parsed.error));
    return parsed.data;
  },
  deadLetters,
  budgetMs: 10_000,
  perform: async (ack) => {
    const { first, haltConfirmed } = await aggregator.apply(ack);
    if (haltConfirmed.length) obs.telemetry.count('HaltConfirmed', haltConfirmed.length);
    return { programId: ack.programId, seq: ack.seq, allowed: ack.allowed, first, haltConfirmed };
  },
});

/** The schedule (every minute): HALT_CONFIRMED for pauses whose every earlier state document has expired. */
async function expirySweep(): Promise<{ haltConfirmed: string[] }> {
  const { confirmed, failed } = await aggregator.confirmByExpiry(env.ACK_PROGRAMS, {
    // The largest validity an agent accepts, not today's setting: documents signed under an
    // earlier, longer setting may still be in circulation.
    validitySeconds: Math.max(env.STATE_FEED_VALIDITY_S, MAX_DOCUMENT_VALIDITY_SECONDS),
    publisherTimeoutSeconds: env.STATE_FEED_PUBLISHER_TIMEOUT_S,
    // The longest a pausing function runs between reading changedAt and storing the flip (the
    // finding sweep's 5 minutes), and the clocks of the pauser, the publisher and the origin.
    marginSeconds: 300 + 60,
  });
  if (confirmed.length) obs.telemetry.count('HaltConfirmed', confirmed.length);
  // A program that could not be checked is retried next minute; it must not pass unnoticed.
  if (failed.length) throw new Error(`halt-by-expiry sweep failed for ${failed.map((f) => `${f.programId} (${f.error})`).join(', ')}`);
  return { haltConfirmed: confirmed };
}

type AggregatorEvent = Parameters<typeof acknowledgements>[0] | { source?: unknown; 'detail-type'?: unknown };
const isScheduled = (event: AggregatorEvent): boolean =>
  !('Records' in event) && (event as { 'detail-type'?: unknown })['detail-type'] === 'Scheduled Event';

/**
 * Queued acknowledgements (checked by the intake) into per-agent records, sharded counters and,
 * when the fleet has halted, HALT_CONFIRMED; and, on its schedule, HALT_CONFIRMED by expiry.
 */
export const handler = instrumented(
  async (event: AggregatorEvent, context: Parameters<typeof acknowledgements>[1]) =>
    isScheduled(event) ? expirySweep() : acknowledgements(event as Parameters<typeof acknowledgements>[0], context),
  obs,
);
