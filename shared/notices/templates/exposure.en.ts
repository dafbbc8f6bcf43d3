import type { NoticeTemplate } from './types.ts';

const LABELS: Record<string, string> = {
  keystrokes: 'the keystrokes you typed',
  'mouse-activity': 'your mouse movements and clicks',
  'chat-transcripts': 'transcripts of your chats',
  'screen-metadata': 'the names of the applications and windows you used',
  'performance-metrics': 'productivity and performance measures derived from your activity',
};
const label = (category: string) => LABELS[category] ?? category.replaceAll('-', ' ');

/** One formatter for every notice, built on first use (building one costs far more than formatting with it). */
let dateTime: Intl.DateTimeFormat | undefined;
const when = (iso: string) =>
  (dateTime ??= new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', dateStyle: 'long', timeStyle: 'short' })).format(new Date(iso)) +
  ' UTC';

function list(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/**
 * Exposure notice, English, version 1. Headings follow California Civil Code 1798.82 ("Notice of
 * Data Breach"); the content covers what GDPR Art. 34 asks for in plain language. It names only
 * this employee's categories of data and the exposure window, never the data itself.
 */
export const exposureEnV1: NoticeTemplate = {
  type: 'exposure',
  version: 1,
  locale: 'en',
  render({ incident, employee, settings }) {
    const window = incident.exposure?.window;
    const period = window
      ? `between ${when(window.start)} and ${when(window.end)}`
      : `up to ${when(incident.openedAt)} (the investigation is establishing since when)`;
    const audience = incident.exposure?.audience
      ? `people who should not have had access (${incident.exposure.audience})`
      : 'people who should not have had access';
    const contact = [
      settings.contact.email && `email ${settings.contact.email}`,
      settings.contact.phone && `call ${settings.contact.phone}`,
      settings.contact.url && `visit ${settings.contact.url}`,
      settings.contact.postal && `write to ${settings.contact.postal}`,
    ].filter(Boolean) as string[];
    return {
      title: 'Notice of Data Breach',
      subject: `Notice of Data Breach - ${settings.organisation}`,
      sections: [
        {
          heading: 'What Happened',
          body:
            `${settings.organisation} collects workplace activity data to improve its AI models. On ${when(incident.openedAt)} we detected that ` +
            `some of this data had been accessible to ${audience} ${period}. We are telling you because some of it was about you. ` +
            `Our reference for this incident is ${incident.incidentId}.`,
        },
        {
          heading: 'What Information Was Involved',
          body:
            `The information involved is ${list(employee.categories.map(label))}, collected from you between ${when(employee.heldFrom)} and ${when(employee.heldTo)}. ` +
            'This notice does not repeat any of that data.',
        },
        {
          heading: 'What We Are Doing',
          body: [
            incident.pausedAt
              ? `We stopped all collection at ${when(incident.pausedAt)}, and it stays stopped until two people independently approve restarting it.`
              : 'We stopped the collection.',
            incident.accessRevoked
              ? 'We removed the access that should not have existed.'
              : 'We are removing the access that should not have existed.',
            'We are investigating how it happened and keep a record of every step.',
          ].join(' '),
        },
        {
          heading: 'What You Can Do',
          body: [
            'You do not need to do anything.',
            ...(employee.categories.includes('keystrokes')
              ? ['If you typed passwords or other secrets while the collection was running, consider changing them.']
              : []),
            'You may ask us what data about you is held and ask for it to be deleted.',
          ].join(' '),
        },
        {
          heading: 'For More Information',
          body: contact.length
            ? `To ask questions or exercise your rights, ${list(contact)}. Please quote ${incident.incidentId}.`
            : `Please quote ${incident.incidentId} when you contact us.`,
        },
      ],
    };
  },
};
