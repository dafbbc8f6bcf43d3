import type { AffectedEmployee, DataSubject } from '../schemas/notices.ts';
import type { DataSubjects } from './ports.ts';

/** Reads one dataset's subjects page by page, in employee-id order. */
class SubjectStream {
  #buffer: DataSubject[] = [];
  #cursor: string | undefined;
  #exhausted = false;

  constructor(
    private readonly store: DataSubjects,
    private readonly datasetId: string,
    private readonly after: string | undefined,
    private readonly pageSize: number,
  ) {}

  async peek(): Promise<DataSubject | undefined> {
    while (!this.#buffer.length && !this.#exhausted) {
      const page = await this.store.page(this.datasetId, { after: this.after, cursor: this.#cursor, limit: this.pageSize });
      this.#buffer = page.subjects;
      this.#cursor = page.cursor;
      this.#exhausted = !page.cursor;
    }
    return this.#buffer[0];
  }

  shift(): void {
    this.#buffer.shift();
  }
}

/**
 * Every employee whose data is in any of `datasetIds`, once, with the union of their categories,
 * in employee-id order. A k-way merge of the datasets' partitions (each sorted by employee id),
 * so memory holds one page per dataset whatever the audience size. `after` resumes a run.
 */
export async function* affectedEmployees(
  store: DataSubjects,
  datasetIds: readonly string[],
  options: { after?: string; pageSize?: number } = {},
): AsyncGenerator<AffectedEmployee> {
  const streams = [...new Set(datasetIds)].map((d) => new SubjectStream(store, d, options.after, options.pageSize ?? 500));
  for (;;) {
    const heads = await Promise.all(streams.map((s) => s.peek()));
    let next: string | undefined;
    for (const h of heads) if (h && (next === undefined || h.employeeId < next)) next = h.employeeId;
    if (next === undefined) return;
    const rows = heads.filter((h): h is DataSubject => h?.employeeId === next);
    streams.forEach((s, i) => {
      if (heads[i]?.employeeId === next) s.shift();
    });
    yield {
      employeeId: next,
      categories: [...new Set(rows.flatMap((r) => r.categories))].sort(),
      datasetIds: rows.map((r) => r.datasetId).sort(),
      heldFrom: rows.map((r) => r.heldFrom).sort()[0]!,
      heldTo: rows
        .map((r) => r.heldTo)
        .sort()
        .at(-1)!,
      ...(rows.find((r) => r.locale)?.locale ? { locale: rows.find((r) => r.locale)!.locale } : {}),
    };
  }
}
