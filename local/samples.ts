import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FINDING_SOURCES, type FindingSource } from '#shared/schemas/findings.ts';
import type { BusEvent } from './event-bus.ts';

const SAMPLES_DIR = join(import.meta.dirname, 'samples');
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

export const sampleFindingPath = (source: FindingSource): string => join(SAMPLES_DIR, `${source}-finding.json`);

/**
 * A sample finding event of `source`, in the shape AWS documents (local/samples), about one of
 * the sample program's buckets. With `at`, every timestamp moves so that the event happens at `at`
 * (the finding keeps its internal timing) and `suffix` makes the ids unique.
 */
export function sampleFindingEvent(source: FindingSource, options: { at?: Date; suffix?: string } = {}): BusEvent {
  if (!FINDING_SOURCES.includes(source)) throw new Error(`unknown finding source "${source}": one of ${FINDING_SOURCES.join(', ')}`);
  const event = JSON.parse(readFileSync(sampleFindingPath(source), 'utf8')) as BusEvent;
  const delta = options.at ? options.at.getTime() - Date.parse(event.time) : 0;
  const shift = (value: unknown): unknown => {
    if (typeof value === 'string' && ISO.test(value)) {
      const moved = new Date(Date.parse(value) + delta).toISOString();
      return value.includes('.') ? moved : moved.replace(/\.\d{3}Z$/, 'Z');
    }
    if (Array.isArray(value)) return value.map(shift);
    if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shift(v)]));
    return value;
  };
  const moved = shift(event) as BusEvent;
  if (options.suffix) {
    moved.id = `${moved.id.slice(0, 24)}${options.suffix.padStart(12, '0').slice(-12)}`;
    const detail = moved.detail as Record<string, unknown> & { findings?: Record<string, unknown>[] };
    for (const f of detail.findings ?? []) {
      const info = f.finding_info as Record<string, unknown> | undefined;
      if (info) info.uid = `${String(info.uid)}-${options.suffix}`;
      else f.Id = `${String(f.Id)}-${options.suffix}`;
    }
    if (!detail.findings) detail.id = `${String(detail.id)}${options.suffix}`;
  }
  return moved;
}
