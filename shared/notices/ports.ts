import type { DataSubject, NoticeEntry, NoticeType } from '../schemas/notices.ts';
import type { RenderedNotice } from './render.ts';

/*
 * The ports of the notice use cases (plan, send): what they need from the world. The DynamoDB
 * stores (shared/adapters/dynamodb) and the SNS publisher (shared/adapters/aws) implement them.
 */

/** The employees whose data a dataset holds, in employee-id order, a page at a time. */
export interface DataSubjects {
  page(
    datasetId: string,
    options?: { after?: string; cursor?: string; limit?: number },
  ): Promise<{ subjects: DataSubject[]; cursor?: string }>;
}

export interface NoticeCounts {
  planned: number;
  pending: number;
  sending: number;
  sent: number;
  failed: number;
}

/**
 * Exclusive use of one bucket of an incident's notices of one type: the delivery ledger's claim,
 * taken for a whole batch at once. Only the holder of a bucket writes its entries, so it may write
 * them unconditionally (in batches) after reading them under the claim.
 */
export interface NoticeBucket {
  readonly bucket: number;
  /** When this claim was taken: what an entry being sent reads as its `claimedAt`. */
  readonly claimedAt: Date;
  /** The entries of `employeeIds`, read consistently (absent ones are not in the map). */
  read(employeeIds: readonly string[]): Promise<Map<string, NoticeEntry>>;
  /**
   * The point of no return: publishing starts. From here, until {@link write} records the outcome,
   * a failure keeps the claim, so the claim's notices read as SENDING until it is stale (perhaps
   * sent). Before it, a failure gives the claim up.
   */
  publishing(): void;
  /** Writes entries as they are now: PENDING when planned, SENT, PENDING (a retry) or FAILED after publishing. */
  write(entries: readonly NoticeEntry[]): Promise<void>;
  /** The claim was taken over from a holder presumed dead: the notices it was sending (perhaps sent). */
  readonly takenOver?: { sending: string[] };
}

/**
 * The delivery ledger: each entry is PENDING until a delivery records its outcome (SENT, PENDING
 * again for a retry, or FAILED), and reads as SENDING while a claim is publishing it. Claims are per bucket (a fixed share of the employees,
 * by a hash of their id): one conditional write claims up to a batch, and nothing is sent twice
 * because only a bucket's holder sends its entries, and only those it read as not sent.
 */
export interface NoticeRecords {
  /** How many buckets an incident's notices of one type are claimed in. */
  readonly buckets: number;
  /** The bucket an employee's entries are in (fixed: the same for every incident, type and plan). */
  bucketOf(employeeId: string): number;
  /**
   * Runs `work` holding the claim on one bucket, and gives it up after. Waits a little for a live
   * holder; `{ held: false }` when the bucket stayed claimed by another (live) delivery. A claim
   * older than the stale window is taken over (its holder presumed dead). `sending`: the employees
   * this claim may publish to, recorded with it: while it is held, their PENDING entries read as
   * SENDING. When `work` fails after {@link NoticeBucket.publishing} and before the outcome is
   * written, the claim is kept: those entries read as SENDING until it is stale.
   */
  exclusive<T>(
    incidentId: string,
    type: NoticeType,
    bucket: number,
    now: Date,
    work: (bucket: NoticeBucket) => Promise<T>,
    options?: { sending?: readonly string[] },
  ): Promise<{ held: true; value: T } | { held: false }>;
  /** A SENDING claim whose sender is presumed dead. */
  isStale(entry: Pick<NoticeEntry, 'status' | 'claimedAt'>, now: Date): boolean;
  /** One entry as it is now (SENDING while a claim is publishing it). */
  get(incidentId: string, type: NoticeType, employeeId: string): Promise<NoticeEntry | undefined>;
  /** Entries as written (consistent reads, without the claims' SENDING): what follow-up planning needs of the exposure notices. */
  getMany(incidentId: string, type: NoticeType, employeeIds: readonly string[]): Promise<Map<string, NoticeEntry>>;
  /** PENDING or SENDING → FAILED, with the error (a delivery that could not claim its notices on its last attempt). */
  markFailed(incidentId: string, type: NoticeType, employeeId: string, error: string): Promise<boolean>;
  retryFailed(incidentId: string, type: NoticeType, employeeId: string): Promise<boolean>;
  /** FAILED entries, SENDING ones whose sender is presumed dead at `now`, and PENDING ones no live claim is publishing. */
  failed(incidentId: string, type: NoticeType, now: Date): AsyncIterable<NoticeEntry>;
  /** Entries by status: of one notice type, or of every type when none is given. */
  counts(incidentId: string, type?: NoticeType): Promise<NoticeCounts>;
}

export interface OutgoingNotice {
  employeeId: string;
  incidentId: string;
  noticeType: string;
  notice: RenderedNotice;
}

export type PublishResult = { ok: true; messageId: string } | { ok: false; error: string; senderFault: boolean };

/** Where notices go (the exposure-notices topic): results per notice, at most `batchSize` a call. */
export interface NoticeChannel {
  readonly batchSize: number;
  publish(notices: OutgoingNotice[]): Promise<PublishResult[]>;
}
