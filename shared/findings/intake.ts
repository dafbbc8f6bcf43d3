import { AnomalyDetailSchema, type AnomalyDetail } from '../schemas/anomaly.ts';
import { parseOrThrow } from '../domain/errors.ts';
import type { AnomalyTrigger, TriggerOutcome } from '../killswitch/trigger.ts';
import type { AnomalyReports } from '../killswitch/ports.ts';
import type { FindingRecords } from './ports.ts';
import { anomalyIdOf, type NormalisedFinding } from './normalise.ts';
import { audienceOf, isRelevantType, kindOf, SECURITY_HUB_EXCLUDED_PRODUCTS } from './relevance.ts';
import type { FindingTarget, ResourceMap } from './resource-map.ts';

export type IgnoredReason =
  /** Archived, resolved or suppressed at the source. */
  | 'ARCHIVED'
  /** A sample finding (Macie CreateSampleFindings, GuardDuty sample findings). */
  | 'SAMPLE'
  /** Informational: the source says no issue was found. */
  | 'INFORMATIONAL'
  /** A finding type or resource type that says nothing about a program's data. */
  | 'NOT_RELEVANT'
  /** A Security Hub copy of a GuardDuty or Macie finding: handled from its own source. */
  | 'OTHER_SOURCE'
  /** No program owns the resources: recorded in the ledger, with a metric. */
  | 'UNMAPPED';

export type FindingOutcome =
  | { outcome: 'IGNORED'; reason: IgnoredReason }
  | {
      outcome: 'HANDLED';
      anomalies: ({ programId: string; anomalyId: string } & (TriggerOutcome | { outcome: 'ALREADY_HANDLED' }))[];
    };

export interface FindingIntakeDeps {
  map: ResourceMap;
  trigger: Pick<AnomalyTrigger, 'handle'>;
  anomalies: Pick<AnomalyReports, 'isComplete'>;
  findings: Pick<FindingRecords, 'recordUnmapped'>;
  clock?: () => Date;
}

/**
 * Use case: an AWS finding arrived (from its EventBridge event, or from the sweep).
 *
 * Not actionable (archived, sample, informational, irrelevant type) → ignored. Otherwise mapped to
 * programs and datasets; none → recorded as unmapped. Each program it concerns gets one anomaly,
 * `<source>:<finding id>`, handed to the anomaly trigger, which decides by the program's policy
 * and dedupes by that id. The sweep passes `skipHandled` to skip, with one read, anomalies the
 * event path already completed.
 */
export class FindingIntake {
  readonly #clock: () => Date;
  constructor(private readonly deps: FindingIntakeDeps) {
    this.#clock = deps.clock ?? (() => new Date());
  }

  async handle(finding: NormalisedFinding, options: { skipHandled?: boolean } = {}): Promise<FindingOutcome> {
    const ignored = ignoredReason(finding);
    if (ignored) return { outcome: 'IGNORED', reason: ignored };

    const targets = this.deps.map.resolve(finding);
    if (!targets.length) {
      await this.deps.findings.recordUnmapped(finding, this.#clock());
      return { outcome: 'IGNORED', reason: 'UNMAPPED' };
    }

    const anomalies: Extract<FindingOutcome, { outcome: 'HANDLED' }>['anomalies'] = [];
    for (const target of targets) {
      const anomaly = anomalyOf(finding, target);
      if (options.skipHandled && (await this.deps.anomalies.isComplete(anomaly.programId, anomaly.anomalyId))) {
        anomalies.push({ programId: anomaly.programId, anomalyId: anomaly.anomalyId, outcome: 'ALREADY_HANDLED' });
        continue;
      }
      const result = await this.deps.trigger.handle(anomaly);
      anomalies.push({ programId: anomaly.programId, anomalyId: anomaly.anomalyId, ...result });
    }
    return { outcome: 'HANDLED', anomalies };
  }
}

export function ignoredReason(finding: NormalisedFinding): IgnoredReason | undefined {
  if (finding.archived) return 'ARCHIVED';
  if (finding.sample) return 'SAMPLE';
  if (finding.severity === undefined) return 'INFORMATIONAL';
  if (finding.product && (SECURITY_HUB_EXCLUDED_PRODUCTS as readonly string[]).includes(finding.product)) return 'OTHER_SOURCE';
  if (!isRelevantType(finding.source, finding.type, finding.resourceTypes)) return 'NOT_RELEVANT';
  return undefined;
}

/** The internal anomaly for one program a finding concerns. Ids, type and title only. */
export function anomalyOf(finding: NormalisedFinding, target: FindingTarget): AnomalyDetail {
  const kind = kindOf(finding.source, finding.type);
  const audience = audienceOf(kind);
  return parseOrThrow(
    AnomalyDetailSchema,
    {
      anomalyId: anomalyIdOf(finding.source, finding.findingId),
      programId: target.programId,
      detector: `aws.${finding.source}`,
      severity: finding.severity,
      kind,
      datasetIds: target.datasetIds,
      ...(audience && finding.window ? { exposure: { audience, principals: [], window: finding.window } } : {}),
      observedAt: finding.createdAt,
      summary: `${finding.source} finding ${finding.type} in ${finding.account}/${finding.region || 'unknown region'}: ${finding.title}`,
    },
    `anomaly from ${finding.source} finding`,
  );
}
