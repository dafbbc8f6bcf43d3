/** The columns a table of rows of type T can show: the keys of any of its row types. */
export type ColumnOf<T> = T extends unknown ? Extract<keyof T, string> : never;

/** Plain, aligned tables for people; scripts use --json. */
export function table<T extends object>(rows: readonly T[], columns: readonly ColumnOf<T>[]): string {
  if (!rows.length) return '(none)';
  const cell = (row: T, column: string) => {
    const v = (row as Record<string, unknown>)[column];
    return v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  };
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r, c).length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...rows.map((r) => line(columns.map((c) => cell(r, c))))].join('\n');
}

export const fields = (entries: [string, unknown][]): string =>
  entries
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k.padEnd(14)} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join('\n');

/** Agents' acknowledgements of one state document, as operators read them. */
export const acknowledged = (
  a: { seq: number; halted: number; collecting: number; known: number; silent: number } | undefined,
): string | undefined =>
  a && `seq ${a.seq}: ${a.halted} halted, ${a.collecting} collecting, ${a.silent} silent of ${a.known} known (last 24 h)`;
