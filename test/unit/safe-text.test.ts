import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { escapeForSqs, replaceForSqs } from '#shared/adapters/aws/safe-text.ts';

/** What SQS accepts in a body (fauxqs's stricter reading: no surrogate pairs either). */
// eslint-disable-next-line no-control-regex -- the ranges SQS documents start with tab, LF and CR
const SQS_STRICT = /^[\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD]*$/;
/** What SQS documents: the same plus well-formed pairs (characters U+10000 to U+10FFFF). */
// eslint-disable-next-line no-control-regex -- as above
const SQS_DOCUMENTED = /^[\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;

describe('Text that SQS and SNS accept', () => {
  it('escapes any JSON so that SQS takes it and it parses back to the same value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string({ unit: 'binary' }), (value, text) => {
        for (const v of [value, { text }]) {
          const body = escapeForSqs(JSON.stringify(v));
          expect(body).toMatch(SQS_STRICT);
          expect(JSON.parse(body)).toEqual(JSON.parse(JSON.stringify(v)));
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('replaces what SQS refuses in plain text, and keeps the rest (emoji included)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        expect(replaceForSqs(text)).toMatch(SQS_DOCUMENTED);
      }),
      { numRuns: 2_000 },
    );
    expect(replaceForSqs('ok 🙂 \u0000 \ud800 \uffff')).toBe('ok 🙂 \ufffd \ufffd \ufffd');
  });
});
