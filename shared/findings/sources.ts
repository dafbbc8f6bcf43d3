import { GetFindingsCommand as GetMacieFindingsCommand, ListFindingsCommand as ListMacieFindingsCommand, type Macie2Client } from '@aws-sdk/client-macie2';
import {
  GetFindingsCommand as GetGuardDutyFindingsCommand,
  ListDetectorsCommand,
  ListFindingsCommand as ListGuardDutyFindingsCommand,
  type GuardDutyClient,
} from '@aws-sdk/client-guardduty';
import { GetFindingsCommand as GetSecurityHubFindingsCommand, type SecurityHubClient } from '@aws-sdk/client-securityhub';
import type { FindingSource } from '../schemas/findings.ts';
import { parseAsffFinding, parseGuardDutyFinding, parseMacieFinding, type ParsedFinding } from './normalise.ts';
import {
  GUARDDUTY_MIN_SEVERITY,
  GUARDDUTY_RESOURCE_TYPES,
  MACIE_SEVERITIES,
  MACIE_TYPES,
  SECURITY_HUB_EXCLUDED_PRODUCTS,
  SECURITY_HUB_RESOURCE_TYPES,
  SECURITY_HUB_SEVERITY_LABELS,
  SECURITY_HUB_WORKFLOW_STATUSES,
} from './relevance.ts';

/** A source the sweep lists findings from: pages of parsed findings updated since a time, oldest first. */
export interface SweepSource {
  readonly name: FindingSource;
  pages(since: Date, until: Date): AsyncIterable<ParsedFinding[]>;
}

const THROTTLING = new Set(['ThrottlingException', 'TooManyRequestsException', 'LimitExceededException', 'RequestLimitExceeded', 'SlowDown']);
export const isThrottling = (error: unknown): boolean =>
  error instanceof Error && (THROTTLING.has(error.name) || (error as { $retryable?: { throttling?: boolean } }).$retryable?.throttling === true);

export interface Pacing {
  /** Least time between two calls to the same API (the source's documented rate). */
  minIntervalMs: number;
  /** Attempts of one call when it is throttled (on top of the SDK's own retries). */
  attempts: number;
  /** First back-off; doubled each time, with full jitter. */
  baseDelayMs: number;
  sleep: (ms: number) => Promise<void>;
}

export const DEFAULT_PACING: Pacing = {
  minIntervalMs: 250,
  attempts: 5,
  baseDelayMs: 500,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Calls paced at the source's rate; throttled calls back off and retry, then give up (the sweep keeps its watermark). */
export class PacedCaller {
  #last = -Infinity;
  /** Throttled attempts seen, for the sweep report. */
  throttled = 0;
  constructor(private readonly pacing: Pacing) {}

  async call<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const wait = this.#last + this.pacing.minIntervalMs - performance.now();
      if (wait > 0) await this.pacing.sleep(wait);
      this.#last = performance.now();
      try {
        return await fn();
      } catch (error) {
        if (!isThrottling(error) || attempt >= this.pacing.attempts) throw error;
        this.throttled++;
        await this.pacing.sleep(Math.random() * this.pacing.baseDelayMs * 2 ** (attempt - 1));
      }
    }
  }
}

/** SDK output has Date objects where the event has ISO strings: one JSON round trip makes them alike. */
const asJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

const byUpdatedAt = (a: ParsedFinding, b: ParsedFinding) =>
  (a.ok ? Date.parse(a.finding.updatedAt) : 0) - (b.ok ? Date.parse(b.finding.updatedAt) : 0);

/** Macie: ListFindings (ids, 50 a page, by updatedAt) then GetFindings for the page. */
export class MacieSweepSource implements SweepSource {
  readonly name = 'macie' as const;
  readonly caller: PacedCaller;
  constructor(
    private readonly client: Macie2Client,
    pacing: Pacing = DEFAULT_PACING,
  ) {
    this.caller = new PacedCaller(pacing);
  }

  async *pages(since: Date, until: Date): AsyncIterable<ParsedFinding[]> {
    let nextToken: string | undefined;
    do {
      const list = await this.caller.call(() =>
        this.client.send(
          new ListMacieFindingsCommand({
            findingCriteria: {
              criterion: {
                updatedAt: { gte: since.getTime(), lte: until.getTime() },
                'severity.description': { eq: [...MACIE_SEVERITIES] },
                type: { eq: [...MACIE_TYPES] },
                archived: { eq: ['false'] },
              },
            },
            sortCriteria: { attributeName: 'updatedAt', orderBy: 'ASC' },
            maxResults: 50,
            nextToken,
          }),
        ),
      );
      nextToken = list.nextToken || undefined;
      const ids = list.findingIds ?? [];
      if (!ids.length) continue;
      const got = await this.caller.call(() => this.client.send(new GetMacieFindingsCommand({ findingIds: ids })));
      yield (got.findings ?? []).map((f) => parseMacieFinding(asJson(f))).sort(byUpdatedAt);
    } while (nextToken);
  }
}

/** `Resource.S3BucketDetails` → `resource.s3BucketDetails`: the SDK's member names onto the event's JSON names. */
function camelKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camelKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.charAt(0).toLowerCase() + k.slice(1), camelKeys(v)]));
}

/** GuardDuty: every detector of the region; ListFindings (50 a page, by updatedAt) then GetFindings. */
export class GuardDutySweepSource implements SweepSource {
  readonly name = 'guardduty' as const;
  readonly caller: PacedCaller;
  constructor(
    private readonly client: GuardDutyClient,
    pacing: Pacing = DEFAULT_PACING,
  ) {
    this.caller = new PacedCaller(pacing);
  }

  async *pages(since: Date, until: Date): AsyncIterable<ParsedFinding[]> {
    const detectors: string[] = [];
    let detectorToken: string | undefined;
    do {
      const out = await this.caller.call(() => this.client.send(new ListDetectorsCommand({ NextToken: detectorToken })));
      detectors.push(...(out.DetectorIds ?? []));
      detectorToken = out.NextToken || undefined;
    } while (detectorToken);

    for (const DetectorId of detectors) {
      let NextToken: string | undefined;
      do {
        const list = await this.caller.call(() =>
          this.client.send(
            new ListGuardDutyFindingsCommand({
              DetectorId,
              FindingCriteria: {
                Criterion: {
                  updatedAt: { GreaterThanOrEqual: since.getTime(), LessThanOrEqual: until.getTime() },
                  severity: { GreaterThanOrEqual: GUARDDUTY_MIN_SEVERITY },
                  'resource.resourceType': { Equals: [...GUARDDUTY_RESOURCE_TYPES] },
                  'service.archived': { Equals: ['false'] },
                },
              },
              SortCriteria: { AttributeName: 'updatedAt', OrderBy: 'ASC' },
              MaxResults: 50,
              NextToken,
            }),
          ),
        );
        NextToken = list.NextToken || undefined;
        const ids = list.FindingIds ?? [];
        if (!ids.length) continue;
        const got = await this.caller.call(() => this.client.send(new GetGuardDutyFindingsCommand({ DetectorId, FindingIds: ids })));
        yield (got.Findings ?? []).map((f) => parseGuardDutyFinding(camelKeys(asJson(f)))).sort(byUpdatedAt);
      } while (NextToken);
    }
  }
}

/** Security Hub: GetFindings with the rule's filters (100 a page, by UpdatedAt). GuardDuty and Macie copies left out. */
export class SecurityHubSweepSource implements SweepSource {
  readonly name = 'securityhub' as const;
  readonly caller: PacedCaller;
  constructor(
    private readonly client: SecurityHubClient,
    // GetFindings: 3 requests a second, burst 6.
    pacing: Pacing = { ...DEFAULT_PACING, minIntervalMs: 350 },
  ) {
    this.caller = new PacedCaller(pacing);
  }

  async *pages(since: Date, until: Date): AsyncIterable<ParsedFinding[]> {
    const equals = (values: readonly string[]) => values.map((Value) => ({ Value, Comparison: 'EQUALS' as const }));
    let NextToken: string | undefined;
    do {
      const out = await this.caller.call(() =>
        this.client.send(
          new GetSecurityHubFindingsCommand({
            Filters: {
              UpdatedAt: [{ Start: since.toISOString(), End: until.toISOString() }],
              SeverityLabel: equals(SECURITY_HUB_SEVERITY_LABELS),
              RecordState: equals(['ACTIVE']),
              WorkflowStatus: equals(SECURITY_HUB_WORKFLOW_STATUSES),
              ResourceType: equals(SECURITY_HUB_RESOURCE_TYPES),
              ProductName: SECURITY_HUB_EXCLUDED_PRODUCTS.map((Value) => ({ Value, Comparison: 'NOT_EQUALS' as const })),
            },
            SortCriteria: [{ Field: 'UpdatedAt', SortOrder: 'asc' }],
            MaxResults: 100,
            NextToken,
          }),
        ),
      );
      NextToken = out.NextToken || undefined;
      const findings = out.Findings ?? [];
      if (findings.length) yield findings.map((f) => parseAsffFinding(asJson(f))).sort(byUpdatedAt);
    } while (NextToken);
  }
}
