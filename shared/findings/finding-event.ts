import { describeError, parseJson, ValidationError } from '../domain/errors.ts';
import type { Telemetry } from '../killswitch/ports.ts';
import type { FindingIntake, FindingOutcome } from './intake.ts';
import { parseFindingEvent } from './normalise.ts';
import { rejectedAfterParse, type FindingRejections } from './rejections.ts';

/** An SQS message body of the finding intake queue: the EventBridge event, JSON. */
export const parseFindingMessage = (body: string): unknown => parseJson(body, 'finding event');

/** Errors of the findings of one event that could not be handled: the event is delivered again. */
const failed = (failures: unknown[], eventId: string): unknown =>
  failures.length === 1 ? failures[0] : new AggregateError(failures, `${failures.length} findings of event ${eventId} failed`);

/**
 * Use case: act on one Macie, GuardDuty or Security Hub finding event (default bus → SQS).
 * 1. Parse each finding of the event on its own (a Security Hub event may hold several).
 * 2. A malformed finding is alerted and kept in the rejected-findings queue: it pauses nothing and
 *    never stops the others.
 * 3. Hand each well-formed one to the intake; one that maps to no program is recorded and counted.
 * 4. If any finding failed for another reason, throw once all are done, so SQS delivers the event
 *    again (the handled findings are deduplicated by their anomaly ids) until its redrive keeps it.
 */
export async function handleFindingEvent(
  event: unknown,
  deps: { intake: Pick<FindingIntake, 'handle'>; rejections: Pick<FindingRejections, 'reject'>; telemetry: Telemetry },
): Promise<{ eventId: string; findings: number; outcomes: string[] }> {
  const { telemetry } = deps;
  const id = typeof event === 'object' && event !== null ? (event as { id?: unknown }).id : undefined;
  const eventId = typeof id === 'string' ? id.slice(0, 128) : '';
  const outcomes: string[] = [];
  const failures: unknown[] = [];
  for (const parsed of parseFindingEvent(event)) {
    if (!parsed.ok) {
      telemetry.count('FindingRejected');
      telemetry.warn('malformed finding rejected', {
        eventId,
        source: parsed.source,
        findingId: parsed.findingId,
        issues: parsed.error.issues,
      });
      await deps.rejections.reject(parsed, 'event', eventId);
      outcomes.push('REJECTED');
      continue;
    }
    const { finding } = parsed;
    try {
      const result = await deps.intake.handle(finding);
      outcomes.push(outcomeOf(result, telemetry));
      telemetry.info('finding handled', {
        eventId,
        source: finding.source,
        findingId: finding.findingId,
        type: finding.type,
        severity: finding.severity,
        ...summary(result),
      });
    } catch (error) {
      if (error instanceof ValidationError) {
        // Parsed, but not an anomaly the trigger can take (it never will be): kept and alerted, not retried.
        telemetry.count('FindingRejected');
        telemetry.warn('finding rejected after parsing', {
          eventId,
          source: finding.source,
          findingId: finding.findingId,
          issues: error.issues,
        });
        await deps.rejections.reject(rejectedAfterParse(finding, error), 'event', eventId);
        outcomes.push('REJECTED');
        continue;
      }
      failures.push(error);
      telemetry.count('FindingFailed');
      telemetry.error('finding not handled; the event will be retried', {
        eventId,
        source: finding.source,
        findingId: finding.findingId,
        ...describeError(error),
      });
    }
  }
  if (failures.length) throw failed(failures, eventId);
  return { eventId, findings: outcomes.length, outcomes };
}

function outcomeOf(result: FindingOutcome, telemetry: Telemetry): string {
  if (result.outcome === 'IGNORED') {
    telemetry.count(result.reason === 'UNMAPPED' ? 'FindingUnmapped' : 'FindingIgnored');
    return `IGNORED:${result.reason}`;
  }
  telemetry.count('FindingHandled');
  for (const a of result.anomalies) if ('stateChanged' in a && a.stateChanged) telemetry.count('KillSwitchEngaged');
  return `HANDLED:${result.anomalies.map((a) => `${a.programId}=${a.outcome}`).join(',')}`;
}

const summary = (result: FindingOutcome) =>
  result.outcome === 'IGNORED'
    ? { outcome: result.outcome, reason: result.reason }
    : {
        outcome: result.outcome,
        anomalies: result.anomalies.map((a) => ({
          programId: a.programId,
          anomalyId: a.anomalyId,
          outcome: a.outcome,
          ...('incidentId' in a ? { incidentId: a.incidentId } : {}),
        })),
      };
