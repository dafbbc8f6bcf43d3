import { padVersion } from '../dynamo.ts';

/**
 * The Ledger is one table with typed keys. Every record has a deterministic key, so a
 * retried write lands on the same item and a conditional put makes it exactly-once.
 */
export const LedgerKeys = {
  incident: (incidentId: string) => ({ pk: `INCIDENT#${incidentId}`, sk: '#INCIDENT' }),
  timeline: (incidentId: string, entryKey: string) => ({ pk: `INCIDENT#${incidentId}`, sk: `EVENT#${entryKey}` }),
  audit: (programId: string, scope: string, version: number) => ({
    pk: `AUDIT#${programId}#${scope}`,
    sk: `V#${padVersion(version)}`,
  }),
  anomaly: (programId: string, anomalyId: string) => ({ pk: `ANOMALY#${programId}#${anomalyId}`, sk: '#ANOMALY' }),
  resumeRequest: (requestId: string) => ({ pk: `RESUME#${requestId}`, sk: '#REQUEST' }),
} as const;

/** Global secondary index that lists records of one kind by time (incidents, resume requests). */
export const LEDGER_KIND_INDEX = 'byKind';
export const KindKeys = {
  incident: (openedAt: string, incidentId: string) => ({ kind: 'INCIDENT', kindSk: `${openedAt}#${incidentId}` }),
  resumeRequest: (programId: string, requestedAt: string, requestId: string) => ({
    kind: `RESUME#${programId}`,
    kindSk: `${requestedAt}#${requestId}`,
  }),
} as const;

/** Strip the key attributes before a record is parsed into its domain type. */
export function withoutKeys(item: Record<string, unknown>): Record<string, unknown> {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { pk, sk, kind, kindSk, ...rest } = item;
  return rest;
}
