import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { nextLink, verifyChain, type ChainHead, type ChainLink, type ChainReport, type ChainedRecord } from '../../../domain/hash-chain.ts';
import {
  chainIdOf,
  type AnchorStore,
  type ChainAnchors,
  type ChainName,
  type LedgerChains,
  type SealResult,
} from '../../../record/ports.ts';
import { conditionally } from '../dynamo.ts';
import type { LedgerTable } from './ledger-table.ts';

/** The attributes a seal writes: a record's link, and the head's fields (with the keys that address them). IAM limits sealing-only roles to them. */
export const CHAIN_ATTRIBUTES = ['pk', 'sk', 'chain', 'chainId', 'seq', 'hash', 'prev', 'headSk'] as const;

/** The sort key of a chain's head, in the chain's own partition. */
export const CHAIN_HEAD_SK = '#CHAIN';
const LINK = 'chain';
/**
 * Records older than this are not sealed by a later write: a record written by hand, back-dated,
 * stays UNSEALED (verify reports it) instead of being sealed into the chain by the next write.
 * Longer than any retry of a failed seal (the deadline watch runs every 15 minutes).
 */
export const SEAL_WINDOW_MS = 60 * 60_000;
/** …and records dated further ahead than clocks drift are not sealed either. */
const FUTURE_SKEW_MS = 5 * 60_000;
/** Seal attempts before giving up under contention (each attempt seals everything it found). */
const MAX_ATTEMPTS = 25;

interface StoredHead extends ChainHead {
  prev: string;
}

/** A chain in the table: its id, and the partition and key prefix of its records. */
interface ChainRef {
  chainId: string;
  pk: string;
  prefix: string;
}

/** Where each chain's records are (the keys of LedgerKeys.timeline and LedgerKeys.audit). */
export function chainRef(name: ChainName): ChainRef {
  const chainId = chainIdOf(name);
  return name.kind === 'incident'
    ? { chainId, pk: `INCIDENT#${name.incidentId}`, prefix: 'EVENT#' }
    : { chainId, pk: `AUDIT#${name.programId}#${name.scope}`, prefix: 'V#' };
}

/**
 * Hash chains over ledger records, sealed after the record is written (the write itself stays one
 * conditional put). Appending is lock-free without transactions (dynalite has none): the head item
 * is the one place a link is decided — a conditional update from place n to n + 1 that also keeps
 * the new link — and the record gets its link after. A sealer that finds the head's record without
 * its link (its sealer died in between) finishes it from the head, so a crash never leaves a gap
 * and two sealers never give one place to two records. Every sealer seals everything it finds, so
 * each attempt makes progress whoever wins.
 */
export class HashChains implements LedgerChains {
  constructor(
    private readonly table: LedgerTable,
    private readonly anchors?: ChainAnchors,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async seal(name: ChainName): Promise<SealResult> {
    const ref = chainRef(name);
    let linked = 0;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      // The head first, then the records: records read after the head are at least as new as it,
      // so a record this seal finds unsealed has no place yet, or is the head's own (finished below).
      let head = await this.#head(ref);
      const items = (await this.table.queryPrefixRaw(ref.pk, ref.prefix)).map(rawRecord);
      if (head) {
        const pending = items.find((i) => i.sk === head!.sk);
        if (pending && !pending.link && !pending.malformed) {
          await this.#setLink(ref, head.sk, { seq: head.seq, prev: head.prev, hash: head.hash });
          pending.link = { seq: head.seq, prev: head.prev, hash: head.hash };
        }
      }
      const now = this.clock().getTime();
      const unsealed = items
        .filter((i) => !i.link && !i.malformed && now - Date.parse(i.at) <= SEAL_WINDOW_MS && Date.parse(i.at) <= now + FUTURE_SKEW_MS)
        .sort((a, b) => a.at.localeCompare(b.at) || a.sk.localeCompare(b.sk));
      if (!unsealed.length) return { ...(head ? { head: publicHead(head) } : {}), sealed: linked };
      let lost = false;
      for (const item of unsealed) {
        const link = nextLink(ref.chainId, item.record, head);
        if (!(await this.#advance(ref, head, link, item.sk))) {
          lost = true;
          break;
        }
        await this.#setLink(ref, item.sk, link);
        head = { chainId: ref.chainId, seq: link.seq, hash: link.hash, prev: link.prev, sk: item.sk };
        linked += 1;
      }
      if (!lost) {
        await this.anchors?.export(publicHead(head!));
        return { head: publicHead(head!), sealed: linked };
      }
    }
    throw new Error(`could not seal chain ${ref.chainId} in ${MAX_ATTEMPTS} attempts: other writers kept advancing it`);
  }

  async verify(name: ChainName): Promise<ChainReport> {
    const ref = chainRef(name);
    const [items, head, anchors] = await Promise.all([
      this.table.queryPrefixRaw(ref.pk, ref.prefix).then((raw) => raw.map(rawRecord)),
      this.#head(ref),
      this.anchors ? this.anchors.list(ref.chainId) : Promise.resolve([]),
    ]);
    const malformed = items.find((item) => item.malformed);
    if (malformed) {
      const report = verifyChain(ref.chainId, [], head ? publicHead(head) : undefined);
      return {
        ...report,
        status: 'BROKEN',
        records: items.length,
        broken: { problem: 'EDITED', sk: malformed.sk, detail: 'its link is not a link (seq, prev, hash): edited by hand' },
      };
    }
    // The head decides a place before its record gets the link: a record the head names without
    // its link is a seal that stopped in between (the next seal finishes it), not a gap.
    const records = items.map((item) => {
      const link = item.link ?? (head && item.sk === head.sk ? { seq: head.seq, prev: head.prev, hash: head.hash } : undefined);
      return { ...item.record, ...(link ? { link } : {}) };
    });
    return verifyChain(ref.chainId, records, head ? publicHead(head) : undefined, anchors);
  }

  async anchorStore(): Promise<AnchorStore | undefined> {
    return this.anchors?.describe();
  }

  async #head(ref: ChainRef): Promise<StoredHead | undefined> {
    const { Item } = await this.table.client.send(
      new GetCommand({ TableName: this.table.tableName, Key: { pk: ref.pk, sk: CHAIN_HEAD_SK }, ConsistentRead: true }),
    );
    if (!Item) return undefined;
    return {
      chainId: String(Item.chainId),
      seq: Number(Item.seq),
      hash: String(Item.hash),
      prev: String(Item.prev),
      sk: String(Item.headSk),
    };
  }

  /** Move the head from `from` (none: the chain is empty) to `link`; false when another sealer moved it first. */
  #advance(ref: ChainRef, from: StoredHead | undefined, link: ChainLink, sk: string): Promise<boolean> {
    return conditionally(() =>
      this.table.client.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: { pk: ref.pk, sk: CHAIN_HEAD_SK },
          UpdateExpression: 'SET chainId = :chain, seq = :seq, #hash = :hash, prev = :prev, headSk = :sk',
          ConditionExpression: from ? 'seq = :from AND #hash = :fromHash' : 'attribute_not_exists(pk)',
          ExpressionAttributeNames: { '#hash': 'hash' },
          ExpressionAttributeValues: {
            ':chain': ref.chainId,
            ':seq': link.seq,
            ':hash': link.hash,
            ':prev': link.prev,
            ':sk': sk,
            ...(from ? { ':from': from.seq, ':fromHash': from.hash } : {}),
          },
        }),
      ),
    );
  }

  /** Give a record its link, once (another sealer finishing the same link writes the same value). */
  async #setLink(ref: ChainRef, sk: string, link: ChainLink): Promise<void> {
    await conditionally(() =>
      this.table.client.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: { pk: ref.pk, sk },
          UpdateExpression: 'SET #link = :link',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#link)',
          ExpressionAttributeNames: { '#link': LINK },
          ExpressionAttributeValues: { ':link': link },
        }),
      ),
    );
  }
}

export interface RawRecord {
  sk: string;
  at: string;
  record: Omit<ChainedRecord, 'link'>;
  link?: ChainLink;
  /** It has a `chain` attribute that is not a link. */
  malformed: boolean;
}

/** A stored item as a chain hashes it: its attributes in DynamoDB's wire form, canonical (sets sorted, binary as base64). */
export function rawRecord(item: Record<string, AttributeValue>): RawRecord {
  const { pk, sk, [LINK]: link, ...rest } = item;
  const content = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, canonicalValue(v)]));
  const parsed = link ? linkOf(link) : undefined;
  return {
    sk: sk?.S ?? '',
    at: rest.at?.S ?? '',
    record: { pk: pk?.S ?? '', sk: sk?.S ?? '', content },
    ...(parsed ? { link: parsed } : {}),
    malformed: link !== undefined && !parsed,
  };
}

const base64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

function canonicalValue(v: AttributeValue): unknown {
  if (v.S !== undefined) return { S: v.S };
  if (v.N !== undefined) return { N: v.N };
  if (v.BOOL !== undefined) return { BOOL: v.BOOL };
  if (v.NULL !== undefined) return { NULL: true };
  if (v.B !== undefined) return { B: base64(v.B) };
  if (v.SS !== undefined) return { SS: [...v.SS].sort() };
  if (v.NS !== undefined) return { NS: [...v.NS].sort() };
  if (v.BS !== undefined) return { BS: v.BS.map(base64).sort() };
  if (v.L !== undefined) return { L: v.L.map(canonicalValue) };
  if (v.M !== undefined) return { M: Object.fromEntries(Object.entries(v.M).map(([k, m]) => [k, canonicalValue(m)])) };
  return { [Object.keys(v)[0] ?? '?']: null };
}

function linkOf(v: AttributeValue): ChainLink | undefined {
  const m = v.M;
  const seq = Number(m?.seq?.N);
  if (!m || !Number.isSafeInteger(seq) || seq < 1 || m.prev?.S === undefined || m.hash?.S === undefined) return undefined;
  return { seq, prev: m.prev.S, hash: m.hash.S };
}

function publicHead(head: StoredHead): ChainHead {
  return { chainId: head.chainId, seq: head.seq, hash: head.hash, sk: head.sk };
}
