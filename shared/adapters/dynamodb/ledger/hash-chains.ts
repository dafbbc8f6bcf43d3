import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { nextLink, verifyChain, type ChainHead, type ChainLink, type ChainReport, type ChainedRecord } from '../../../domain/hash-chain.ts';
import type { AnchorStore, ChainAnchors, ChainName, LedgerChains } from '../../../record/ports.ts';
import { conditionally } from '../dynamo.ts';
import type { LedgerTable } from './ledger-table.ts';

/** The sort key of a chain's head, in the chain's own partition. */
export const CHAIN_HEAD_SK = '#CHAIN';
const LINK = 'chain';
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
  return name.kind === 'incident'
    ? { chainId: `incident/${name.incidentId}`, pk: `INCIDENT#${name.incidentId}`, prefix: 'EVENT#' }
    : { chainId: `audit/${name.programId}/${name.scope}`, pk: `AUDIT#${name.programId}#${name.scope}`, prefix: 'V#' };
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
  ) {}

  async seal(name: ChainName): Promise<ChainHead | undefined> {
    const ref = chainRef(name);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      const [items, stored] = await Promise.all([this.table.queryPrefixWithKeys(ref.pk, ref.prefix), this.#head(ref)]);
      let head = stored;
      if (head) {
        const pending = items.find((i) => i.sk === head!.sk);
        if (pending && !pending[LINK]) {
          await this.#setLink(ref, head.sk, { seq: head.seq, prev: head.prev, hash: head.hash });
          pending[LINK] = { seq: head.seq, prev: head.prev, hash: head.hash };
        }
      }
      const unsealed = items.filter((i) => !i[LINK]).sort(recordOrder);
      if (!unsealed.length) return head ? publicHead(head) : undefined;
      let lost = false;
      for (const item of unsealed) {
        const record = toRecord(item);
        const link = nextLink(ref.chainId, record, head);
        if (!(await this.#advance(ref, head, link, record.sk))) {
          lost = true;
          break;
        }
        await this.#setLink(ref, record.sk, link);
        head = { chainId: ref.chainId, seq: link.seq, hash: link.hash, prev: link.prev, sk: record.sk };
      }
      if (!lost) {
        await this.anchors?.export(publicHead(head!));
        return publicHead(head!);
      }
    }
    throw new Error(`could not seal chain ${ref.chainId} in ${MAX_ATTEMPTS} attempts: other writers kept advancing it`);
  }

  async verify(name: ChainName): Promise<ChainReport> {
    const ref = chainRef(name);
    const [items, head, anchors] = await Promise.all([
      this.table.queryPrefixWithKeys(ref.pk, ref.prefix),
      this.#head(ref),
      this.anchors ? this.anchors.list(ref.chainId) : Promise.resolve([]),
    ]);
    const malformed = items.find((item) => item[LINK] !== undefined && !isLink(item[LINK]));
    if (malformed) {
      const report = verifyChain(ref.chainId, [], head ? publicHead(head) : undefined);
      return {
        ...report,
        status: 'BROKEN',
        records: items.length,
        broken: { problem: 'EDITED', sk: String(malformed.sk), detail: 'its link is not a link (seq, prev, hash): edited by hand' },
      };
    }
    // The head decides a place before its record gets the link: a record the head names without
    // its link is a seal that stopped in between (the next seal finishes it), not a gap.
    const records = items.map((item) => {
      const link = isLink(item[LINK])
        ? item[LINK]
        : head && item.sk === head.sk && item[LINK] === undefined
          ? { seq: head.seq, prev: head.prev, hash: head.hash }
          : undefined;
      return { ...toRecord(item), ...(link ? { link } : {}) };
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
          ConditionExpression: from ? 'seq = :from' : 'attribute_not_exists(pk)',
          ExpressionAttributeNames: { '#hash': 'hash' },
          ExpressionAttributeValues: {
            ':chain': ref.chainId,
            ':seq': link.seq,
            ':hash': link.hash,
            ':prev': link.prev,
            ':sk': sk,
            ...(from ? { ':from': from.seq } : {}),
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

function toRecord(item: Record<string, unknown>): Omit<ChainedRecord, 'link'> {
  const { pk, sk, [LINK]: _link, ...content } = item;
  return { pk: String(pk), sk: String(sk), content };
}

function isLink(value: unknown): value is ChainLink {
  const v = value as Partial<ChainLink> | undefined;
  return typeof v === 'object' && v !== null && typeof v.seq === 'number' && typeof v.prev === 'string' && typeof v.hash === 'string';
}

/** Records are sealed in the order they happened (then by key), so a chain reads like its timeline. */
function recordOrder(a: Record<string, unknown>, b: Record<string, unknown>): number {
  const at = String(a.at ?? '').localeCompare(String(b.at ?? ''));
  return at !== 0 ? at : String(a.sk).localeCompare(String(b.sk));
}

function publicHead(head: StoredHead): ChainHead {
  return { chainId: head.chainId, seq: head.seq, hash: head.hash, sk: head.sk };
}
