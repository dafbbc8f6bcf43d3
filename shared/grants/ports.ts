import type { Grant, RevocationSnapshot, RestoreOutcome } from '../schemas/grants.ts';

export interface GrantPage {
  grants: Grant[];
  /** Opaque; absent on the last page. */
  cursor?: string;
}

export type RevokeResult =
  /** This call revoked an ACTIVE grant. */
  | 'REVOKED'
  /** Another incident had revoked it; this incident now holds it too. */
  | 'ALSO_HELD'
  /** This incident already holds it (a retry or a second delivery). */
  | 'ALREADY_HELD'
  /** A dataset owner's grant: never revoked. */
  | 'OWNER'
  /** The grant no longer exists. */
  | 'GONE';

/**
 * Where grants live. The DynamoDB grant table is the default backend; a backend for another
 * system (AWS Lake Formation, a database's GRANT tables) implements the same four operations,
 * each idempotent per (grant, incident), and reports what it could not do instead of hiding it.
 */
export interface GrantBackend {
  readonly name: string;
  /** One page of a dataset's grants, strongly consistent. */
  list(datasetId: string, cursor?: string, limit?: number): Promise<GrantPage>;
  /** Revoke for `incidentId`; one conditional write, safe to repeat. */
  revoke(grant: Grant, incidentId: string, by: string, at: Date): Promise<RevokeResult>;
  /** Release this incident's hold, restoring the grant if no other incident holds it and nobody changed it since. */
  restore(snapshot: RevocationSnapshot, by: string, at: Date): Promise<{ outcome: RestoreOutcome; reason?: string }>;
  /** May `principal` use `datasetId` with `permission` right now? (Fails closed.) */
  canAccess(principal: string, datasetId: string, permission: Grant['permission']): Promise<boolean>;
}

/** The incident's revocation record in the ledger: what was revoked (to restore exactly that), per dataset. */
export interface RevocationRecords {
  recordSnapshots(snapshots: RevocationSnapshot[]): Promise<void>;
  snapshots(incidentId: string, cursor?: string, limit?: number): Promise<{ snapshots: RevocationSnapshot[]; cursor?: string }>;
  recordRestore(requestId: string, snapshot: RevocationSnapshot, outcome: RestoreOutcome, at: Date, reason?: string): Promise<boolean>;
  counts(
    incidentId: string,
    requestId?: string,
  ): Promise<{ revoked: number; alsoHeld: number; restored: number; stillHeld: number; skipped: number }>;
  markDatasetDone(incidentId: string, datasetId: string, at: Date): Promise<boolean>;
  datasetsDone(incidentId: string): Promise<Set<string>>;
}
