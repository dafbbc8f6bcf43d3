import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GENESIS, nextLink, verifyChain, type ChainHead, type ChainedRecord } from '#shared/domain/hash-chain.ts';

/*
 * The chain's promise: after a record is sealed, any change to the table that concerns it — an
 * attribute edited, added or removed, the record moved to another key, removed, two records
 * swapped, a link rewritten — is found by verify, which names the first place that no longer holds.
 * The only way past it is to rewrite every later link and the head, and that is what the exported
 * anchors catch.
 */

const CHAIN = 'incident/inc-20261204-aaaaaaaaaaaa';
const PK = 'INCIDENT#inc-20261204-aaaaaaaaaaaa';

const entry = fc.record({
  type: fc.constantFrom('OPENED', 'STATE_CHANGED', 'GRANTS_REVOKED', 'NOTICES_PLANNED', 'RESUMED'),
  actor: fc.string({ maxLength: 12 }),
  message: fc.string({ maxLength: 40 }),
  n: fc.integer(),
  data: fc.option(
    fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), fc.oneof(fc.integer(), fc.string({ maxLength: 8 }), fc.boolean())),
  ),
});

function seal(contents: Record<string, unknown>[]): { records: ChainedRecord[]; head: ChainHead | undefined } {
  const records: ChainedRecord[] = [];
  let head: ChainHead | undefined;
  contents.forEach((content, i) => {
    const record = { pk: PK, sk: `EVENT#${String(i).padStart(4, '0')}`, content };
    const link = nextLink(CHAIN, record, head);
    records.push({ ...record, link });
    head = { chainId: CHAIN, seq: link.seq, hash: link.hash, sk: record.sk };
  });
  return { records, head };
}

const clone = <T>(v: T): T => structuredClone(v);

describe('Hash chains: verify finds every change to a sealed record', () => {
  it('a chain sealed in order verifies, its first link starts at GENESIS, and its head pins the last hash', () => {
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 30 }), (contents) => {
        const { records, head } = seal(contents);
        expect(records[0]!.link!.prev).toBe(GENESIS);
        const report = verifyChain(CHAIN, records, head, [{ seq: head!.seq, hash: head!.hash }]);
        expect(report).toMatchObject({ status: 'VERIFIED', records: contents.length, sealed: contents.length, anchorsChecked: 1 });
        expect(report.head).toEqual({ seq: head!.seq, hash: head!.hash });
      }),
    );
  });

  it('an attribute edited, added or removed anywhere is EDITED at that record', () => {
    fc.assert(
      fc.property(
        fc.array(entry, { minLength: 1, maxLength: 20 }),
        fc.nat(),
        fc.constantFrom('edit', 'add', 'remove', 'move'),
        (contents, at, how) => {
          const { records, head } = seal(contents);
          const i = at % records.length;
          const tampered = clone(records);
          const target = tampered[i]!;
          if (how === 'edit') target.content.message = `${String(target.content.message)}!`;
          if (how === 'add') target.content.addedByHand = true;
          if (how === 'remove') delete target.content.actor;
          if (how === 'move') target.sk = `${target.sk}-moved`;
          const report = verifyChain(CHAIN, tampered, head);
          expect(report.status).toBe('BROKEN');
          expect(report.broken).toMatchObject({ problem: 'EDITED', seq: i + 1, sk: target.sk });
        },
      ),
    );
  });

  it('a record removed is MISSING at its place (the last one: the head says so)', () => {
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 20 }), fc.nat(), (contents, at) => {
        const { records, head } = seal(contents);
        const i = at % records.length;
        const report = verifyChain(
          CHAIN,
          records.filter((_, j) => j !== i),
          head,
        );
        expect(report.status).toBe('BROKEN');
        expect(report.broken).toMatchObject({ problem: 'MISSING', seq: i + 1 });
      }),
    );
  });

  it('two records swapped (their links with them, or not) are found at the first of them', () => {
    fc.assert(
      fc.property(fc.array(entry, { minLength: 2, maxLength: 20 }), fc.nat(), fc.boolean(), (contents, at, withLinks) => {
        const { records, head } = seal(contents);
        const i = at % (records.length - 1);
        const tampered = clone(records);
        if (withLinks) {
          // Move the links: each record now claims the other's place.
          [tampered[i]!.link, tampered[i + 1]!.link] = [tampered[i + 1]!.link, tampered[i]!.link];
        } else {
          [tampered[i]!.content, tampered[i + 1]!.content] = [tampered[i + 1]!.content, tampered[i]!.content];
        }
        const report = verifyChain(CHAIN, tampered, head);
        if (JSON.stringify(records[i]!.content) === JSON.stringify(records[i + 1]!.content) && !withLinks) return;
        expect(report.status).toBe('BROKEN');
        expect(report.broken!.seq).toBe(i + 1);
        expect(['EDITED', 'RELINKED']).toContain(report.broken!.problem);
      }),
    );
  });

  it('a chain rewritten from an edit onwards (every later link and the head recomputed) passes the table check, and an anchor exported before finds it', () => {
    fc.assert(
      fc.property(fc.array(entry, { minLength: 2, maxLength: 20 }), fc.nat(), (contents, at) => {
        const original = seal(contents);
        const i = at % contents.length;
        const edited = clone(contents);
        edited[i] = { ...edited[i]!, message: 'rewritten by hand' };
        if (JSON.stringify(edited[i]) === JSON.stringify(contents[i])) return;
        const rewritten = seal(edited);
        // The table alone cannot tell: every link holds.
        expect(verifyChain(CHAIN, rewritten.records, rewritten.head).status).toBe('VERIFIED');
        // The head exported when the original was sealed (Object Lock kept it) can.
        const anchor = { seq: original.head!.seq, hash: original.head!.hash };
        const report = verifyChain(CHAIN, rewritten.records, rewritten.head, [anchor]);
        expect(report.status).toBe('BROKEN');
        expect(report.broken).toMatchObject({ problem: 'ANCHOR', seq: anchor.seq });
      }),
    );
  });

  it('a record written and not yet sealed is UNSEALED, not broken; the head removed or behind is HEAD', () => {
    const { records, head } = seal([{ type: 'OPENED' }, { type: 'STATE_CHANGED' }]);
    const pending: ChainedRecord = { pk: PK, sk: 'EVENT#9999', content: { type: 'NOTICES_PLANNED' } };
    expect(verifyChain(CHAIN, [...records, pending], head)).toMatchObject({ status: 'UNSEALED', unsealed: ['EVENT#9999'] });
    expect(verifyChain(CHAIN, records, undefined).broken).toMatchObject({ problem: 'HEAD' });
    expect(verifyChain(CHAIN, records, { ...head!, seq: 1, hash: records[0]!.link!.hash }).broken).toMatchObject({ problem: 'HEAD' });
    expect(verifyChain(CHAIN, [], undefined)).toMatchObject({ status: 'VERIFIED', records: 0 });
  });

  it('the hash covers the chain id: a record copied into another chain does not verify there', () => {
    const { records, head } = seal([{ type: 'OPENED' }]);
    const report = verifyChain('incident/inc-20261204-bbbbbbbbbbbb', records, { ...head!, chainId: 'incident/inc-20261204-bbbbbbbbbbbb' });
    expect(report.broken).toMatchObject({ problem: 'EDITED', seq: 1 });
  });
});
