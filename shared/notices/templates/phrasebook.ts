import type { NoticeContext, NoticeSection, NoticeTemplate } from './types.ts';
import type { NoticeType } from '../../schemas/notices.ts';

/*
 * The notices in every locale, from one phrasebook per language: the same five headings in every
 * notice (California Civil Code 1798.82's "Notice of Data Breach" headings, which also cover what
 * GDPR Art. 34 asks for), plain language, the employee's own categories only, never the data.
 * English's first exposure notice is its own file (exposure.en.ts): notices already sent name it,
 * and its text must never change.
 */

interface Phrases {
  locale: string;
  titles: Record<NoticeType, string>;
  headings: { happened: string; involved: string; doing: string; you: string; more: string };
  labels: Record<string, string>;
  and: string;
  when: (iso: string) => string;
  /** The exposure window, and the period when its start is unknown. */
  between: (start: string, end: string) => string;
  upTo: (at: string) => string;
  happened: (type: NoticeType, c: Facts) => string;
  involved: (categories: string, from: string, to: string) => string;
  doing: (type: NoticeType, c: Facts) => string;
  you: (type: NoticeType, keystrokes: boolean) => string;
  more: (contact: string | undefined, reference: string) => string;
  contact: { email: (v: string) => string; phone: (v: string) => string; url: (v: string) => string; postal: (v: string) => string };
}

/** What the sentences are made of. */
interface Facts {
  organisation: string;
  reference: string;
  detectedAt: string;
  audience?: string;
  period: string;
  pausedAt?: string;
  accessRevoked: boolean;
  resumedAt?: string;
  resolvedAt?: string;
  accessRestored: boolean;
}

/**
 * One formatter per language, built on first use: building an Intl.DateTimeFormat costs far more
 * than formatting with it (per notice), and at load it would cost every function's cold start.
 */
const utc = (locale: string) => {
  let format: Intl.DateTimeFormat | undefined;
  return (iso: string) =>
    (format ??= new Intl.DateTimeFormat(locale, { timeZone: 'UTC', dateStyle: 'long', timeStyle: 'short' })).format(new Date(iso)) + ' UTC';
};

const EN: Phrases = {
  locale: 'en',
  titles: { exposure: 'Notice of Data Breach', update: 'Notice of Data Breach: Update', resolved: 'Notice of Data Breach: Resolved' },
  headings: {
    happened: 'What Happened',
    involved: 'What Information Was Involved',
    doing: 'What We Are Doing',
    you: 'What You Can Do',
    more: 'For More Information',
  },
  labels: {
    keystrokes: 'the keystrokes you typed',
    'mouse-activity': 'your mouse movements and clicks',
    'chat-transcripts': 'transcripts of your chats',
    'screen-metadata': 'the names of the applications and windows you used',
    'performance-metrics': 'productivity and performance measures derived from your activity',
  },
  and: 'and',
  when: utc('en-GB'),
  between: (start, end) => `between ${start} and ${end}`,
  upTo: (at) => `up to ${at}`,
  happened: (type, c) =>
    type === 'exposure'
      ? `${c.organisation} collects workplace activity data to improve its AI models. On ${c.detectedAt} we detected that some of this data had been accessible to people who should not have had access${c.audience ? ` (${c.audience})` : ''} ${c.period}. We are telling you because some of it was about you. Our reference for this incident is ${c.reference}.`
      : type === 'update'
        ? `This is an update to our notice about incident ${c.reference}: some workplace activity data about you had been accessible to people who should not have had access ${c.period}. Here is what has changed since.`
        : `We have closed incident ${c.reference}${c.resolvedAt ? ` on ${c.resolvedAt}` : ''}. Some workplace activity data about you had been accessible to people who should not have had access ${c.period}. This is the last notice about it.`,
  involved: (categories, from, to) =>
    `The information involved is ${categories}, collected from you between ${from} and ${to}. This notice does not repeat any of that data.`,
  doing: (type, c) =>
    [
      c.pausedAt ? `We stopped all collection at ${c.pausedAt}.` : 'We stopped the collection.',
      c.accessRevoked ? 'We removed the access that should not have existed.' : 'We are removing the access that should not have existed.',
      ...(type === 'exposure'
        ? []
        : [c.accessRestored ? 'Access for the people who need it was restored after a review approved by two people.' : '']),
      type === 'resolved'
        ? c.resumedAt
          ? `Collection restarted on ${c.resumedAt}, after two people independently approved it.`
          : 'Collection remains stopped.'
        : c.resumedAt
          ? `Collection restarted on ${c.resumedAt}, after two people independently approved it.`
          : 'Collection stays stopped until two people independently approve restarting it.',
      type === 'resolved'
        ? 'We keep a record of every step we took.'
        : 'We are investigating how it happened and keep a record of every step.',
    ]
      .filter(Boolean)
      .join(' '),
  you: (type, keystrokes) =>
    [
      'You do not need to do anything.',
      ...(keystrokes && type !== 'resolved'
        ? ['If you typed passwords or other secrets while the collection was running, consider changing them.']
        : []),
      'You may ask us what data about you is held and ask for it to be deleted.',
    ].join(' '),
  more: (contact, reference) =>
    contact
      ? `To ask questions or exercise your rights, ${contact}. Please quote ${reference}.`
      : `Please quote ${reference} when you contact us.`,
  contact: { email: (v) => `email ${v}`, phone: (v) => `call ${v}`, url: (v) => `visit ${v}`, postal: (v) => `write to ${v}` },
};

const DE: Phrases = {
  locale: 'de',
  titles: {
    exposure: 'Benachrichtigung über eine Datenschutzverletzung',
    update: 'Benachrichtigung über eine Datenschutzverletzung: Aktualisierung',
    resolved: 'Benachrichtigung über eine Datenschutzverletzung: Abgeschlossen',
  },
  headings: {
    happened: 'Was ist passiert',
    involved: 'Welche Daten betroffen sind',
    doing: 'Was wir unternehmen',
    you: 'Was Sie tun können',
    more: 'Weitere Informationen',
  },
  labels: {
    keystrokes: 'Ihre Tastatureingaben',
    'mouse-activity': 'Ihre Mausbewegungen und Klicks',
    'chat-transcripts': 'Protokolle Ihrer Chats',
    'screen-metadata': 'die Namen der von Ihnen genutzten Anwendungen und Fenster',
    'performance-metrics': 'aus Ihrer Aktivität abgeleitete Produktivitäts- und Leistungswerte',
  },
  and: 'und',
  when: utc('de-DE'),
  between: (start, end) => `zwischen ${start} und ${end}`,
  upTo: (at) => `bis ${at}`,
  happened: (type, c) =>
    type === 'exposure'
      ? `${c.organisation} erfasst Aktivitätsdaten am Arbeitsplatz, um seine KI-Modelle zu verbessern. Am ${c.detectedAt} haben wir festgestellt, dass ein Teil dieser Daten ${c.period} für Personen zugänglich war, die keinen Zugriff hätten haben dürfen${c.audience ? ` (${c.audience})` : ''}. Wir informieren Sie, weil ein Teil davon Sie betraf. Unser Aktenzeichen für diesen Vorfall ist ${c.reference}.`
      : type === 'update'
        ? `Dies ist eine Aktualisierung unserer Benachrichtigung zum Vorfall ${c.reference}: Aktivitätsdaten über Sie waren ${c.period} für Personen zugänglich, die keinen Zugriff hätten haben dürfen. Das hat sich seitdem geändert.`
        : `Wir haben den Vorfall ${c.reference}${c.resolvedAt ? ` am ${c.resolvedAt}` : ''} abgeschlossen. Aktivitätsdaten über Sie waren ${c.period} für Personen zugänglich, die keinen Zugriff hätten haben dürfen. Dies ist unsere letzte Benachrichtigung dazu.`,
  involved: (categories, from, to) =>
    `Betroffen sind ${categories}, erfasst zwischen ${from} und ${to}. Diese Benachrichtigung wiederholt keine dieser Daten.`,
  doing: (type, c) =>
    [
      c.pausedAt ? `Wir haben die gesamte Erfassung am ${c.pausedAt} gestoppt.` : 'Wir haben die Erfassung gestoppt.',
      c.accessRevoked
        ? 'Wir haben den Zugriff entfernt, der nicht hätte bestehen dürfen.'
        : 'Wir entfernen den Zugriff, der nicht hätte bestehen dürfen.',
      ...(type === 'exposure'
        ? []
        : [
            c.accessRestored
              ? 'Der Zugriff für die Personen, die ihn benötigen, wurde nach einer von zwei Personen genehmigten Prüfung wiederhergestellt.'
              : '',
          ]),
      type === 'resolved'
        ? c.resumedAt
          ? `Die Erfassung wurde am ${c.resumedAt} wieder aufgenommen, nachdem zwei Personen unabhängig voneinander zugestimmt hatten.`
          : 'Die Erfassung bleibt gestoppt.'
        : c.resumedAt
          ? `Die Erfassung wurde am ${c.resumedAt} wieder aufgenommen, nachdem zwei Personen unabhängig voneinander zugestimmt hatten.`
          : 'Die Erfassung bleibt gestoppt, bis zwei Personen unabhängig voneinander einem Neustart zustimmen.',
      type === 'resolved'
        ? 'Wir dokumentieren jeden Schritt, den wir unternommen haben.'
        : 'Wir untersuchen, wie es dazu kam, und dokumentieren jeden Schritt.',
    ]
      .filter(Boolean)
      .join(' '),
  you: (type, keystrokes) =>
    [
      'Sie müssen nichts unternehmen.',
      ...(keystrokes && type !== 'resolved'
        ? ['Falls Sie während der Erfassung Passwörter oder andere Geheimnisse eingegeben haben, sollten Sie diese ändern.']
        : []),
      'Sie können Auskunft darüber verlangen, welche Daten über Sie gespeichert sind, und deren Löschung verlangen.',
    ].join(' '),
  more: (contact, reference) =>
    contact
      ? `Für Fragen oder um Ihre Rechte auszuüben: ${contact}. Bitte geben Sie ${reference} an.`
      : `Bitte geben Sie ${reference} an, wenn Sie uns kontaktieren.`,
  contact: { email: (v) => `E-Mail an ${v}`, phone: (v) => `Telefon ${v}`, url: (v) => `${v}`, postal: (v) => `Post an ${v}` },
};

const FR: Phrases = {
  locale: 'fr',
  titles: {
    exposure: 'Notification de violation de données',
    update: 'Notification de violation de données : mise à jour',
    resolved: 'Notification de violation de données : incident clos',
  },
  headings: {
    happened: "Ce qui s'est passé",
    involved: 'Les informations concernées',
    doing: 'Ce que nous faisons',
    you: 'Ce que vous pouvez faire',
    more: "Pour plus d'informations",
  },
  labels: {
    keystrokes: 'les frappes au clavier que vous avez saisies',
    'mouse-activity': 'les mouvements et clics de votre souris',
    'chat-transcripts': 'les transcriptions de vos conversations',
    'screen-metadata': 'les noms des applications et fenêtres que vous avez utilisées',
    'performance-metrics': 'des mesures de productivité et de performance tirées de votre activité',
  },
  and: 'et',
  when: utc('fr-FR'),
  between: (start, end) => `entre le ${start} et le ${end}`,
  upTo: (at) => `jusqu'au ${at}`,
  happened: (type, c) =>
    type === 'exposure'
      ? `${c.organisation} collecte des données d'activité au travail pour améliorer ses modèles d'IA. Le ${c.detectedAt}, nous avons constaté qu'une partie de ces données avait été accessible ${c.period} à des personnes qui n'auraient pas dû y avoir accès${c.audience ? ` (${c.audience})` : ''}. Nous vous en informons parce qu'une partie vous concernait. Notre référence pour cet incident est ${c.reference}.`
      : type === 'update'
        ? `Ceci est une mise à jour de notre notification concernant l'incident ${c.reference} : des données d'activité vous concernant avaient été accessibles ${c.period} à des personnes qui n'auraient pas dû y avoir accès. Voici ce qui a changé depuis.`
        : `Nous avons clos l'incident ${c.reference}${c.resolvedAt ? ` le ${c.resolvedAt}` : ''}. Des données d'activité vous concernant avaient été accessibles ${c.period} à des personnes qui n'auraient pas dû y avoir accès. Ceci est notre dernière notification à ce sujet.`,
  involved: (categories, from, to) =>
    `Les informations concernées sont ${categories}, collectées entre le ${from} et le ${to}. Cette notification ne reproduit aucune de ces données.`,
  doing: (type, c) =>
    [
      c.pausedAt ? `Nous avons arrêté toute collecte le ${c.pausedAt}.` : 'Nous avons arrêté la collecte.',
      c.accessRevoked ? "Nous avons supprimé l'accès qui n'aurait pas dû exister." : "Nous supprimons l'accès qui n'aurait pas dû exister.",
      ...(type === 'exposure'
        ? []
        : [c.accessRestored ? "L'accès des personnes qui en ont besoin a été rétabli après un examen approuvé par deux personnes." : '']),
      type === 'resolved'
        ? c.resumedAt
          ? `La collecte a repris le ${c.resumedAt}, après l'accord indépendant de deux personnes.`
          : 'La collecte reste arrêtée.'
        : c.resumedAt
          ? `La collecte a repris le ${c.resumedAt}, après l'accord indépendant de deux personnes.`
          : "La collecte reste arrêtée jusqu'à ce que deux personnes approuvent indépendamment sa reprise.",
      type === 'resolved'
        ? 'Nous conservons une trace de chaque étape.'
        : "Nous cherchons comment c'est arrivé et conservons une trace de chaque étape.",
    ]
      .filter(Boolean)
      .join(' '),
  you: (type, keystrokes) =>
    [
      "Vous n'avez rien à faire.",
      ...(keystrokes && type !== 'resolved'
        ? ['Si vous avez saisi des mots de passe ou d’autres secrets pendant la collecte, pensez à les changer.']
        : []),
      'Vous pouvez nous demander quelles données vous concernant sont conservées et en demander la suppression.',
    ].join(' '),
  more: (contact, reference) =>
    contact
      ? `Pour toute question ou pour exercer vos droits : ${contact}. Merci de mentionner ${reference}.`
      : `Merci de mentionner ${reference} lorsque vous nous contactez.`,
  contact: {
    email: (v) => `écrivez à ${v}`,
    phone: (v) => `appelez le ${v}`,
    url: (v) => `consultez ${v}`,
    postal: (v) => `écrivez à ${v}`,
  },
};

export const PHRASEBOOKS: readonly Phrases[] = [EN, DE, FR];

/** The five headings every notice in `locale` has, in order (the template test checks them). */
export function requiredHeadings(locale: string): string[] {
  const p = PHRASEBOOKS.find((b) => b.locale === locale);
  if (!p) throw new Error(`no phrasebook for ${locale}`);
  return [p.headings.happened, p.headings.involved, p.headings.doing, p.headings.you, p.headings.more];
}

/** What a phrasebook calls a category (the template test checks that only the recipient's appear). */
export const categoryLabel = (locale: string, category: string): string =>
  PHRASEBOOKS.find((b) => b.locale === locale)?.labels[category] ?? category.replaceAll('-', ' ');

function list(items: string[], and: string): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} ${and} ${items.at(-1)}`;
}

function render(type: NoticeType, p: Phrases, { incident, employee, settings }: NoticeContext) {
  const w = incident.exposure?.window;
  const period = w ? p.between(p.when(w.start), p.when(w.end)) : p.upTo(p.when(incident.openedAt));
  const facts: Facts = {
    organisation: settings.organisation,
    reference: incident.incidentId,
    detectedAt: p.when(incident.openedAt),
    ...(incident.exposure?.audience ? { audience: incident.exposure.audience } : {}),
    period,
    ...(incident.pausedAt ? { pausedAt: p.when(incident.pausedAt) } : {}),
    accessRevoked: incident.accessRevoked,
    ...(incident.resumedAt ? { resumedAt: p.when(incident.resumedAt) } : {}),
    ...(incident.resolvedAt ? { resolvedAt: p.when(incident.resolvedAt) } : {}),
    accessRestored: incident.accessRestored ?? false,
  };
  const c = settings.contact;
  const contact = [
    c.email && p.contact.email(c.email),
    c.phone && p.contact.phone(c.phone),
    c.url && p.contact.url(c.url),
    c.postal && p.contact.postal(c.postal),
  ].filter(Boolean) as string[];
  const sections: NoticeSection[] = [
    { heading: p.headings.happened, body: p.happened(type, facts) },
    {
      heading: p.headings.involved,
      body: p.involved(
        list(
          employee.categories.map((cat) => p.labels[cat] ?? cat.replaceAll('-', ' ')),
          p.and,
        ),
        p.when(employee.heldFrom),
        p.when(employee.heldTo),
      ),
    },
    { heading: p.headings.doing, body: p.doing(type, facts) },
    { heading: p.headings.you, body: p.you(type, employee.categories.includes('keystrokes')) },
    { heading: p.headings.more, body: p.more(contact.length ? list(contact, p.and) : undefined, incident.incidentId) },
  ];
  return { title: p.titles[type], subject: `${p.titles[type]} - ${settings.organisation}`, sections };
}

/** Version 1 of every notice type in every phrasebook's language, but English's exposure notice (its own file). */
export const PHRASEBOOK_TEMPLATES: NoticeTemplate[] = PHRASEBOOKS.flatMap((p) =>
  (['exposure', 'update', 'resolved'] as const)
    .filter((type) => !(type === 'exposure' && p.locale === 'en'))
    .map((type) => ({ type, version: 1, locale: p.locale, render: (context: NoticeContext) => render(type, p, context) })),
);
