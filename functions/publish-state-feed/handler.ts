import { DetailType, KILLSWITCH_SOURCE } from '#shared/schemas/domain-events.ts';
import { instrumented } from '#shared/runtime/middleware.ts';
import { observability } from '#shared/runtime/observability.ts';
import { stateFeedServices } from '#shared/runtime/state-feed-services.ts';
import type { Published } from '#shared/killswitch/state-feed.ts';

const obs = observability('publish-state-feed');
const { env, publisher } = stateFeedServices();

interface FeedEvent {
  source?: unknown;
  'detail-type'?: unknown;
  time?: unknown;
  detail?: { programId?: unknown; engagedAt?: unknown; releasedAt?: unknown };
}

/**
 * Publishes the signed state feed. `Kill Switch Engaged`/`Released` (domain bus): that program's
 * document at once. The schedule (every minute): every program's document and the key set, so no
 * document expires while the system is healthy. Whatever the event says, what is signed is what the
 * table says; a failure is thrown, so Lambda retries and then dead-letters the event.
 */
export const handler = instrumented(async (event: FeedEvent): Promise<{ published: Published[] }> => {
  const change =
    event.source === KILLSWITCH_SOURCE &&
    (event['detail-type'] === DetailType.KillSwitchEngaged || event['detail-type'] === DetailType.KillSwitchReleased);
  const programId = change && typeof event.detail?.programId === 'string' ? event.detail.programId : undefined;
  if (change && (!programId || !env.STATE_FEED_PROGRAMS.includes(programId))) {
    obs.telemetry.warn('state change of a program the feed does not publish', { programId: String(event.detail?.programId) });
    return { published: [] };
  }
  const programs = programId ? [programId] : env.STATE_FEED_PROGRAMS;
  const results = await Promise.allSettled([
    ...programs.map((p: string) => publisher.publish(p)),
    ...(programId ? [] : [publisher.publishKeySet()]),
  ]);
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  const published = results
    .filter((r): r is PromiseFulfilledResult<Published> => r.status === 'fulfilled' && r.value !== undefined)
    .map((r) => r.value);
  const unregistered = results.slice(0, programs.length).filter((r) => r.status === 'fulfilled' && r.value === undefined).length;
  if (unregistered > 0)
    obs.telemetry.warn('programs without state: no document to sign (their agents stay closed)', { count: unregistered });
  for (const p of published) {
    obs.telemetry.count('StateDocumentsPublished', p.writes);
    // A gauge: what the feed now says, per program (its maximum over a minute is the state to show).
    obs.telemetry.gauge('ScopesPaused', p.pausedScopes, { programId: p.programId });
    const changedAt = Date.parse(String(event.detail?.engagedAt ?? event.detail?.releasedAt ?? ''));
    // The delay from the flip to the document in the feed's origin (the event's own time is when the flip was recorded).
    if (programId && Number.isFinite(changedAt)) obs.metrics.addMetric('StateFeedPublishDelay', 'Milliseconds', Date.now() - changedAt);
    obs.telemetry.info('state document published', { programId: p.programId, seq: p.seq, exp: p.exp, writes: p.writes });
  }
  if (failed.length)
    throw new AggregateError(
      failed.map((f) => f.reason as unknown),
      `state feed: ${failed.length} of ${results.length} publications failed`,
    );
  return { published };
}, obs);
