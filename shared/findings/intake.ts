import { createHash } from 'node:crypto';
import { AnomalyDetailSchema, type AnomalyDetail } from '../schemas/anomaly.ts';
import { FINDING_SOURCES, originOf, type FindingSource } from '../schemas/findings.ts';
import { parseOrThrow } from '../domain/errors.ts';
import { cutText } from '../schemas/common.ts';
import type { AnomalyTrigger, TriggerOutcome } from '../killswitch/trigger.ts';
import type { IncidentRecords } from '../killswitch/ports.ts';
import type { FindingRecords } from './ports.ts';
import { anomalyIdOf, type NormalisedFinding } from './normalise.ts';
import { audienceOf, isRelevantType, kindOf } from './relevance.ts';
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
  /** A Security Hub copy of a GuardDuty or Macie finding, whose own source is taken directly: handled from there. */
  | 'OTHER_SOURCE'
  /** No program owns the resources: recorded in the ledger, with a metric. */
  | 'UNMAPPED';

export type FindingOutcome =
  | { outcome: 'IGNORED'; reason: IgnoredReason }
  | {
      outcome: 'HANDLED';
      anomalies: ({ programId: string; anomalyId: string } & (TriggerOutcome | { outcome: 'ALREADY_HANDLED'; incidentId: string }))[];
    };

export interface FindingIntakeDeps {
  map: ResourceMap;
  trigger: Pick<AnomalyTrigger, 'handle' | 'coveredBy'>;
  incidents: Pick<IncidentRecords, 'record'>;
  findings: Pick<FindingRecords, 'recordUnmapped'>;
  /** Sources taken directly: a Security Hub copy of one of them is left to it (default: all). */
  directSources?: readonly FindingSource[];
  /**
   * The region those sources are taken in (their rules see only this region's events). A copy
   * from another region (Security Hub's cross-region aggregation) is taken from Security Hub:
   * its source's own events never reach this region. Default: every region counts as covered.
   */
  directRegion?: string;
  clock?: () => Date;
}

/**
 * Use case: an AWS finding arrived (from its EventBridge event, or from the sweep).
 *
 * 1. Not actionable (archived, sample, informational, irrelevant type, a copy of a source taken
 *    directly) → ignored. Otherwise mapped to programs and datasets; none → recorded as unmapped.
 * 2. Each program it concerns gets one anomaly, `<source>:<finding id>`, handed to the anomaly
 *    trigger, which decides by the program's policy and dedupes by that id. A report of the same
 *    finding with more (a higher severity, more datasets) escalates the incident; with nothing
 *    more it is a duplicate. The sweep passes `skipHandled` to skip the trigger, with one read, for
 *    reports the ledger already covers.
 * 3. Either way, this report of the finding (as of its `updatedAt`, at most one an hour) is
 *    recorded once in the incident's timeline, with the source's severity and count: the incident
 *    holds the finding's reports, whether the event path or the sweep saw them first.
 */
export class FindingIntake {
  readonly #clock: () => Date;
  constructor(private readonly deps: FindingIntakeDeps) {
    this.#clock = deps.clock ?? (() => new Date());
  }

  async handle(finding: NormalisedFinding, options: { skipHandled?: boolean } = {}): Promise<FindingOutcome> {
    const ignored = ignoredReason(finding, this.deps.directSources ?? FINDING_SOURCES, this.deps.directRegion);
    if (ignored) return { outcome: 'IGNORED', reason: ignored };

    const targets = this.deps.map.resolve(finding);
    if (!targets.length) {
      await this.deps.findings.recordUnmapped(finding, this.#clock());
      return { outcome: 'IGNORED', reason: 'UNMAPPED' };
    }

    const anomalies: Extract<FindingOutcome, { outcome: 'HANDLED' }>['anomalies'] = [];
    for (const target of targets) {
      const anomaly = anomalyOf(finding, target);
      const covered = options.skipHandled ? await this.deps.trigger.coveredBy(anomaly) : undefined;
      const result = covered ? { outcome: 'ALREADY_HANDLED' as const, incidentId: covered } : await this.deps.trigger.handle(anomaly);
      await this.#recordReport(finding, anomaly, result);
      anomalies.push({ programId: anomaly.programId, anomalyId: anomaly.anomalyId, ...result });
    }
    return { outcome: 'HANDLED', anomalies };
  }

  /** Step 3: one timeline entry per report of the finding (its `updatedAt`), whoever writes it first. */
  async #recordReport(
    finding: NormalisedFinding,
    anomaly: AnomalyDetail,
    result: TriggerOutcome | { outcome: 'ALREADY_HANDLED'; incidentId: string },
  ): Promise<void> {
    const { report } = finding;
    // One entry per hour of updates at most: GuardDuty and Macie may update a finding every 15 minutes
    // for as long as the activity goes on. The first report of the hour is kept (the trigger's own
    // ESCALATED entries record every escalation, whenever it comes).
    const key = `REPORTED#${finding.updatedAt.slice(0, 13)}#${createHash('sha256').update(anomaly.anomalyId).digest('hex').slice(0, 12)}`;
    const escalated = 'escalated' in result && result.escalated;
    const effect =
      result.outcome === 'PAUSED'
        ? `${escalated ? 'escalated the incident and ' : ''}paused the program at state version ${result.stateVersion}`
        : result.outcome === 'LINKED'
          ? `${escalated ? 'escalated the incident; ' : ''}the program was already paused`
          : result.outcome === 'RECORDED'
            ? `${escalated ? 'escalated the incident; ' : ''}recorded: the policy does not pause ${anomaly.severity}`
            : result.outcome === 'INCIDENT_CLOSED'
              ? 'nothing new: the incident was closed by a resume'
              : 'nothing new to act on: an update of a finding already recorded at this severity';
    await this.deps.incidents.record(key, {
      incidentId: result.incidentId,
      at: this.#clock().toISOString(),
      type: 'FINDING_REPORTED',
      actor: `detector:${anomaly.detector}`,
      message: `${SOURCE_NAMES[finding.source]} reported ${finding.type} (finding ${finding.findingId}) at severity ${report.severity}${report.count !== undefined ? `, seen ${report.count} time${report.count === 1 ? '' : 's'}` : ''}, updated ${finding.updatedAt}: ${effect}`,
      data: {
        anomalyId: anomaly.anomalyId,
        findingId: finding.findingId,
        updatedAt: finding.updatedAt,
        sourceSeverity: report.severity,
        severity: anomaly.severity,
        ...(report.count !== undefined ? { count: report.count } : {}),
        datasetIds: anomaly.datasetIds,
        outcome: result.outcome,
      },
    });
  }
}

const SOURCE_NAMES: Readonly<Record<FindingSource, string>> = {
  macie: 'Amazon Macie',
  guardduty: 'Amazon GuardDuty',
  securityhub: 'AWS Security Hub',
  'securityhub-ocsf': 'AWS Security Hub (OCSF)',
};

export function ignoredReason(
  finding: NormalisedFinding,
  directSources: readonly FindingSource[] = FINDING_SOURCES,
  directRegion?: string,
): IgnoredReason | undefined {
  // A sample is never real, whatever its state: said first, so that operators see why.
  if (finding.sample) return 'SAMPLE';
  if (finding.archived) return 'ARCHIVED';
  if (finding.severity === undefined) return 'INFORMATIONAL';
  if (finding.copyOf && directSources.includes(finding.copyOf) && (directRegion === undefined || finding.region === directRegion))
    return 'OTHER_SOURCE';
  if (!isRelevantType(originOf(finding.source), finding.type, finding.resourceTypes)) return 'NOT_RELEVANT';
  return undefined;
}

/** The internal anomaly for one program a finding concerns. Ids, type and title only. */
export function anomalyOf(finding: NormalisedFinding, target: FindingTarget): AnomalyDetail {
  const origin = originOf(finding.source);
  const kind = kindOf(origin, finding.type);
  const audience = audienceOf(kind);
  return parseOrThrow(
    AnomalyDetailSchema,
    {
      anomalyId: anomalyIdOf(finding.source, finding.findingId),
      programId: target.programId,
      detector: `aws.${origin}`,
      severity: finding.severity,
      kind,
      datasetIds: target.datasetIds,
      ...(audience && finding.window ? { exposure: { audience, principals: [], window: finding.window } } : {}),
      observedAt: finding.createdAt,
      summary: cutText(
        `${origin} finding ${finding.type} in ${finding.account}/${finding.region || 'unknown region'}: ${finding.title}`,
        2000,
      ),
    },
    `anomaly from ${origin} finding`,
  );
}
