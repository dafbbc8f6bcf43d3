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

/** The access system would not or could not revoke the entry (an implicit permission, a policy at its size limit): reported, never passed off as done. */
export interface NotRevoked {
  notRevoked: string;
}
export type RevokeOutcome = RevokeResult | NotRevoked;
export const isNotRevoked = (r: string | NotRevoked): r is NotRevoked => typeof r === 'object';

/** An entry of an incident's datasets that stays in force, and why: in the ledger, for the incident's record. */
export interface UnrevokedEntry {
  incidentId: string;
  datasetId: string;
  backend: string;
  /** The registry's principal#permission, or the access system's key. */
  key: string;
  label: string;
  reason: string;
  at: string;
}

export interface RevocationCounts {
  revoked: number;
  alsoHeld: number;
  restored: number;
  stillHeld: number;
  skipped: number;
  notRevoked: number;
  /** Revoked or held, per access system. */
  byBackend: Record<string, number>;
}

/**
 * Where grants live. The DynamoDB grant table is the default backend; the access systems a dataset
 * maps to (bucket policy, Lake Formation, S3 Access Grants) come through RoutedGrantBackend. Each
 * implements the same four operations,
 * each idempotent per (grant, incident), and reports what it could not do instead of hiding it.
 */
export interface GrantBackend {
  readonly name: string;
  /** One page of a dataset's grants, strongly consistent. */
  list(datasetId: string, cursor?: string, limit?: number): Promise<GrantPage>;
  /** Revoke for `incidentId`; one conditional write, safe to repeat. */
  revoke(grant: Grant, incidentId: string, by: string, at: Date): Promise<RevokeOutcome>;
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
  /** An entry that stays in force (once per entry and incident). */
  recordUnrevoked(entries: UnrevokedEntry[]): Promise<void>;
  unrevoked(incidentId: string, limit?: number): Promise<UnrevokedEntry[]>;
  counts(incidentId: string, requestId?: string): Promise<RevocationCounts>;
  /** True the first time (a put-once entry): the dataset's counts are counted then, and never again. */
  markDatasetDone(incidentId: string, datasetId: string, at: Date): Promise<boolean>;
  /** What the incident revoked, and could not revoke, on one dataset (its entries only). */
  datasetCounts(incidentId: string, datasetId: string): Promise<{ revoked: number; notRevoked: number }>;
  datasetsDone(incidentId: string): Promise<Set<string>>;
}

// ---------------------------------------------------------------------------------------------
// The AWS access systems a dataset maps to (datasets[].access), as the revoker sees them.
// ---------------------------------------------------------------------------------------------

export const ACCESS_SYSTEMS = ['bucketPolicy', 'lakeFormation', 's3AccessGrants'] as const;
export type AccessSystemName = (typeof ACCESS_SYSTEMS)[number];

/** One entry of an access system that gives access to a dataset: a permission, a grant, or (bucket policy) the dataset's quarantine. */
export interface AccessEntry {
  /** Stable across listings while the entry is the same (the system's id, or a digest of the entry). */
  key: string;
  principal: string;
  permission: Grant['permission'];
  /** The whole entry, JSON: what a restore gives back. */
  entry: string;
  label: string;
  owner: boolean;
  notRevocable?: string;
}

/**
 * An access system's side of a dataset. `perIncident` systems make a change of the incident's own
 * (the bucket policy's quarantine statement, by Sid): no incident's revoke or restore touches
 * another's. The others share one entry among incidents: holds (AccessHolds) decide who revokes
 * it and when it comes back.
 */
export interface AccessSystem {
  readonly name: AccessSystemName;
  readonly perIncident: boolean;
  /** The datasets this system is mapped for. */
  covers(datasetId: string): boolean;
  /** Every entry in force on the dataset now; for a perIncident system, `heldBy` lists the incidents whose change is in force. */
  entries(datasetId: string): Promise<(AccessEntry & { heldBy?: string[] })[]>;
  /** Take the entry away (idempotent). ALREADY: a perIncident change already in force. */
  revoke(datasetId: string, entry: AccessEntry, incidentId: string): Promise<'REVOKED' | 'ALREADY' | 'GONE' | NotRevoked>;
  /** Give it back exactly (idempotent); SKIPPED with the reason when that is no longer possible or someone changed it since. */
  restore(datasetId: string, entry: AccessEntry, incidentId: string): Promise<{ outcome: 'RESTORED' | 'SKIPPED'; reason?: string }>;
}

export type HoldState = 'REVOKING' | 'REVOKED' | 'RESTORING' | 'RESTORED';
export type MarkRevoked = 'MARKED' | 'NOT_HELD' | 'RESTORING';
export interface Hold {
  datasetId: string;
  backend: AccessSystemName;
  entry: AccessEntry;
  holders: string[];
  state: HoldState;
}

/** Which incidents hold a shared access-system entry revoked, and where its revoke or restore stands. */
export interface AccessHolds {
  /** Add the incident; `added` false when it already held it. `previous` is the record before. */
  hold(datasetId: string, backend: AccessSystemName, entry: AccessEntry, incidentId: string): Promise<{ added: boolean; previous?: Hold }>;
  /** The system's revoke is done: only while `incidentId` holds it and no restore is in progress (RESTORING: the restorer revokes again). */
  markRevoked(datasetId: string, backend: AccessSystemName, key: string, incidentId: string): Promise<MarkRevoked>;
  /** The entry is gone from the system: drop the incident's hold only if it alone holds it and nobody revoked it. */
  dropIfAlone(datasetId: string, backend: AccessSystemName, key: string, incidentId: string): Promise<boolean>;
  /** A restore found a hold taken meanwhile and revoked the entry again: RESTORING → REVOKED. */
  revokedAgain(datasetId: string, backend: AccessSystemName, key: string): Promise<boolean>;
  /** Remove the incident; the record after. */
  release(datasetId: string, backend: AccessSystemName, key: string, incidentId: string): Promise<{ removed: boolean; after?: Hold }>;
  /** Claim the restore: only when nobody holds it. */
  beginRestore(datasetId: string, backend: AccessSystemName, key: string): Promise<boolean>;
  /** The restore is done: only if nobody took a hold meanwhile (else the caller revokes again). */
  finishRestore(datasetId: string, backend: AccessSystemName, key: string): Promise<boolean>;
  /** Every record of the dataset and system that is held or not yet restored. */
  held(datasetId: string, backend: AccessSystemName): Promise<Hold[]>;
}
