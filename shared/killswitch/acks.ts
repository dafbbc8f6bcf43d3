/**
 * Halt acknowledgements (docs/state-feed.md §7, docs/architecture.md "Halt acknowledgements"):
 * agents report `{collectorId, programId, seq, allowed, at}` on every change and as a heartbeat.
 * The intake checks each one (shape, program, the agent's HMAC) and queues it; the aggregator
 * folds it into per-agent records and sharded counters, never one hot item; the incident's
 * timeline gets `HALT_CONFIRMED` once every agent known in the last 24 hours acknowledged the pause.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from '../schemas/z.ts';
import { ProgramIdSchema, TimestampSchema } from '../schemas/common.ts';
import type { TimelineEntry } from '../schemas/ledger.ts';
import type { ProgramState } from '../schemas/program-state.ts';
import { seqOf } from './state-seq.ts';
import { agentSecret } from './enrolment.ts';

export const ACK_SIGNATURE_HEADER = 'x-killswitch-signature';
/** The largest acknowledgement body accepted (a real one is about 200 bytes). */
export const MAX_ACK_BYTES = 1024;

export const AckSchema = z
  .object({
    collectorId: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be 1-128 of A-Z a-z 0-9 . _ : -'),
    programId: ProgramIdSchema,
    seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    allowed: z.boolean(),
    at: TimestampSchema,
    kind: z.enum(['change', 'heartbeat']),
  })
  .strict();
export type Ack = z.infer<typeof AckSchema>;
export interface ReceivedAck extends Ack {
  /** When the intake accepted it (the endpoint's clock; `at` is the agent's claim). */
  receivedAt: string;
}

export type AckCheck = { ok: true; ack: ReceivedAck } | { ok: false; status: 400 | 401 | 403 | 413; reason: string };

/**
 * Check one acknowledgement as the endpoint received it. The signature is checked before anything
 * in the body is believed, and compared in constant time.
 */
export function checkAck(input: {
  body: string;
  signature: string | undefined;
  master: Buffer;
  programs: ReadonlySet<string>;
  now: Date;
}): AckCheck {
  if (Buffer.byteLength(input.body) > MAX_ACK_BYTES) return { ok: false, status: 413, reason: `body: larger than ${MAX_ACK_BYTES} bytes` };
  let raw: unknown;
  try {
    raw = JSON.parse(input.body);
  } catch {
    return { ok: false, status: 400, reason: 'body: not JSON' };
  }
  const collectorId = (raw as { collectorId?: unknown } | null)?.collectorId;
  if (typeof collectorId !== 'string' || !/^[A-Za-z0-9._:-]{1,128}$/.test(collectorId))
    return { ok: false, status: 400, reason: 'collectorId: must be 1-128 of A-Z a-z 0-9 . _ : -' };
  const mac = /^v1=([A-Za-z0-9_-]{43})$/.exec(input.signature ?? '');
  if (!mac) return { ok: false, status: 401, reason: `${ACK_SIGNATURE_HEADER}: missing or not v1=<base64url HMAC-SHA256>` };
  const expected = createHmac('sha256', agentSecret(input.master, collectorId)).update(input.body).digest();
  const given = Buffer.from(mac[1]!, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, status: 401, reason: `${ACK_SIGNATURE_HEADER}: does not verify for ${collectorId}` };
  const parsed = AckSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { ok: false, status: 400, reason: `${issue.path.join('.') || 'body'}: ${issue.message}` };
  }
  if (!input.programs.has(parsed.data.programId))
    return { ok: false, status: 403, reason: `programId: ${parsed.data.programId} is not a program of this deployment` };
  return { ok: true, ack: { ...parsed.data, receivedAt: input.now.toISOString() } };
}

export interface AckQueue {
  send(ack: ReceivedAck): Promise<void>;
}

/** The largest `exp − iat` an agent accepts (the agent SDK's MAX_VALIDITY_SECONDS, docs/state-feed.md §3). */
export const MAX_DOCUMENT_VALIDITY_SECONDS = 3600;

/** One HALT_CONFIRMED per pause (scope and version), however it was proven. */
const haltConfirmedKey = (s: Pick<ProgramState, 'programId' | 'scope' | 'version'>) =>
  `HALT_CONFIRMED#${s.programId}#${s.scope}#${s.version}`;

/** What the fleet said about one program's state `seq`. */
export interface HaltCounts {
  seq: number;
  /** Agents that acknowledged `seq` with allowed = false / true. */
  halted: number;
  collecting: number;
  /** Agents heard from (any acknowledgement) in the last 24 hours. */
  known: number;
  /** Known agents that have not acknowledged `seq` (yet). */
  silent: number;
}

export interface AckStore {
  /** Fold one acknowledgement in. `first`: the first time this agent acknowledged this seq with this verdict. */
  record(ack: ReceivedAck): Promise<{ first: boolean }>;
  /** `quick`: known from the current and the previous hour only (a lower bound of the 24 hours' known). */
  counts(programId: string, seq: number, now: Date, options?: { quick?: boolean }): Promise<HaltCounts>;
}

export interface AckAggregatorDeps {
  store: AckStore;
  states: { list(programId: string): Promise<ProgramState[]> };
  incidents: { record(entryKey: string, entry: TimelineEntry): Promise<boolean> };
  now?: () => Date;
  /** Count the fleet at most this often per program and seq, per container (a fleet acknowledges in a burst). @default 1000 */
  checkEveryMs?: number;
}

export class AckAggregator {
  readonly #lastCheck = new Map<string, number>();
  constructor(private readonly deps: AckAggregatorDeps) {}

  /** Fold an acknowledgement in; on the first halted one of the current paused state, see whether the fleet has halted. */
  async apply(ack: ReceivedAck): Promise<{ first: boolean; haltConfirmed: string[] }> {
    const { first } = await this.deps.store.record(ack);
    // A redelivered halted acknowledgement checks again (not only the first): a crash after its
    // record must not lose the confirmation it completes. Recording is idempotent; the check is throttled.
    if (ack.allowed) return { first, haltConfirmed: [] };
    // A burst of acknowledgements would count the fleet once each: once a second is enough, and the
    // acknowledgement that completes the fleet always counts (it comes after the others were recorded).
    const key = `${ack.programId}#${ack.seq}`;
    const nowMs = (this.deps.now?.() ?? new Date()).getTime();
    const last = this.#lastCheck.get(key);
    this.#lastCheck.set(key, nowMs);
    if (this.#lastCheck.size > 1000) this.#lastCheck.clear();
    if (last !== undefined && nowMs - last < (this.deps.checkEveryMs ?? 1000) && !(await this.#mayComplete(ack)))
      return { first, haltConfirmed: [] };
    const states = await this.deps.states.list(ack.programId);
    if (seqOf(states) !== ack.seq) return { first, haltConfirmed: [] }; // not (or no longer) the current state
    const paused = states.filter((s) => s.status === 'PAUSED' && s.incidentId);
    if (!paused.length) return { first, haltConfirmed: [] };
    const now = this.deps.now?.() ?? new Date();
    const counts = await this.deps.store.counts(ack.programId, ack.seq, now);
    if (counts.silent > 0 || counts.halted < counts.known) return { first, haltConfirmed: [] };
    const confirmed: string[] = [];
    for (const s of paused) {
      const recorded = await this.deps.incidents.record(haltConfirmedKey(s), {
        incidentId: s.incidentId!,
        at: now.toISOString(),
        type: 'HALT_CONFIRMED',
        actor: 'killswitch:aggregate-acks',
        message: `every agent known in the last 24 hours (${counts.known}) acknowledged the pause (state seq ${ack.seq})`,
        data: { by: 'acknowledgements', seq: ack.seq, halted: counts.halted, known: counts.known, scope: s.scope },
      });
      if (recorded) confirmed.push(s.incidentId!);
    }
    return { first, haltConfirmed: confirmed };
  }

  /**
   * The other way a halt is proven (issue 17): once every document signed before a pause has
   * expired, no agent may collect under it, acknowledged or not — an agent that did not fetch the
   * pause stops when its last ACTIVE document runs out (docs/state-feed.md §5). A document that
   * showed the scope ACTIVE was read before the flip was stored and signed at most
   * `publisherTimeoutSeconds` later. The flip is stored at most the pausing function's run after
   * `changedAt` (read before its write), and a document is valid at most `validitySeconds` — pass
   * the largest validity any agent accepts (3600 s), not today's setting, so documents signed
   * under an earlier, longer setting are covered. `marginSeconds` covers that run and the clocks.
   * Run on a schedule; records once per pause (the same entry key as the acknowledgements'
   * confirmation, so whichever comes first is the one recorded). One program's failure does not
   * stop the others: it is returned in `failed`.
   */
  async confirmByExpiry(
    programIds: readonly string[],
    settings: { validitySeconds: number; publisherTimeoutSeconds: number; marginSeconds: number },
  ): Promise<{ confirmed: string[]; failed: { programId: string; error: string }[] }> {
    const now = this.deps.now?.() ?? new Date();
    const afterMs = (settings.validitySeconds + settings.publisherTimeoutSeconds + settings.marginSeconds) * 1000;
    const confirmed: string[] = [];
    const failed: { programId: string; error: string }[] = [];
    for (const programId of programIds) {
      try {
        confirmed.push(...(await this.#confirmProgramByExpiry(programId, now, afterMs)));
      } catch (error) {
        failed.push({ programId, error: (error as Error).message });
      }
    }
    return { confirmed, failed };
  }

  async #confirmProgramByExpiry(programId: string, now: Date, afterMs: number): Promise<string[]> {
    const states = await this.deps.states.list(programId);
    const due = states.filter((s) => s.status === 'PAUSED' && s.incidentId && Date.parse(s.changedAt) + afterMs <= now.getTime());
    if (!due.length) return [];
    const seq = seqOf(states);
    const counts = await this.deps.store.counts(programId, seq, now);
    const confirmed: string[] = [];
    for (const s of due) {
      const expiredAt = new Date(Date.parse(s.changedAt) + afterMs).toISOString();
      const recorded = await this.deps.incidents.record(haltConfirmedKey(s), {
        incidentId: s.incidentId!,
        at: now.toISOString(),
        type: 'HALT_CONFIRMED',
        actor: 'killswitch:aggregate-acks',
        message:
          `every state document signed before the pause has expired (by ${expiredAt}): no agent may collect under one ` +
          '(given the feed’s honest Date, docs/state-feed.md §6); ' +
          `${counts.halted} of ${counts.known} known agents acknowledged the pause, ${counts.silent} silent`,
        data: { by: 'expiry', seq, expiredAt, halted: counts.halted, known: counts.known, silent: counts.silent, scope: s.scope },
      });
      if (recorded) confirmed.push(s.incidentId!);
    }
    return confirmed;
  }

  /** Cheap pre-check between full counts: one Query of the halted counter against the known agents of this hour and the last. */
  async #mayComplete(ack: ReceivedAck): Promise<boolean> {
    const counts = await this.deps.store.counts(ack.programId, ack.seq, this.deps.now?.() ?? new Date(), { quick: true });
    return counts.halted >= counts.known;
  }
}
