import type { Alerts, DeadLetterSink } from '../killswitch/ports.ts';
import type { NormalisedFinding, ParsedFinding } from './normalise.ts';
import type { ValidationError } from '../domain/errors.ts';

export type RejectedFinding = Extract<ParsedFinding, { ok: false }>;

/** A finding that parsed but that the trigger cannot take (its anomaly did not validate), as a rejection. */
export const rejectedAfterParse = (finding: NormalisedFinding, error: ValidationError): RejectedFinding => ({
  ok: false,
  source: finding.source,
  error,
  findingId: finding.findingId,
  raw: finding,
});

/**
 * A finding that does not parse can never succeed: it is kept in the rejected-findings queue with
 * its validation error (for replay once the schema or the source is fixed) and the operators are
 * alerted with the fields at fault. It never pauses anything and never stops the other findings.
 */
export class FindingRejections {
  constructor(
    private readonly alerts: Alerts,
    private readonly deadLetters: DeadLetterSink,
  ) {}

  async reject(rejected: RejectedFinding, via: 'event' | 'sweep', eventId?: string): Promise<void> {
    const source = rejected.source ?? 'unknown source';
    const findingId = rejected.findingId ?? 'no id';
    await this.deadLetters.send(
      JSON.stringify({
        via,
        source: rejected.source,
        eventId,
        findingId: rejected.findingId,
        issues: rejected.error.issues,
        finding: rejected.raw,
      }),
      rejected.error.message,
      `finding-${via}`,
    );
    await this.alerts.send({
      subject: `[killswitch] rejected a malformed ${source} finding`,
      severity: 'MEDIUM',
      programId: '-',
      lines: [
        `Source:    ${source} (${via === 'event' ? `EventBridge event ${eventId ?? '?'}` : 'finding sweep'})`,
        `Finding:   ${findingId}`,
        `Problem:   ${rejected.error.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
        'Action:    nothing was paused; the finding is kept in the rejected-findings queue for replay.',
      ],
    });
  }
}
