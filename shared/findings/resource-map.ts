import type { FindingMap } from '../schemas/findings.ts';
import type { NormalisedFinding } from './normalise.ts';

/** Programs (and their datasets) a finding concerns. `datasetIds` empty means all of the program's datasets. */
export interface FindingTarget {
  programId: string;
  datasetIds: string[];
}

/**
 * Maps the AWS resources of a finding onto programs and datasets, from deployed configuration:
 *
 * - S3 (bucket, or bucket and key): the mappings of that bucket (and account, where given). An
 *   object key takes the longest matching prefix; a bucket-level finding concerns every prefix.
 * - Identities (IAM users, roles, access keys): the program mapped to the finding's account and
 *   region, all its datasets.
 *
 * Nothing matches: the finding concerns no program (recorded and ignored by the caller).
 */
export class ResourceMap {
  constructor(private readonly map: FindingMap) {}

  resolve(finding: Pick<NormalisedFinding, 'account' | 'region' | 'resources'>): FindingTarget[] {
    const datasets = new Map<string, Set<string> | 'ALL'>();
    const add = (programId: string, datasetId?: string) => {
      const current = datasets.get(programId);
      if (current === 'ALL') return;
      if (datasetId === undefined) datasets.set(programId, 'ALL');
      else datasets.set(programId, (current ?? new Set()).add(datasetId));
    };

    for (const ref of finding.resources) {
      if (ref.kind === 's3') {
        const candidates = this.map.s3.filter((m) => m.bucket === ref.bucket && (m.account === undefined || m.account === finding.account));
        if (ref.key === undefined) {
          for (const m of candidates) add(m.programId, m.datasetId);
          continue;
        }
        const key = ref.key;
        const matching = candidates.filter((m) => key.startsWith(m.prefix));
        const longest = Math.max(-1, ...matching.map((m) => m.prefix.length));
        for (const m of matching) if (m.prefix.length === longest) add(m.programId, m.datasetId);
      } else {
        for (const m of this.map.accounts) {
          if (m.account === finding.account && (m.region === undefined || m.region === finding.region)) add(m.programId);
        }
      }
    }
    return [...datasets].map(([programId, ids]) => ({ programId, datasetIds: ids === 'ALL' ? [] : [...ids].sort() }));
  }
}
