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
  /** One anomaly's reports on one scope: the dedupe and escalation record. */
  anomaly: (programId: string, anomalyId: string, scope: string) => ({ pk: `ANOMALY#${programId}#${anomalyId}`, sk: `#SCOPE#${scope}` }),
  /** Revocation of one dataset for one incident finished (restores wait for every dataset of the incident). */
  revocationDone: (incidentId: string, datasetId: string) => ({ pk: `INCIDENT#${incidentId}`, sk: `REVOCATION#${datasetId}` }),
  approvalRequest: (requestId: string) => ({ pk: `REQUEST#${requestId}`, sk: '#REQUEST' }),
  /** An AWS finding that concerns no program (recorded, not acted on). */
  finding: (source: string, findingId: string) => ({ pk: `FINDING#${source}#${findingId}`, sk: '#FINDING' }),
  sweepWatermark: (source: string) => ({ pk: `SWEEP#${source}`, sk: '#WATERMARK' }),
} as const;

/**
 * Global secondary index (`gsi1pk`, `gsi1sk`) that lists records of one kind and program by time
 * (incidents, approval requests): one partition per program, so a program's list is complete
 * however many incidents other programs have.
 */
export const LEDGER_KIND_INDEX = 'byKind';
export const KindKeys = {
  incident: (programId: string, openedAt: string, incidentId: string) => ({
    gsi1pk: `INCIDENT#${programId}`,
    gsi1sk: `${openedAt}#${incidentId}`,
  }),
  /**
   * A request's index partition names its status, and its decision moves it: the PENDING partition
   * holds only what waits, so `status` reads that, not every request the program ever had.
   * (Requests stored before this had `REQUEST#<program>`; see ApprovalRequests.list.)
   */
  approvalRequest: (programId: string, requestedAt: string, requestId: string, status: string = 'PENDING') => ({
    gsi1pk: `REQUEST#${programId}#${status}`,
    gsi1sk: `${requestedAt}#${requestId}`,
  }),
} as const;

/** Strip the key attributes before a record is parsed into its domain type. */
export function withoutKeys(item: Record<string, unknown>): Record<string, unknown> {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { pk, sk, gsi1pk, gsi1sk, ...rest } = item;
  return rest;
}
