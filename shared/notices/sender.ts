import { createHash } from 'node:crypto';
import type { Incident } from '../schemas/ledger.ts';
import type { NoticeEntry, NoticeSettings, SendBatch, SentNotice } from '../schemas/notices.ts';
import type { IncidentRecords } from '../killswitch/ports.ts';
import type { NoticeBucket, NoticeChannel, NoticeRecords, OutgoingNotice } from './ports.ts';
import { cutText, wellFormed } from '../schemas/common.ts';
import { NotFoundError } from '../domain/errors.ts';
import { renderNotice, type NoticeContext } from './render.ts';
import { inParallel, type Budget } from '../domain/work.ts';

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

/** Buckets of one batch claimed and sent at once (a batch the planner made is one bucket's). */
const BUCKET_CONCURRENCY = 4;

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
 * 1. Claim the batch's bucket of the delivery ledger (a batch of another shape: each of its
 *    buckets), and read its entries under the claim. An entry already SENT (or FAILED) is skipped —
 *    this is what makes a notice go out once. A bucket another delivery holds past the ledger's
 *    patience is "in flight": the batch is retried later instead of forgetting it. A claim or read
 *    that fails is a failure of those notices alone.
 * 2. Record on the claim the notices about to be published (they read as SENDING), render each
 *    (only that employee's categories and the exposure window), and publish with SNS
 *    PublishBatch, ten at a time, concurrently.
 * 3. Write every outcome at once (BatchWriteItem: the claim's holder alone writes its entries):
 *    SENT with the SNS message id, or back to PENDING with the error for a retry, or FAILED on the
 *    last attempt. Then give the claim up. If the outcomes cannot be written, the claim is kept:
 *    those notices read as SENDING until it is stale, and the batch comes back for them then.
 */
export class NoticeSender {
  constructor(
    private readonly deps: {
      notices: NoticeRecords;
      incidents: Pick<IncidentRecords, 'withTimeline'>;
      publisher: NoticeChannel;
      settings: NoticeSettings;
      clock?: () => Date;
    },
  ) {}

  /**
   * `budget`: the invocation's time. A bucket is claimed, and publishing starts, only while it has
   * time left (what is not started is in flight: the batch comes back for it), so the function is
   * never stopped by its timeout while it publishes.
   */
  async send(batch: SendBatch, options: { lastAttempt: boolean; budget?: Budget }): Promise<SendReport> {
    const budget = options.budget ?? { hasTime: () => true };
    const { notices } = this.deps;
    const clock = this.deps.clock ?? (() => new Date());
    const record = await this.deps.incidents.withTimeline(batch.incidentId);
    if (!record) throw new NotFoundError(`incident ${batch.incidentId} does not exist`);
    const { incident, timeline } = record;
    const context = incidentContext(
      incident,
      timeline.map((t) => ({ type: t.type, at: t.at, data: t.data })),
    );

    const report: SendReport = { sent: [], failed: [], skipped: [], inFlight: [] };
    const buckets = new Map<number, string[]>();
    for (const employeeId of new Set(batch.employeeIds)) {
      const bucket = notices.bucketOf(employeeId);
      buckets.set(bucket, [...(buckets.get(bucket) ?? []), employeeId]);
    }
    await inParallel([...buckets], BUCKET_CONCURRENCY, async ([bucket, employeeIds]) => {
      // This bucket's outcome, added to the report once known.
      const share: SendReport & { published: boolean } = { sent: [], failed: [], skipped: [], inFlight: [], published: false };
      if (!budget.hasTime()) {
        report.inFlight.push(...employeeIds);
        return;
      }
      try {
        const claim = await notices.exclusive(
          batch.incidentId,
          batch.noticeType,
          bucket,
          clock(),
          (held) => this.#sendBucket(held, employeeIds, { context, clock, lastAttempt: options.lastAttempt, share, budget }),
          { sending: employeeIds },
        );
        if (!claim.held) share.inFlight = employeeIds;
      } catch (error) {
        const settled = new Set([...share.skipped, ...share.inFlight]);
        const open = employeeIds.filter((e) => !settled.has(e));
        if (share.published) {
          // Published, and the ledger could not record the outcome: the claim is kept, and those
          // notices read as SENDING until it is stale; the batch comes back for them then (an
          // accepted notice may then go out twice).
          share.sent = [];
          share.failed = [];
          share.inFlight.push(...open);
        } else {
          // Not claimed, or not read: nothing was published. On the last attempt they are marked FAILED (best effort).
          for (const employeeId of open) {
            if (options.lastAttempt)
              await persist(() => notices.markFailed(batch.incidentId, batch.noticeType, employeeId, errorText(error))).catch(
                () => undefined,
              );
            share.failed.push({ employeeId, error: errorText(error) });
          }
        }
      }
      report.sent.push(...share.sent);
      report.failed.push(...share.failed);
      report.skipped.push(...share.skipped);
      report.inFlight.push(...share.inFlight);
    });
    return report;
  }

  /** One bucket's share of a batch, holding its claim. */
  async #sendBucket(
    held: NoticeBucket,
    employeeIds: string[],
    run: {
      context: Omit<NoticeContext, 'employee' | 'settings'>;
      clock: () => Date;
      lastAttempt: boolean;
      share: SendReport & { published: boolean };
      budget: Budget;
    },
  ): Promise<void> {
    const { share: report, context } = run;
    const stored = await held.read(employeeIds);
    const due: NoticeEntry[] = [];
    for (const employeeId of employeeIds) {
      const entry = stored.get(employeeId);
      // Nothing planned for this employee (a batch nobody planned), or done: nothing to send.
      if (!entry || entry.status === 'SENT' || entry.status === 'FAILED') report.skipped.push(employeeId);
      // PENDING, a retry, or a claim its sender abandoned (SENDING from before claims were per bucket).
      else if (entry.status === 'PENDING' || this.deps.notices.isStale(entry, run.clock())) due.push(entry);
      else report.inFlight.push(employeeId);
    }
    if (!due.length) return;
    if (!run.budget.hasTime()) {
      // Out of time before publishing: nothing is sent, and the claim is given up.
      report.inFlight.push(...due.map((e) => e.employeeId));
      return;
    }
    held.publishing();
    report.published = true;

    const size = this.deps.publisher.batchSize;
    const chunks: NoticeEntry[][] = [];
    for (let i = 0; i < due.length; i += size) chunks.push(due.slice(i, i + size));
    const claimedAt = held.claimedAt.toISOString();
    const facts = { ...factsOf(context), settings: this.deps.settings };
    const outcomes = await Promise.all(
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
          results = outgoing.map(() => ({ ok: false as const, error: errorText(error), senderFault: false }));
        }
        const now = run.clock().toISOString();
        return chunk.map((entry, i): { entry: NoticeEntry; error?: string } => {
          const { error: _previous, ...base } = entry;
          const attempted = { ...base, attempts: entry.attempts + 1, claimedAt };
          const result = results[i]!;
          if (result.ok) {
            const { notice } = outgoing[i]!;
            const sent = { templateId: notice.templateId, textSha256: textHash(notice.text), facts };
            return { entry: { ...attempted, status: 'SENT', sentAt: now, messageId: result.messageId, sent } };
          }
          const error = cutText(wellFormed(result.error), 500);
          return { entry: { ...attempted, status: run.lastAttempt ? 'FAILED' : 'PENDING', error }, error: result.error };
        });
      }),
    );
    await persist(() => held.write(outcomes.flat().map((o) => o.entry)));
    for (const { entry, error } of outcomes.flat()) {
      if (error === undefined) report.sent.push(entry.employeeId);
      else report.failed.push({ employeeId: entry.employeeId, error });
    }
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
