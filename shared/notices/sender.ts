import { createHash } from 'node:crypto';
import type { Incident } from '../schemas/ledger.ts';
import type { NoticeEntry, NoticeSettings, SendBatch, SentNotice } from '../schemas/notices.ts';
import type { IncidentRecords } from '../killswitch/ports.ts';
import type { NoticeChannel, NoticeRecords, OutgoingNotice } from './ports.ts';
import { NotFoundError } from '../domain/errors.ts';
import { renderNotice, type NoticeContext } from './render.ts';
import { inParallel } from '../domain/work.ts';

export interface SendReport {
  sent: string[];
  /** Not sent now; retried (or, on the last attempt, marked FAILED). */
  failed: { employeeId: string; error: string }[];
  /** Already sent (or FAILED): nothing to do. */
  skipped: string[];
  /**
   * Claimed by another delivery that has not finished (or whose SENT mark could not be written):
   * the batch is retried later, when that delivery is done or its claim has gone stale.
   */
  inFlight: string[];
}

const CLAIM_CONCURRENCY = 10;

/** Bookkeeping after SNS accepted or refused a notice is retried a few more times in-process: losing it strands a claim. */
const BOOKKEEPING_ATTEMPTS = 4;
async function persist<T>(write: () => Promise<T>, sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (attempt >= BOOKKEEPING_ATTEMPTS) throw error;
      await sleep(100 * 2 ** attempt * Math.random());
    }
  }
}
const errorText = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

/**
 * Use case: send one batch of notices.
 *
 * 1. Claim each ledger entry (PENDING → SENDING); an entry already SENT is skipped — this is
 *    what makes a notice go out once. One claimed by another delivery that has not finished is
 *    "in flight": the batch is retried later instead of forgetting it. A claim that fails is a
 *    failure of that notice alone.
 * 2. Render each claimed notice (only that employee's categories and the exposure window).
 * 3. Publish with SNS PublishBatch, ten at a time, concurrently.
 * 4. Mark each accepted notice SENT with its SNS message id; put each rejected one back to
 *    PENDING for a retry, or mark it FAILED with the error on the last attempt.
 */
export class NoticeSender {
  constructor(
    private readonly deps: {
      notices: NoticeRecords;
      incidents: Pick<IncidentRecords, 'get' | 'timeline'>;
      publisher: NoticeChannel;
      settings: NoticeSettings;
      clock?: () => Date;
    },
  ) {}

  async send(batch: SendBatch, options: { lastAttempt: boolean }): Promise<SendReport> {
    const clock = this.deps.clock ?? (() => new Date());
    const incident = await this.deps.incidents.get(batch.incidentId);
    if (!incident) throw new NotFoundError(`incident ${batch.incidentId} does not exist`);
    const timeline = await this.deps.incidents.timeline(batch.incidentId);
    const context = incidentContext(
      incident,
      timeline.map((t) => ({ type: t.type, at: t.at, data: t.data })),
    );

    const report: SendReport = { sent: [], failed: [], skipped: [], inFlight: [] };
    const claimed: NoticeEntry[] = [];
    // Ten claims at a time: a batch of 50 at once is a burst that, under throttling, drains the
    // SDK's retry quota and turns retryable throttles into failures.
    await inParallel(batch.employeeIds, CLAIM_CONCURRENCY, async (employeeId) => {
      let entry: NoticeEntry | undefined;
      try {
        entry = await this.deps.notices.claim(batch.incidentId, batch.noticeType, employeeId, clock());
      } catch (error) {
        // Not claimed: nothing to put back. On the last attempt it is marked FAILED (best effort).
        if (options.lastAttempt)
          await persist(() => this.deps.notices.markFailed(batch.incidentId, batch.noticeType, employeeId, errorText(error))).catch(
            () => undefined,
          );
        report.failed.push({ employeeId, error: errorText(error) });
        return;
      }
      if (entry) claimed.push(entry);
      else {
        const current = await this.deps.notices.get(batch.incidentId, batch.noticeType, employeeId).catch(() => undefined);
        if (current?.status === 'SENT' || current?.status === 'FAILED') report.skipped.push(employeeId);
        else report.inFlight.push(employeeId);
      }
    });

    const chunks: NoticeEntry[][] = [];
    const size = this.deps.publisher.batchSize;
    for (let i = 0; i < claimed.length; i += size) chunks.push(claimed.slice(i, i + size));
    await Promise.all(
      chunks.map(async (chunk) => {
        const outgoing: OutgoingNotice[] = chunk.map((entry) => ({
          employeeId: entry.employeeId,
          incidentId: entry.incidentId,
          noticeType: entry.noticeType,
          notice: renderNotice(
            entry.noticeType,
            {
              ...context,
              settings: this.deps.settings,
              employee: { employeeId: entry.employeeId, categories: entry.categories, heldFrom: entry.heldFrom, heldTo: entry.heldTo },
            },
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
            try {
              if (result.ok) {
                const { notice } = outgoing[i]!;
                const facts = { ...factsOf(context), settings: this.deps.settings };
                const sent = { templateId: notice.templateId, textSha256: textHash(notice.text), facts };
                await persist(() =>
                  this.deps.notices.markSent(entry.incidentId, entry.noticeType, entry.employeeId, result.messageId, clock(), sent),
                );
                report.sent.push(entry.employeeId);
              } else {
                if (options.lastAttempt)
                  await persist(() => this.deps.notices.markFailed(entry.incidentId, entry.noticeType, entry.employeeId, result.error));
                else await persist(() => this.deps.notices.release(entry.incidentId, entry.noticeType, entry.employeeId, result.error));
                report.failed.push({ employeeId: entry.employeeId, error: result.error });
              }
            } catch {
              // The ledger could not record the outcome: the entry stays SENDING until its claim is
              // stale; the batch comes back for it then (an accepted notice may then go out twice).
              report.inFlight.push(entry.employeeId);
            }
          }),
        );
      }),
    );
    return report;
  }
}

/** The hash kept with a sent notice: what its text is shown again against. */
export const textHash = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** The incident's facts a notice was rendered with (they change over time: kept with each sent notice). */
export const factsOf = (context: Pick<NoticeContext, 'incident'>): SentNotice['facts'] => {
  const { openedAt, exposure, pausedAt, accessRevoked, resumedAt, resolvedAt, accessRestored } = context.incident;
  return {
    openedAt,
    ...(exposure ? { exposure } : {}),
    ...(pausedAt ? { pausedAt } : {}),
    accessRevoked,
    ...(resumedAt ? { resumedAt } : {}),
    ...(resolvedAt ? { resolvedAt } : {}),
    ...(accessRestored ? { accessRestored } : {}),
  };
};

/** The incident part of a notice's context, from its facts (as kept, or as they are now). */
export const contextOf = (incidentId: string, facts: SentNotice['facts']): Omit<NoticeContext, 'employee' | 'settings'> => {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { settings, ...incident } = facts;
  return { incident: { incidentId, ...incident } };
};

/** The most of the detector's audience text a notice quotes. */
const AUDIENCE_CHARS = 120;

/**
 * The detector's words for who could see the data, as a notice may quote them: one line, no
 * control or format characters (U+202E and the like), no links, at most 120 characters. It is
 * free text from a detector: in a notice it could otherwise forge a heading, a link or a reversed
 * line in every employee's notice (an attacker's review did all three).
 */
export function noticeAudience(audience: string): string {
  const clean = audience
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+/gu, ' ')
    .replace(/\b(?:https?|ftp):\/\/\S+|\bwww\.\S+/gi, '[link removed]')
    .replace(/\s+/g, ' ')
    .trim();
  return clean.length > AUDIENCE_CHARS ? `${clean.slice(0, AUDIENCE_CHARS - 1).trimEnd()}…` : clean;
}

export function incidentContext(
  incident: Incident,
  timeline: { type: string; at: string; data?: Record<string, unknown> | undefined }[],
): Omit<NoticeContext, 'employee' | 'settings'> {
  const paused = timeline.find((t) => t.type === 'STATE_CHANGED' && t.data?.status !== 'ACTIVE');
  const resumed = timeline.find((t) => t.type === 'STATE_CHANGED' && t.data?.status === 'ACTIVE');
  return {
    incident: {
      incidentId: incident.incidentId,
      openedAt: incident.openedAt,
      ...(incident.exposure
        ? { exposure: { audience: noticeAudience(incident.exposure.audience), window: incident.exposure.window } }
        : {}),
      ...(paused ? { pausedAt: paused.at } : incident.action !== 'RECORDED' ? { pausedAt: incident.openedAt } : {}),
      accessRevoked: timeline.some((t) => t.type === 'GRANTS_REVOKED'),
      ...(resumed ? { resumedAt: resumed.at } : {}),
      ...(incident.resolvedAt ? { resolvedAt: incident.resolvedAt } : {}),
      ...(timeline.some((t) => t.type === 'GRANTS_RESTORED') ? { accessRestored: true } : {}),
    },
  };
}
