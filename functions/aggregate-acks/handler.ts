import { ValidationError, toFieldIssues } from '#shared/domain/errors.ts';
import { AckSchema, type ReceivedAck } from '#shared/killswitch/acks.ts';
import { TimestampSchema } from '#shared/schemas/common.ts';
import { ackAggregatorServices } from '#shared/runtime/ack-services.ts';
import { instrumented } from '#shared/runtime/middleware.ts';
import { observability } from '#shared/runtime/observability.ts';
import { sqsWorker } from '#shared/runtime/sqs-worker.ts';

const obs = observability('aggregate-acks');
const { aggregator, deadLetters } = ackAggregatorServices();
const QueuedAckSchema = AckSchema.extend({ receivedAt: TimestampSchema });

/** Queued acknowledgements (checked by the intake) into per-agent records, sharded counters and, when the fleet has halted, HALT_CONFIRMED. */
export const handler = instrumented(
  sqsWorker<ReceivedAck>({
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
  }),
  obs,
);
