import { stringify } from 'csv-stringify/sync';
import type { RegisterEntry, RegisterView } from '../../../../shared/record/register.ts';
import { terminalSafe } from '../safe-text.ts';

/** The register's columns, in order: one row per incident (a spreadsheet's view; -o json keeps every decision). */
const COLUMNS: [string, (e: RegisterEntry) => string | number | boolean | undefined][] = [
  ['incidentId', (e) => e.incidentId],
  ['programId', (e) => e.programId],
  ['scope', (e) => e.scope],
  ['status', (e) => e.status],
  ['severity', (e) => e.severity],
  ['openedAt', (e) => e.openedAt],
  ['awareAt', (e) => e.authority.awareAt],
  ['art33DueAt', (e) => e.authority.dueAt],
  ['authorityDecision', (e) => e.authority.status],
  ['notifiedAt', (e) => e.authority.notifiedAt],
  ['authority', (e) => e.authority.authority],
  ['authorityReference', (e) => e.authority.reference],
  ['notifiedLate', (e) => e.authority.late],
  ['authorityUpdates', (e) => e.authority.updates],
  ['decisionReason', (e) => e.authority.reason],
  ['trigger', (e) => e.detectedBy.trigger],
  ['detectedBy', (e) => e.detectedBy.by],
  ['detector', (e) => e.detectedBy.detector],
  ['facts', (e) => e.facts],
  ['exposedTo', (e) => e.exposure?.audience],
  ['exposureStart', (e) => e.exposure?.window.start],
  ['exposureEnd', (e) => e.exposure?.window.end],
  ['datasets', (e) => e.datasets.join('; ')],
  ['categories', (e) => e.categories.join('; ')],
  ['dataSubjects', (e) => e.dataSubjects],
  ['likelyConsequences', (e) => e.likelyConsequences],
  ['pausedAt', (e) => e.measures.pausedAt],
  ['haltConfirmedAt', (e) => e.measures.haltConfirmedAt],
  ['grantsRevoked', (e) => e.measures.grantsRevoked],
  ['grantsRevokedAt', (e) => e.measures.grantsRevokedAt],
  ['grantsRestored', (e) => e.measures.grantsRestored],
  ['noticesPlanned', (e) => e.measures.noticesPlanned],
  ['noticesSent', (e) => e.measures.noticesSent],
  ['noticesFailed', (e) => e.measures.noticesFailed],
  ['resumedAt', (e) => e.measures.resumedAt],
  ['resolvedAt', (e) => e.measures.resolvedAt],
];

/**
 * The register as RFC 4180 CSV (csv-stringify), with a header row. Text from detectors and
 * operators is untrusted: a cell that a spreadsheet would run as a formula (=, +, -, @, tab, CR)
 * is written with a leading quote (csv-stringify's escape_formulas, as OWASP advises for CSV injection).
 */
export function registerCsv(view: RegisterView): string {
  return stringify(
    // Control and bidirectional characters (U+202E…) shown escaped, as the CLI shows them: a cell must not reorder its neighbours.
    view.entries.map((e) =>
      COLUMNS.map(([, cell]) => {
        const v = cell(e);
        return typeof v === 'string' ? terminalSafe(v) : (v ?? '');
      }),
    ),
    { header: true, columns: COLUMNS.map(([name]) => name), escape_formulas: true, cast: { boolean: (b) => (b ? 'true' : 'false') } },
  );
}
