import { ACK_SIGNATURE_HEADER, checkAck } from '#shared/killswitch/acks.ts';
import { ackIntakeServices } from '#shared/runtime/ack-intake-services.ts';
import { instrumented } from '#shared/runtime/middleware.ts';
import { observability } from '#shared/runtime/observability.ts';

const obs = observability('ack-intake');
const services = ackIntakeServices();

interface UrlEvent {
  requestContext?: { http?: { method?: string } };
  headers?: Record<string, string | undefined>;
  body?: string;
  isBase64Encoded?: boolean;
}
const reply = (statusCode: number, body: Record<string, unknown>) => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

/**
 * The acknowledgement endpoint (a Function URL; agents authenticate each acknowledgement with their
 * enrolment secret, not with IAM): checks it and queues it for the aggregator, so a fleet
 * acknowledging at once is buffered by SQS. A bad acknowledgement is refused with the reason and
 * changes nothing. Logs carry no collector ids (a collector id can name a person's machine).
 */
export const handler = instrumented(async (event: UrlEvent) => {
  if (event.requestContext?.http?.method !== 'POST') return reply(405, { error: 'POST an acknowledgement' });
  const body = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '');
  const checked = checkAck({
    body,
    signature: event.headers?.[ACK_SIGNATURE_HEADER],
    master: await services.master(),
    programs: services.programs,
    now: new Date(),
  });
  if (!checked.ok) {
    obs.telemetry.count('AcksRejected', 1, { reason: String(checked.status) });
    return reply(checked.status, { error: checked.reason });
  }
  await services.queue.send(checked.ack);
  obs.telemetry.count('AcksAccepted');
  return reply(202, { accepted: true });
}, obs);
