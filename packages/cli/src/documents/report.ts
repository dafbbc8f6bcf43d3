import type { ReportView } from '../../../../shared/record/report.ts';
import { remainingText } from '../../../../shared/domain/breach-clock.ts';
import { terminalSafe } from '../safe-text.ts';
import { layoutTimeline, type TimelineLayout, type TimelineStep } from './timeline-layout.ts';

/*
 * `killswitch incident report`: one content model (sections of fields and tables, and the timeline
 * picture), rendered as Markdown and HTML here and as PDF in report-pdf.ts. Every text that comes
 * from the ledger is untrusted (detectors' and operators' words): control and bidirectional
 * characters are shown escaped as the CLI shows them, and each format escapes its own syntax.
 */

export interface ReportTable {
  columns: string[];
  rows: string[][];
}
export interface ReportSection {
  title: string;
  fields?: [string, string][];
  paragraphs?: string[];
  table?: ReportTable;
  /** The timeline picture goes here. */
  picture?: boolean;
}
export interface ReportDocument {
  title: string;
  subtitle: string;
  sections: ReportSection[];
  layout: TimelineLayout<TimelineStep>;
}

const text = (v: unknown): string => terminalSafe(v === undefined || v === null || v === '' ? '—' : String(v));
const ms = (from: string | undefined, to: string | undefined) =>
  from && to ? `${Math.max(0, Date.parse(to) - Date.parse(from)).toLocaleString('en')} ms` : '—';

/** The report's content: what a data-protection officer or an investigator reads, in order. */
export function reportDocument(view: ReportView): ReportDocument {
  const { incident: i, audit, grants, notices, acknowledgements, breach } = view.incident;
  // Who looked at whose notice (an employee's Art. 15 request) stays in the ledger, not in a
  // report that circulates: the report says how many times, not for whom.
  const shown = view.incident.timeline.filter((t) => t.type === 'NOTICE_SHOWN').length;
  const timeline = view.incident.timeline.filter((t) => t.type !== 'NOTICE_SHOWN');
  const r = view.register;
  const steps: TimelineStep[] = timeline.map((t) => ({ at: t.at, type: t.type, message: t.message }));
  const layout = layoutTimeline(steps);
  const approvals = timeline.filter(
    (t) =>
      /^(RESUME_REQUESTED|RESUME_REFUSED|RESTORE_REQUESTED|RESTORE_APPROVED|RESTORE_REFUSED|GRANTS_RESTORED)$/.test(t.type) ||
      (t.type === 'STATE_CHANGED' && t.data?.status === 'ACTIVE'),
  );
  const authority =
    breach.status === 'UNDECIDED'
      ? `no decision yet — due ${breach.dueAt} (${remainingText(breach.remainingMs ?? 0)} when this report was made)`
      : breach.status === 'NOTIFIED'
        ? `notified ${breach.notifiedAt}${breach.late ? ', after the 72 hours' : ', within the 72 hours'}${r.authority.authority ? ` (${r.authority.authority}, reference ${r.authority.reference})` : ''}`
        : 'documented as not notifiable (Art. 33(1): unlikely to result in a risk)';
  const sections: ReportSection[] = [
    {
      title: 'Summary',
      fields: [
        ['Incident', i.incidentId],
        ['Program', `${i.programId} (scope ${i.scope})`],
        ['Status', i.status + (i.resolvedAt ? ` (resolved ${i.resolvedAt})` : '')],
        ['Severity', i.severity],
        ['Opened', `${i.openedAt} by ${i.openedByPerson ?? i.openedBy} (${i.trigger.toLowerCase().replace('_', '-')})`],
        ['What was reported', r.facts],
        ['Aware (GDPR Art. 33)', `${breach.awareAt} — the incident's opening; the 72 hours end ${breach.dueAt}`],
        ['Supervisory authority', authority],
      ].map(([k, v]) => [k!, text(v)]),
    },
    {
      title: 'Exposure: who could see what, when',
      fields: [
        ['Exposed to', r.exposure?.audience ?? 'not reported by the detector'],
        ['Window', r.exposure ? `${r.exposure.window.start} to ${r.exposure.window.end}` : '—'],
        ['Principals wrongly given access', r.exposure ? String(r.exposure.principals) : '—'],
        ['Datasets', r.datasets.join(', ')],
        ['Categories of data', r.categories.join(', ') || '—'],
        ['Data subjects (approximate)', String(r.dataSubjects)],
        ['Likely consequences', r.likelyConsequences],
      ].map(([k, v]) => [k!, text(v)]),
    },
    {
      title: 'Timeline',
      picture: true,
      paragraphs: [
        layout.start
          ? `${steps.length} steps from ${layout.start}. First of each kind after the first step: ${layout.firsts.map((f) => `${f.lane.toLowerCase()} ${f.offset} (${f.type})`).join('; ') || 'none'}.`
          : 'No steps recorded.',
      ],
    },
    {
      title: 'Numbers',
      table: {
        columns: ['measure', 'value'],
        rows: [
          ['opened → paused', ms(i.openedAt, r.measures.pausedAt)],
          ['opened → halt confirmed (every known agent)', ms(i.openedAt, r.measures.haltConfirmedAt)],
          ['opened → grants revoked', ms(i.openedAt, r.measures.grantsRevokedAt)],
          ['opened → notices planned', ms(i.openedAt, r.measures.noticesFirstPlannedAt)],
          ['grants revoked', String(grants?.revoked ?? r.measures.grantsRevoked)],
          ['grants already revoked by another incident', String(grants?.alsoHeld ?? 0)],
          ['grants restored since (two-person)', String(grants?.restored ?? r.measures.grantsRestored)],
          ['notices planned', String(notices?.planned ?? r.measures.noticesPlanned)],
          ['notices sent', String(notices?.sent ?? r.measures.noticesSent)],
          ['notices failed', String(notices?.failed ?? r.measures.noticesFailed)],
          ['notices waiting', String((notices?.pending ?? 0) + (notices?.sending ?? 0))],
          ["employees' notices shown on request (Art. 15)", String(shown)],
          [
            'agents (current state document)',
            acknowledgements
              ? `seq ${acknowledgements.seq}: ${acknowledgements.halted} halted, ${acknowledgements.collecting} collecting, ${acknowledgements.silent} silent of ${acknowledgements.known} known`
              : '—',
          ],
        ].map((row) => row.map(text)),
      },
    },
    {
      title: 'Two-person approvals',
      paragraphs: approvals.length ? undefined : ['No resume or grant restore was requested.'],
      ...(approvals.length
        ? { table: { columns: ['at', 'step', 'who', 'what'], rows: approvals.map((t) => [t.at, t.type, t.actor, t.message].map(text)) } }
        : {}),
    },
    {
      title: 'Audit trail (one entry per state version)',
      table: {
        columns: ['version', 'status', 'at', 'person', 'verified', 'reason'],
        rows: audit.map((a) => [String(a.version), a.status, a.at, a.person ?? a.by, a.verified ? 'yes' : 'no', a.reason].map(text)),
      },
    },
    {
      title: 'Supervisory authority (GDPR Art. 33)',
      ...(breach.decisions.length
        ? {
            table: {
              columns: ['decision', 'at', 'authority', 'reference', 'by', 'reason'],
              rows: breach.decisions.map((d) => [d.kind, d.at, d.authority, d.reference, d.by, d.reason].map(text)),
            },
          }
        : { paragraphs: [`No decision recorded. ${authority}.`] }),
    },
    {
      title: 'Notices to employees',
      paragraphs: [
        view.noticeTemplates.length
          ? `Templates: ${view.noticeTemplates.map((t) => `${t.noticeType}: ${t.templateIds.join(', ')}`).join('; ')}. Each notice keeps the id of the template it was rendered from and the SHA-256 of its text; \`killswitch notices show\` shows one employee's exact notice.`
          : 'No notices were planned.',
      ].map(text),
    },
    {
      title: 'Integrity of this record',
      ...(view.integrity
        ? {
            paragraphs: [
              `Verified ${view.integrity.verifiedAt}: ${view.integrity.status}. Incident record: ${view.integrity.record.status} (${view.integrity.record.detail}).`,
              view.integrity.anchors
                ? `Chain heads are exported to ${view.integrity.anchors.location} (Object Lock: ${view.integrity.anchors.objectLock}${view.integrity.anchors.retentionDays ? `, ${view.integrity.anchors.retentionDays} days` : ''}).${view.integrity.anchors.note ? ` Note: ${view.integrity.anchors.note}.` : ''}`
                : 'Chain heads are not exported by this deployment.',
              ...view.integrity.chains
                .filter((c) => c.broken)
                .map(
                  (c) =>
                    `${c.chainId}: first broken link ${c.broken!.problem}${c.broken!.seq ? ` at place ${c.broken!.seq}` : ''}: ${c.broken!.detail}`,
                ),
            ].map(text),
            table: {
              columns: ['chain', 'status', 'records', 'sealed', 'anchors checked', 'head (place:SHA-256)'],
              rows: view.integrity.chains.map((c) =>
                [
                  c.chainId,
                  c.status,
                  String(c.records),
                  String(c.sealed),
                  String(c.anchorsChecked),
                  c.head ? `${c.head.seq}:${c.head.hash}` : '—',
                ].map(text),
              ),
            },
          }
        : { paragraphs: ['The ledger chains are not available in this deployment.'] }),
    },
    {
      title: 'Every step',
      table: { columns: ['at', 'type', 'by', 'message'], rows: timeline.map((t) => [t.at, t.type, t.actor, t.message].map(text)) },
    },
  ];
  return {
    title: `Incident report: ${i.incidentId}`,
    subtitle: `${i.programId} · ${i.severity} · generated ${view.generatedAt} by ${terminalSafe(view.generatedBy)}`,
    sections,
    layout,
  };
}

// ---- Markdown ------------------------------------------------------------------------------

const mdCell = (s: string) =>
  s
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/[*_`<>[\]#]/g, (c) => `\\${c}`);

/** The timeline as text: a row per lane, a dot per step on a 60-column axis. */
function textPicture(layout: TimelineLayout<TimelineStep>): string {
  const columns = 60;
  const width = Math.max(...layout.lanes.map((l) => l.name.length), 6);
  const rows = layout.lanes.map((lane) => {
    const line = Array.from({ length: columns + 1 }, () => '·');
    for (const m of layout.marks.filter((m) => m.lane === lane.name))
      line[Math.round(((m.x - layout.left) / (layout.right - layout.left)) * columns)] = '●';
    return `${lane.name.padEnd(width)} ${line.join('')}`;
  });
  const axis = `${''.padEnd(width)} ${layout.ticks[0]?.label ?? ''}${' '.repeat(Math.max(1, columns - (layout.ticks[0]?.label.length ?? 0) - (layout.ticks[4]?.label.length ?? 0)))}${layout.ticks[4]?.label ?? ''}`;
  return [...rows, axis].join('\n');
}

export function reportMarkdown(doc: ReportDocument): string {
  const out: string[] = [`# ${mdCell(doc.title)}`, '', `_${mdCell(doc.subtitle)}_`, ''];
  for (const section of doc.sections) {
    out.push(`## ${section.title}`, '');
    if (section.fields) {
      out.push('| | |', '|---|---|', ...section.fields.map(([k, v]) => `| **${mdCell(k)}** | ${mdCell(v)} |`), '');
    }
    if (section.picture) out.push('```text', textPicture(doc.layout), '```', '');
    for (const p of section.paragraphs ?? []) out.push(mdCell(p), '');
    if (section.table) {
      out.push(`| ${section.table.columns.map(mdCell).join(' | ')} |`, `|${section.table.columns.map(() => '---').join('|')}|`);
      for (const row of section.table.rows) out.push(`| ${row.map(mdCell).join(' | ')} |`);
      out.push('');
    }
  }
  return out.join('\n').trimEnd() + '\n';
}

// ---- HTML ----------------------------------------------------------------------------------

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

const LANE_COLOURS: Record<string, string> = {
  Detection: '#b45309',
  'Kill switch': '#b91c1c',
  Collectors: '#1d4ed8',
  Access: '#7c3aed',
  Notices: '#047857',
  Approvals: '#0f766e',
  Authority: '#9d174d',
  Other: '#4b5563',
};
export const laneColour = (lane: string): string => LANE_COLOURS[lane] ?? LANE_COLOURS.Other!;

/** The picture as SVG markup (every text escaped; tooltips carry each step). */
export function timelineSvg(layout: TimelineLayout<TimelineStep>): string {
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${layout.width} ${layout.height}" role="img" aria-label="Timeline of the incident" font-family="Helvetica, Arial, sans-serif" font-size="13">`,
  ];
  for (const lane of layout.lanes)
    parts.push(
      `<text x="8" y="${lane.y + 5}">${esc(lane.name)}</text>`,
      `<line x1="${layout.left}" x2="${layout.right}" y1="${lane.y}" y2="${lane.y}" stroke="#d1d5db"/>`,
    );
  for (const m of layout.marks)
    parts.push(
      `<circle cx="${m.x.toFixed(1)}" cy="${m.y}" r="6" fill="${laneColour(m.lane)}"><title>${esc(`${m.offset} ${m.step.type}: ${terminalSafe(m.step.message)}`)}</title></circle>`,
    );
  parts.push(`<line x1="${layout.left}" x2="${layout.right}" y1="${layout.axisY}" y2="${layout.axisY}" stroke="#111827"/>`);
  for (const t of layout.ticks)
    parts.push(
      `<line x1="${t.x}" x2="${t.x}" y1="${layout.axisY}" y2="${layout.axisY + 6}" stroke="#111827"/>`,
      `<text x="${t.x}" y="${layout.axisY + 22}" text-anchor="${t.anchor}" font-size="11">${esc(t.label)}</text>`,
    );
  parts.push('</svg>');
  return parts.join('');
}

export function reportHtml(doc: ReportDocument): string {
  const table = (t: ReportTable) =>
    `<table><thead><tr>${t.columns.map((c) => `<th scope="col">${esc(c)}</th>`).join('')}</tr></thead><tbody>${t.rows
      .map((r) => `<tr>${r.map((c) => `<td><bdi>${esc(c)}</bdi></td>`).join('')}</tr>`)
      .join('')}</tbody></table>`;
  const body = doc.sections
    .map(
      (s) =>
        `<section><h2>${esc(s.title)}</h2>` +
        (s.fields ? `<dl>${s.fields.map(([k, v]) => `<dt>${esc(k)}</dt><dd><bdi>${esc(v)}</bdi></dd>`).join('')}</dl>` : '') +
        (s.picture
          ? `<figure>${timelineSvg(doc.layout)}<figcaption>One time axis; a lane per kind of step; hover a mark for the step.</figcaption></figure>`
          : '') +
        (s.paragraphs ?? []).map((p) => `<p>${esc(p)}</p>`).join('') +
        (s.table ? table(s.table) : '') +
        '</section>',
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${esc(doc.title)}</title>
<style>
body{font:15px/1.5 Helvetica,Arial,sans-serif;color:#111827;max-width:1000px;margin:2rem auto;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:0}h2{font-size:1.15rem;border-bottom:1px solid #d1d5db;padding-bottom:.2rem;margin-top:2rem}
.sub{color:#4b5563;margin-top:.2rem}dl{display:grid;grid-template-columns:16rem 1fr;gap:.2rem 1rem}dt{font-weight:bold}dd{margin:0}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{border:1px solid #e5e7eb;padding:.25rem .4rem;text-align:left;vertical-align:top;word-break:break-word}
th{background:#f3f4f6}figure{margin:1rem 0}svg{width:100%;height:auto}figcaption{color:#4b5563;font-size:12px}
@media print{body{margin:0}section{break-inside:avoid-page}}
</style></head>
<body><h1>${esc(doc.title)}</h1><p class="sub">${esc(doc.subtitle)}</p>
${body}
</body></html>
`;
}
