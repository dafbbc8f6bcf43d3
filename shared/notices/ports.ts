import type { DataSubject, NoticeEntry, NoticeType, SentNotice } from '../schemas/notices.ts';
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
 * The delivery ledger: each entry moves PENDING → SENDING (claimed by one sender) → SENT, or back
 * to PENDING for a retry, or to FAILED; every move is conditional, so nothing is sent twice.
 */
export interface NoticeRecords {
  /** A SENDING claim whose sender is presumed dead. */
  isStale(entry: Pick<NoticeEntry, 'status' | 'claimedAt'>, now: Date): boolean;
  plan(entry: Omit<NoticeEntry, 'status' | 'attempts'>): Promise<{ created: boolean; entry: NoticeEntry }>;
  get(incidentId: string, type: NoticeType, employeeId: string): Promise<NoticeEntry | undefined>;
  claim(incidentId: string, type: NoticeType, employeeId: string, now: Date): Promise<NoticeEntry | undefined>;
  /** SENDING → SENT, with the message id and what the notice said (`sent`: its template, facts and text hash). */
  markSent(incidentId: string, type: NoticeType, employeeId: string, messageId: string, now: Date, sent: SentNotice): Promise<boolean>;
  release(incidentId: string, type: NoticeType, employeeId: string, error: string): Promise<boolean>;
  markFailed(incidentId: string, type: NoticeType, employeeId: string, error: string): Promise<boolean>;
  retryFailed(incidentId: string, type: NoticeType, employeeId: string): Promise<boolean>;
  /** FAILED entries, and SENDING ones whose sender is presumed dead at `now`. */
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
