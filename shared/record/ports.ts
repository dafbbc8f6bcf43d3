import type { ChainAnchor, ChainHead, ChainReport } from '../domain/hash-chain.ts';

/*
 * The ports of the record's use cases (issue 19): the ledger's hash chains, where their heads are
 * exported, and the reads a register, a report and the 72-hour clock need.
 */

/** Where chain heads are exported: a store nobody (not even its owner) can rewrite for the retention period. */
export interface ChainAnchors {
  /** Keep this head; exporting the same head twice keeps one. */
  export(head: ChainHead): Promise<void>;
  /** Every head exported for the chain. */
  list(chainId: string): Promise<ChainAnchor[]>;
  /** What the store is, and whether it really cannot be rewritten (the local stack's S3 has no Object Lock). */
  describe(): Promise<AnchorStore>;
}

export interface AnchorStore {
  location: string;
  /** `COMPLIANCE` when objects cannot be changed or removed by anyone until their retention ends. */
  objectLock: 'COMPLIANCE' | 'GOVERNANCE' | 'NONE' | 'UNKNOWN';
  retentionDays?: number;
  note?: string;
}

/** The ledger's chains: an incident's timeline, and each scope's audit trail (one entry per state version). */
export type ChainName = { kind: 'incident'; incidentId: string } | { kind: 'audit'; programId: string; scope: string };

/** A chain's id: what its links hash, and where its heads are exported (`incident/<id>`, `audit/<program>/<scope>`). */
export const chainIdOf = (name: ChainName): string =>
  name.kind === 'incident' ? `incident/${name.incidentId}` : `audit/${name.programId}/${name.scope}`;

/** What a seal did: the chain's head after it, and how many records it linked. */
export interface SealResult {
  head?: ChainHead;
  sealed: number;
}

export interface LedgerChains {
  /** Link every record of the chain that has no link yet (within the seal window). */
  seal(chain: ChainName): Promise<SealResult>;
  /** Recompute the chain against its stored head and its exported heads. */
  verify(chain: ChainName): Promise<ChainReport>;
  anchorStore(): Promise<AnchorStore | undefined>;
}
