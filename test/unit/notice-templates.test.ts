import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ALL_TEMPLATES, asciiSubject, renderNotice, templateFor } from '#shared/notices/render.ts';
import { PHRASEBOOKS, categoryLabel, requiredHeadings } from '#shared/notices/templates/phrasebook.ts';
import type { NoticeContext } from '#shared/notices/templates/types.ts';
import { incidentContext, noticeAudience } from '#shared/notices/sender.ts';
import { incidentRecord } from '../support/fixtures.ts';

const INCIDENT = incidentRecord({ incidentId: 'inc-20261127-5b40bfcd731b', openedAt: '2026-11-27T10:05:00Z' });

/*
 * Every notice template in every locale (issue 19): the five required headings in order, the
 * recipient's own categories and no one else's, never the exposed data, the facts each notice
 * type must state, and a subject SNS accepts.
 */

const CATEGORIES = ['keystrokes', 'mouse-activity', 'chat-transcripts', 'screen-metadata', 'performance-metrics'];
const SETTINGS = {
  organisation: 'Example Corp',
  contact: { email: 'privacy@example.com', url: 'https://example.com/privacy' },
  defaultLocale: 'en',
};

const context = fc.record({
  categories: fc.subarray(CATEGORIES, { minLength: 1 }),
  exposure: fc.option(
    fc.constant({ audience: 'all-staff group', window: { start: '2026-11-27T07:00:00Z', end: '2026-11-27T10:00:00Z' } }),
    {
      nil: undefined,
    },
  ),
  paused: fc.boolean(),
  accessRevoked: fc.boolean(),
  resumed: fc.boolean(),
  resolved: fc.boolean(),
  accessRestored: fc.boolean(),
});

type Sample = typeof context extends fc.Arbitrary<infer T> ? T : never;
const build = (c: Sample): NoticeContext => ({
  incident: {
    incidentId: 'inc-20261127-5b40bfcd731b',
    openedAt: '2026-11-27T10:05:00Z',
    ...(c.exposure ? { exposure: c.exposure } : {}),
    ...(c.paused ? { pausedAt: '2026-11-27T10:05:01Z' } : {}),
    accessRevoked: c.accessRevoked,
    ...(c.resumed ? { resumedAt: '2026-11-28T09:00:00Z' } : {}),
    ...(c.resolved ? { resolvedAt: '2026-11-28T09:00:00Z' } : {}),
    ...(c.accessRestored ? { accessRestored: true } : {}),
  },
  employee: { employeeId: 'E000042', categories: c.categories, heldFrom: '2026-09-01T00:00:00Z', heldTo: '2026-11-27T10:00:00Z' },
  settings: SETTINGS,
});
const sample = (): Sample => fc.sample(context, 1)[0]!;

describe('Notice templates: every type in every locale', () => {
  it('there is a template of every notice type in English, German and French', () => {
    const have = new Set(ALL_TEMPLATES.map((t) => `${t.type}/${t.locale}`));
    for (const type of ['exposure', 'update', 'resolved'])
      for (const locale of ['en', 'de', 'fr']) expect(have.has(`${type}/${locale}`), `${type}/${locale}`).toBe(true);
  });

  for (const template of ALL_TEMPLATES) {
    const id = `${template.type}/v${template.version}/${template.locale}`;
    it(`${id}: the required headings in order, only the recipient's own categories, the reference, the contact, an ASCII subject`, () => {
      fc.assert(
        fc.property(context, (c) => {
          const notice = renderNotice(template.type, build(c), template.locale, template);
          expect(notice.templateId).toBe(id);
          expect(notice.structured.sections.map((s) => s.heading)).toEqual(requiredHeadings(template.locale));
          for (const category of CATEGORIES) {
            const label = categoryLabel(template.locale, category);
            if (c.categories.includes(category)) expect(notice.text).toContain(label);
            else expect(notice.text).not.toContain(label);
          }
          expect(notice.structured.categories).toEqual(c.categories);
          expect(notice.text).toContain('inc-20261127-5b40bfcd731b');
          expect(notice.text).toContain('privacy@example.com');
          const subject = asciiSubject(notice.subject);
          expect(subject).toMatch(/^[\x20-\x7e]{1,99}$/);
          expect(subject).toContain('Example Corp');
          if (c.exposure && template.type === 'exposure') expect(notice.text).toContain(c.exposure.audience);
        }),
        { numRuns: 60 },
      );
    });
  }

  it('a follow-up says whether collection resumed and, resolved, that it is the last notice; an update says what changed', () => {
    const facts = (resumed: boolean) =>
      build({ ...sample(), categories: ['keystrokes'], resumed, resolved: true, accessRestored: true, accessRevoked: true });
    const phrases: Record<string, { resumed: RegExp; stopped: RegExp; last: RegExp; restored: RegExp; update: RegExp }> = {
      en: {
        resumed: /Collection restarted on/,
        stopped: /Collection remains stopped/,
        last: /last notice/,
        restored: /restored after a review/,
        update: /what has changed/,
      },
      de: {
        resumed: /wieder aufgenommen/,
        stopped: /bleibt gestoppt\./,
        last: /letzte Benachrichtigung/,
        restored: /wiederhergestellt/,
        update: /geändert/,
      },
      fr: {
        resumed: /La collecte a repris/,
        stopped: /La collecte reste arrêtée\./,
        last: /dernière notification/,
        restored: /rétabli/,
        update: /a changé/,
      },
    };
    for (const p of PHRASEBOOKS) {
      const want = phrases[p.locale]!;
      const resolvedResumed = renderNotice('resolved', facts(true), p.locale).text;
      expect(resolvedResumed).toMatch(want.resumed);
      expect(resolvedResumed).toMatch(want.last);
      expect(resolvedResumed).toMatch(want.restored);
      expect(renderNotice('resolved', facts(false), p.locale).text).toMatch(want.stopped);
      expect(renderNotice('update', facts(false), p.locale).text).toMatch(want.update);
    }
  });

  it("chooses by the employee's locale (a region falls back to its language), else the configured default, else English", () => {
    expect(templateFor('update', 'de', 'en').locale).toBe('de');
    expect(templateFor('resolved', 'fr-CA', 'en').locale).toBe('fr');
    expect(templateFor('exposure', 'es', 'fr').locale).toBe('fr');
    expect(templateFor('exposure', undefined, 'xx').locale).toBe('en');
  });

  it("found by an attacker's review: the detector's audience text reaches a notice as one clean line, without links or format characters", () => {
    const audience = 'all staff\n\nWhat You Can Do\nLog in at https://evil.example/reset now \u202Eexe.txt' + ' and more'.repeat(30);
    const quoted = noticeAudience(audience);
    expect(quoted).not.toMatch(/[\n\u202E]/);
    expect(quoted).not.toContain('evil.example');
    expect(quoted).toContain('[link removed]');
    expect(quoted.length).toBeLessThanOrEqual(120);
    const notice = renderNotice(
      'exposure',
      {
        ...build({ ...sample(), exposure: undefined }),
        incident: {
          ...build(sample()).incident,
          ...incidentContext(
            { ...INCIDENT, exposure: { audience, principals: [], window: { start: '2026-11-27T07:00:00Z', end: '2026-11-27T10:00:00Z' } } },
            [],
          ).incident,
        },
      },
      'en',
    );
    expect(notice.structured.sections.map((s) => s.heading)).toEqual(requiredHeadings('en'));
    expect(notice.text.match(/What You Can Do/g)).toHaveLength(2);
    expect(notice.text).not.toContain('evil.example');
  });

  it('keeps accents out of the SNS subject without losing the letters', () => {
    expect(asciiSubject('Benachrichtigung über eine Datenschutzverletzung - Müller & Söhne')).toBe(
      'Benachrichtigung ueber eine Datenschutzverletzung - Mueller & Soehne',
    );
    expect(asciiSubject('Notification de violation de données : incident clos - Société Générale')).toBe(
      'Notification de violation de donnees : incident clos - Societe Generale',
    );
  });
});
