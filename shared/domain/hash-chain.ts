import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

/*
 * The ledger's hash chains (issue 19), without I/O. Every chained record carries a link: its place
 * in its chain (`seq`), the hash of the link before it (`prev`), and its own `hash`, a SHA-256 over
 * the chain's id, the record's key, its place, `prev` and its content in RFC 8785 canonical JSON.
 * Changing any attribute of a sealed record, moving it to another key, removing it or reordering
 * records changes a hash that a later link (or an exported chain head) pins.
 */

/** The `prev` of a chain's first link. */
export const GENESIS = '0'.repeat(64);

export interface ChainLink {
  seq: number;
  prev: string;
  hash: string;
}

/** A chained record as stored: its key, its content (every attribute but the key and the link), and its link if sealed. */
export interface ChainedRecord {
  pk: string;
  sk: string;
  content: Record<string, unknown>;
  link?: ChainLink;
}

/** Where a chain ended when it was sealed: kept in the table and exported where nobody can rewrite it. */
export interface ChainHead {
  chainId: string;
  seq: number;
  hash: string;
  /** The key of the record at `seq`. */
  sk: string;
}

/** A head exported earlier (to S3 with Object Lock): the chain must still have this hash at this place. */
export interface ChainAnchor {
  seq: number;
  hash: string;
}

export function linkHash(chainId: string, record: Omit<ChainedRecord, 'link'>, seq: number, prev: string): string {
  const canonical = canonicalize({ chainId, pk: record.pk, sk: record.sk, seq, prev, content: record.content });
  if (canonical === undefined) throw new TypeError(`record ${record.sk} has no canonical JSON form`);
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

/** The link that appends `record` after `head` (no head: the chain's first). */
export function nextLink(
  chainId: string,
  record: Omit<ChainedRecord, 'link'>,
  head: Pick<ChainHead, 'seq' | 'hash'> | undefined,
): ChainLink {
  const seq = (head?.seq ?? 0) + 1;
  const prev = head?.hash ?? GENESIS;
  return { seq, prev, hash: linkHash(chainId, record, seq, prev) };
}

export type ChainProblem =
  /** The record's content or key no longer gives its hash: it was edited (or moved) after it was sealed. */
  | 'EDITED'
  /** A place in the chain has no record: one was removed, or its link was. */
  | 'MISSING'
  /** The record's `prev` is not the hash of the record before it: links were rewritten or records reordered. */
  | 'RELINKED'
  /** Two records claim the same place. */
  | 'DUPLICATE'
  /** The stored head does not match the chain's last link. */
  | 'HEAD'
  /** An exported head (kept where nobody can rewrite it) does not match the chain: it was rewritten after that export. */
  | 'ANCHOR';

export interface BrokenLink {
  problem: ChainProblem;
  /** The place in the chain, when there is one. */
  seq?: number;
  /** The record's sort key (`EVENT#…`, `V#…`), when there is one. */
  sk?: string;
  detail: string;
}

export interface ChainReport {
  chainId: string;
  /** VERIFIED: every link holds. BROKEN: `broken` names the first that does not. UNSEALED: the links hold, and `unsealed` records wait for theirs (written, not yet sealed: the next write seals them). */
  status: 'VERIFIED' | 'BROKEN' | 'UNSEALED';
  records: number;
  sealed: number;
  head?: { seq: number; hash: string };
  anchorsChecked: number;
  broken?: BrokenLink;
  /** Keys of records with no link yet. */
  unsealed: string[];
}

/**
 * Recompute a chain and report the first link that does not hold: in place order, the first record
 * whose hash, `prev` or place is wrong; then the stored head; then the exported anchors.
 */
export function verifyChain(
  chainId: string,
  records: readonly ChainedRecord[],
  head: ChainHead | undefined,
  anchors: readonly ChainAnchor[] = [],
): ChainReport {
  const sealed = records.filter((r) => r.link).sort((a, b) => a.link!.seq - b.link!.seq);
  const unsealed = records.filter((r) => !r.link).map((r) => r.sk);
  const base = { chainId, records: records.length, sealed: sealed.length, unsealed, anchorsChecked: 0 };
  const broken = (b: BrokenLink): ChainReport => ({
    ...base,
    status: 'BROKEN',
    broken: b,
    ...(head ? { head: { seq: head.seq, hash: head.hash } } : {}),
  });

  let prev = GENESIS;
  let expected = 1;
  const hashAt = new Map<number, string>();
  for (const record of sealed) {
    const link = record.link!;
    if (link.seq < expected)
      return broken({ problem: 'DUPLICATE', seq: link.seq, sk: record.sk, detail: `place ${link.seq} is claimed by more than one record` });
    if (link.seq > expected)
      return broken({
        problem: 'MISSING',
        seq: expected,
        detail: `no record at place ${expected}${link.seq > expected + 1 ? ` (places ${expected}–${link.seq - 1})` : ''}: removed from the table, or its link was`,
      });
    if (link.prev !== prev)
      return broken({ problem: 'RELINKED', seq: link.seq, sk: record.sk, detail: `its prev is not the hash of place ${link.seq - 1}` });
    const { link: _, ...unlinked } = record;
    if (linkHash(chainId, unlinked, link.seq, link.prev) !== link.hash)
      return broken({
        problem: 'EDITED',
        seq: link.seq,
        sk: record.sk,
        detail: 'its content or key no longer gives its hash: edited after it was sealed',
      });
    hashAt.set(link.seq, link.hash);
    prev = link.hash;
    expected += 1;
  }
  const last = expected - 1;
  if (head) {
    if (head.seq > last)
      return broken({
        problem: 'MISSING',
        seq: last + 1,
        sk: head.sk,
        detail: `the head says ${head.seq} records, the table holds ${last} sealed`,
      });
    if (head.seq < last || head.hash !== prev)
      return broken({ problem: 'HEAD', seq: head.seq, sk: head.sk, detail: 'the stored head does not match the last link' });
  } else if (last > 0) {
    return broken({ problem: 'HEAD', detail: `${last} sealed records and no head: the head was removed` });
  }
  let anchorsChecked = 0;
  for (const anchor of [...anchors].sort((a, b) => a.seq - b.seq)) {
    anchorsChecked += 1;
    const hash = hashAt.get(anchor.seq);
    if (hash !== anchor.hash)
      return {
        ...broken({
          problem: 'ANCHOR',
          seq: anchor.seq,
          detail:
            hash === undefined
              ? `an exported head pins place ${anchor.seq}, which the chain no longer has`
              : `the exported head at place ${anchor.seq} has another hash: the chain was rewritten after it was exported`,
        }),
        anchorsChecked,
      };
  }
  return {
    ...base,
    status: unsealed.length ? 'UNSEALED' : 'VERIFIED',
    anchorsChecked,
    ...(last > 0 ? { head: { seq: last, hash: prev } } : {}),
  };
}
