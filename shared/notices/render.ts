import type { NoticeType } from '../schemas/notices.ts';
import { exposureEnV1 } from './templates/exposure.en.ts';
import { PHRASEBOOK_TEMPLATES } from './templates/phrasebook.ts';
import type { NoticeContext, NoticeTemplate, RenderedNotice } from './templates/types.ts';

export type { NoticeContext, RenderedNotice } from './templates/types.ts';

/** Current template per type and locale; add a locale by adding a template. */
const TEMPLATES: NoticeTemplate[] = [exposureEnV1, ...PHRASEBOOK_TEMPLATES];

/** Every template (every version, type and locale): the template test renders each. */
export const ALL_TEMPLATES: readonly NoticeTemplate[] = TEMPLATES;

export function templateFor(type: NoticeType, locale: string | undefined, defaultLocale: string): NoticeTemplate {
  const pick = (l: string | undefined) =>
    TEMPLATES.filter((t) => t.type === type && t.locale === l).sort((a, b) => b.version - a.version)[0];
  // Language tags compare case-insensitively, and a region falls back to its language (de-AT → de).
  const language = (tag: string | undefined) => tag?.trim().split(/[-_]/)[0]?.toLowerCase();
  const template = pick(locale) ?? pick(language(locale)) ?? pick(defaultLocale) ?? pick(language(defaultLocale)) ?? pick('en');
  if (!template) throw new Error(`no notice template for type "${type}"`);
  return template;
}

/** The ids of the current templates of a notice type, one per locale (the report names them). */
export function currentTemplateIds(type: NoticeType): string[] {
  const locales = [...new Set(TEMPLATES.filter((t) => t.type === type).map((t) => t.locale))].sort();
  return locales.map((l) => idOf(templateFor(type, l, l)));
}

const GERMAN: Record<string, string> = { ä: 'ae', ö: 'oe', ü: 'ue', Ä: 'Ae', Ö: 'Oe', Ü: 'Ue', ß: 'ss' };

/**
 * The subject as SNS sends it: printable ASCII only, at most 99 characters (SNS's limits for
 * Subject). Letters with accents lose them (é → e; German umlauts as ae, oe, ue, ß as ss) rather
 * than disappear; anything else outside ASCII is left out.
 */
export const asciiSubject = (subject: string) =>
  subject
    .replace(/[äöüÄÖÜß]/g, (c) => GERMAN[c]!)
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20-\x7e]/g, '')
    .slice(0, 99);

const idOf = (t: NoticeTemplate) => `${t.type}/v${t.version}/${t.locale}`;

/**
 * The template a notice names (`<type>/v<version>/<locale>`): every version stays here once it has
 * been sent, so that a notice can be shown again exactly as it was.
 */
export function templateById(templateId: string): NoticeTemplate | undefined {
  return TEMPLATES.find((t) => idOf(t) === templateId);
}

/** Render one employee's notice: plain text and the structured form (with the template chosen, or the one given). */
export function renderNotice(type: NoticeType, context: NoticeContext, locale?: string, chosen?: NoticeTemplate): RenderedNotice {
  const template = chosen ?? templateFor(type, locale, context.settings.defaultLocale);
  const { title, subject, sections } = template.render(context);
  const templateId = idOf(template);
  const text = [title.toUpperCase(), '', ...sections.flatMap((s) => [s.heading, s.body, ''])].join('\n').trimEnd() + '\n';
  return {
    templateId,
    subject,
    text,
    structured: {
      format: 'killswitch.notice.v1',
      templateId,
      title,
      incidentId: context.incident.incidentId,
      employeeId: context.employee.employeeId,
      categories: [...context.employee.categories],
      exposureWindow: context.incident.exposure?.window ?? null,
      sections,
    },
  };
}
