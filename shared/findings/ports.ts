import type { FindingSource, SweepWatermark } from '../schemas/findings.ts';
import type { NormalisedFinding, ParsedFinding } from './normalise.ts';

/*
 * The ports of the finding use cases (intake, sweep). The Macie, GuardDuty and Security Hub
 * sources are in shared/adapters/findings; the finding log in shared/adapters/dynamodb.
 */

/** A source the sweep lists findings from: pages of parsed findings updated since a time, oldest first. */
export interface SweepSource {
  readonly name: FindingSource;
  pages(since: Date, until: Date): AsyncIterable<ParsedFinding[]>;
}

/** What the ledger keeps of findings: the ones no dataset maps to, and each source's sweep watermark. */
export interface FindingRecords {
  recordUnmapped(finding: NormalisedFinding, at: Date): Promise<boolean>;
  getUnmapped(source: FindingSource, findingId: string): Promise<Record<string, unknown> | undefined>;
  watermark(source: FindingSource): Promise<SweepWatermark | undefined>;
  saveWatermark(mark: SweepWatermark): Promise<void>;
}
