import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { displayWidth, outputFormatOf, table, terminalSafe } from '#cli/format.ts';
import { since } from '#cli/options.ts';

describe('CLI rendering of untrusted text', () => {
  it('never lets a control, bidi or line-breaking character through, whatever the text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const safe = terminalSafe(text);
        // Every C0/C1 control, DEL, the bidi controls, zero-width and invisible format characters, tag characters, separators.
        expect(safe).not.toMatch(
          // eslint-disable-next-line no-control-regex
          /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb\u{e0000}-\u{e007f}]/u,
        );
        // Nothing else changes: printable text is printed as it is.
        if (!/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(text)) expect(safe).toBe(text);
      }),
    );
  });

  it('aligns columns by what a terminal shows: wide characters take two columns, combining marks none', () => {
    expect(displayWidth('社員')).toBe(4);
    expect(displayWidth('e\u0301')).toBe(1);
    const out = table(
      [
        { who: '社員データ', n: 1 },
        { who: 'abc', n: 2 },
      ],
      ['who', 'n'],
    ).split('\n');
    const column = (line: string) => displayWidth(line.slice(0, line.lastIndexOf(' ') + 1));
    expect(new Set(out.map(column)).size).toBe(1);
  });

  it('reads the output format before parsing, the last one given winning', () => {
    expect(outputFormatOf(['status'], {})).toBe('table');
    expect(outputFormatOf(['-o', 'yaml', 'status'], {})).toBe('yaml');
    expect(outputFormatOf(['-oyaml'], {})).toBe('yaml');
    expect(outputFormatOf(['--output=json'], {})).toBe('json');
    expect(outputFormatOf(['--json', '-o', 'table'], {})).toBe('table');
    expect(outputFormatOf(['status'], { KILLSWITCH_OUTPUT: 'yaml' })).toBe('yaml');
    expect(outputFormatOf(['--', '--json'], {})).toBe('table');
  });

  it('takes --since as an ISO time or a duration back from now', () => {
    const now = new Date('2026-12-03T12:00:00Z');
    expect(since('30m', now)).toBe('2026-12-03T11:30:00.000Z');
    expect(since('7d', now)).toBe('2026-11-26T12:00:00.000Z');
    expect(since('2026-12-01T09:00+01:00', now)).toBe('2026-12-01T08:00:00.000Z');
    expect(() => since('yesterday', now)).toThrow(/ISO 8601/);
  });
});
