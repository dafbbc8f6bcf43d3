import { eastAsianWidth } from 'get-east-asian-width';
import { terminalSafe } from './safe-text.ts';

/**
 * How the CLI prints results and errors: `-o table` (people, the default), `-o json`, `-o yaml`;
 * and the documents two commands write: `-o csv` (register export), `-o md|html|pdf` (incident report).
 */
export const DOCUMENT_FORMATS = ['csv', 'md', 'html', 'pdf'] as const;
export const OUTPUT_FORMATS = ['table', 'json', 'yaml', ...DOCUMENT_FORMATS] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];
export type DocumentFormat = (typeof DOCUMENT_FORMATS)[number];
/** JSON and YAML: results and errors as one document on stdout. */
export const isMachine = (format: OutputFormat): format is 'json' | 'yaml' => format === 'json' || format === 'yaml';
export const isDocument = (format: OutputFormat): format is DocumentFormat => (DOCUMENT_FORMATS as readonly string[]).includes(format);

/**
 * The output format argv asks for, read before commander parses it so that a parse error is
 * reported in that format too: `-o F`, `-oF`, `--output F`, `--output=F`, `--json` (an alias of
 * `-o json`), else KILLSWITCH_OUTPUT, else table. The last one given wins, as commander's would.
 */
export function outputFormatOf(argv: readonly string[], env: NodeJS.ProcessEnv): OutputFormat {
  let chosen: string | undefined = env.KILLSWITCH_OUTPUT;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a === '--json') chosen = 'json';
    else if (a === '-o' || a === '--output') chosen = argv[i + 1];
    else if (a.startsWith('--output=')) chosen = a.slice('--output='.length);
    else if (a.startsWith('-o') && a.length > 2 && !a.startsWith('--')) chosen = a.slice(2);
  }
  return (OUTPUT_FORMATS as readonly string[]).includes(chosen ?? '') ? (chosen as OutputFormat) : 'table';
}

/** A value as a machine format: one line of JSON, or a YAML document. */
export async function serialise(format: 'json' | 'yaml', value: unknown): Promise<string> {
  if (format === 'json') return JSON.stringify(value);
  // Loaded only when asked for: most commands never print YAML.
  const { stringify } = await import('yaml');
  return stringify(value, { lineWidth: 0 }).trimEnd();
}

export { terminalSafe };

const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}]$/u;

/** The columns a string takes on a terminal: East Asian wide and fullwidth characters take two, combining marks none. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const c of text) width += ZERO_WIDTH.test(c) ? 0 : eastAsianWidth(c.codePointAt(0)!);
  return width;
}

const padEnd = (text: string, width: number) => text + ' '.repeat(Math.max(0, width - displayWidth(text)));

const show = (v: unknown): string =>
  terminalSafe(v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));

/** The columns a table of rows of type T can show: the keys of any of its row types. */
export type ColumnOf<T> = T extends unknown ? Extract<keyof T, string> : never;

/** Plain, aligned tables for people (every cell terminal-safe); scripts use -o json or -o yaml. */
export function table<T extends object>(rows: readonly T[], columns: readonly ColumnOf<T>[]): string {
  if (!rows.length) return '(none)';
  const cell = (row: T, column: string) => show((row as Record<string, unknown>)[column]);
  const cells = rows.map((r) => columns.map((c) => cell(r, c)));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => displayWidth(r[i]!))));
  const line = (values: string[]) =>
    values
      .map((v, i) => padEnd(v, widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join('\n');
}

/** Label–value lines (values terminal-safe); entries whose value is undefined are left out. */
export const fields = (entries: [string, unknown][]): string =>
  entries
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k.padEnd(14)} ${show(v)}`)
    .join('\n');

/** How long ago an ISO time was, for people: "42 s", "7 min", "3 h", "2 d". */
export function age(iso: string, now: Date = new Date()): string {
  const s = Math.max(0, Math.round((now.getTime() - Date.parse(iso)) / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}

/** Agents' acknowledgements of one state document, as operators read them. */
export const acknowledged = (
  a: { seq: number; halted: number; collecting: number; known: number; silent: number } | undefined,
): string | undefined =>
  a && `seq ${a.seq}: ${a.halted} halted, ${a.collecting} collecting, ${a.silent} silent of ${a.known} known (last 24 h)`;
