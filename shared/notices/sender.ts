import type { Incident } from '../schemas/ledger.ts';
import type { NoticeEntry, NoticeSettings, SendBatch } from '../schemas/notices.ts';
import type { IncidentLedger } from '../stores/ledger/incident-ledger.ts';
import type { NoticeLedger } from '../stores/ledger/notice-ledger.ts';
import { NoticePublisher, type OutgoingNotice } from '../aws/notice-publisher.ts';
import { NotFoundError } from '../errors.ts';
import { renderNotice, type NoticeContext } from './render.ts';

export interface SendReport {
  sent: string[];
  /** Not sent now; retried (or, on the last attempt, marked FAILED). */
  failed: { employeeId: string; error: string }[];
  /** Already sent, or being sent by another sender: nothing to do. */
  skipped: string[];
}

/**
 * Use case: send one batch of notices.
 *
 * 1. Claim each ledger entry (PENDING → SENDING); an entry already SENT, or claimed by another
 *    sender, is skipped — this is what makes a notice go out once.
 * 2. Render each claimed notice (only that employee's categories and the exposure window).
 * 3. Publish with SNS PublishBatch, ten at a time, concurrently.
 * 4. Mark each accepted notice SENT with its SNS message id; put each rejected one back to
 *    PENDING for a retry, or mark it FAILED with the error on the last attempt.
 */
export class NoticeSender {
  constructor(
    private readonly deps: { notices: NoticeLedger; incidents: IncidentLedger; publisher: NoticePublisher; settings: NoticeSettings; clock?: () => Date },
  ) {}

  async send(batch: SendBatch, options: { lastAttempt: boolean }): Promise<SendReport> {
    const clock = this.deps.clock ?? (() => new Date());
    const incident = await this.deps.incidents.get(batch.incidentId);
    if (!incident) throw new NotFoundError(`incident ${batch.incidentId} does not exist`);
    const timeline = await this.deps.incidents.timeline(batch.incidentId);
    const context = incidentContext(incident, timeline.map((t) => ({ type: t.type, at: t.at })));

    const report: SendReport = { sent: [], failed: [], skipped: [] };
    const claimed: NoticeEntry[] = [];
    await Promise.all(
      batch.employeeIds.map(async (employeeId) => {
        const entry = await this.deps.notices.claim(batch.incidentId, batch.noticeType, employeeId, clock());
        if (entry) claimed.push(entry);
        else report.skipped.push(employeeId);
      }),
    );

    const chunks: NoticeEntry[][] = [];
    for (let i = 0; i < claimed.length; i += NoticePublisher.BATCH) chunks.push(claimed.slice(i, i + NoticePublisher.BATCH));
    await Promise.all(
      chunks.map(async (chunk) => {
        const outgoing: OutgoingNotice[] = chunk.map((entry) => ({
          employeeId: entry.employeeId,
          incidentId: entry.incidentId,
          noticeType: entry.noticeType,
          notice: renderNotice(
            entry.noticeType,
            { ...context, settings: this.deps.settings, employee: { employeeId: entry.employeeId, categories: entry.categories, heldFrom: entry.heldFrom, heldTo: entry.heldTo } },
            entry.locale,
          ),
        }));
        let results;
        try {
          results = await this.deps.publisher.publish(outgoing);
        } catch (error) {
          const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
          results = outgoing.map(() => ({ ok: false as const, error: message, senderFault: false }));
        }
        await Promise.all(
          chunk.map(async (entry, i) => {
            const result = results[i]!;
            if (result.ok) {
              await this.deps.notices.markSent(entry.incidentId, entry.noticeType, entry.employeeId, result.messageId, clock());
              report.sent.push(entry.employeeId);
            } else {
              if (options.lastAttempt) await this.deps.notices.markFailed(entry.incidentId, entry.noticeType, entry.employeeId, result.error);
              else await this.deps.notices.release(entry.incidentId, entry.noticeType, entry.employeeId, result.error);
              report.failed.push({ employeeId: entry.employeeId, error: result.error });
            }
          }),
        );
      }),
    );
    return report;
  }
}

function incidentContext(incident: Incident, timeline: { type: string; at: string }[]): Omit<NoticeContext, 'employee' | 'settings'> {
  const paused = timeline.find((t) => t.type === 'STATE_CHANGED');
  return {
    incident: {
      incidentId: incident.incidentId,
      openedAt: incident.openedAt,
      ...(incident.exposure ? { exposure: { audience: incident.exposure.audience, window: incident.exposure.window } } : {}),
      ...(paused ? { pausedAt: paused.at } : incident.action !== 'RECORDED' ? { pausedAt: incident.openedAt } : {}),
      accessRevoked: timeline.some((t) => t.type === 'GRANTS_REVOKED'),
    },
  };
}
