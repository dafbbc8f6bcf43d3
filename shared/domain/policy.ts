import type { AnomalyDetail } from '../schemas/anomaly.ts';
import type { PolicyAction, ProgramConfig } from '../schemas/config.ts';

export interface PolicyDecision {
  action: PolicyAction;
  /** Datasets the anomaly concerns, as the program knows them (all of them when it names none). */
  datasetIds: string[];
  /** Datasets the anomaly named that the program does not have. */
  unknownDatasetIds: string[];
}

/**
 * Decide what an anomaly does to its program. Automation can only ever pause or record:
 * there is no action that resumes.
 */
export function decide(program: ProgramConfig, anomaly: Pick<AnomalyDetail, 'severity' | 'datasetIds'>): PolicyDecision {
  const known = new Set(program.datasetIds);
  const named = [...new Set(anomaly.datasetIds)];
  const datasetIds = named.length ? named.filter((d) => known.has(d)) : [...program.datasetIds];
  const unknownDatasetIds = named.filter((d) => !known.has(d));
  // An anomaly that names only datasets we do not know still concerns the program: pause it
  // whole rather than act on nothing.
  return {
    action: program.severityPolicy[anomaly.severity],
    datasetIds: datasetIds.length ? datasetIds : [...program.datasetIds],
    unknownDatasetIds,
  };
}
