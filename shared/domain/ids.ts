import { createHash, randomBytes } from 'node:crypto';

const hex = (seed: string, length: number): string => createHash('sha256').update(seed).digest('hex').slice(0, length);

const day = (at: Date): string => at.toISOString().slice(0, 10).replaceAll('-', '');

/**
 * Incident ids are derived from what caused them (a program and anomaly id, or an operator and
 * idempotency key), so every retry and duplicate delivery names the same incident.
 */
export function incidentIdFor(seed: string, at: Date): string {
  return `inc-${day(at)}-${hex(seed, 12)}`;
}

export function newIncidentId(at: Date): string {
  return `inc-${day(at)}-${randomBytes(6).toString('hex')}`;
}

/** A UUID (version 8, name-based) derived from a seed: the same seed gives the same id. */
export function uuidFor(seed: string): string {
  const h = hex(seed, 32).split('');
  h[12] = '8';
  h[16] = ((parseInt(h[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  const s = h.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20, 32)}`;
}
