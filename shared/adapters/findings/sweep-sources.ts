import {
  GetFindingsCommand as GetMacieFindingsCommand,
  ListFindingsCommand as ListMacieFindingsCommand,
  type Macie2Client,
} from '@aws-sdk/client-macie2';
import {
  GetFindingsCommand as GetGuardDutyFindingsCommand,
  ListDetectorsCommand,
  ListFindingsCommand as ListGuardDutyFindingsCommand,
  type GuardDutyClient,
} from '@aws-sdk/client-guardduty';
import {
  GetFindingsCommand as GetSecurityHubFindingsCommand,
  GetFindingsV2Command,
  type SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import {
  parseAsffFinding,
  parseGuardDutyFinding,
  parseMacieFinding,
  parseOcsfFinding,
  type ParsedFinding,
} from '../../findings/normalise.ts';
import { DEFAULT_PACING, PacedCaller, type Pacing } from '../../findings/pacing.ts';
import type { SweepSource } from '../../findings/ports.ts';
import {
  GUARDDUTY_MIN_SEVERITY,
  GUARDDUTY_RESOURCE_TYPES,
  MACIE_SEVERITIES,
  MACIE_TYPES,
  SECURITY_HUB_OCSF_RESOURCE_TYPES,
  SECURITY_HUB_OCSF_SEVERITY_IDS,
  SECURITY_HUB_RESOURCE_TYPES,
  SECURITY_HUB_SEVERITY_LABELS,
  SECURITY_HUB_WORKFLOW_STATUSES,
} from '../../findings/relevance.ts';

/*
 * The sweep's sources: the Macie, GuardDuty and Security Hub APIs, listing what their EventBridge
 * events would have delivered. One paging loop serves all three (and GuardDuty's detectors).
 */

/** SDK output has Date objects where the event has ISO strings: one JSON round trip makes them alike. */
const asJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

const byUpdatedAt = (a: ParsedFinding, b: ParsedFinding) =>
  (a.ok ? Date.parse(a.finding.updatedAt) : 0) - (b.ok ? Date.parse(b.finding.updatedAt) : 0);

/** The non-empty pages of a token-paged API: `page(token)` fetches one (paced by the caller) and names the next. */
async function* tokenPages<T>(page: (token: string | undefined) => Promise<{ items: T[]; next?: string | undefined }>): AsyncIterable<T[]> {
  let token: string | undefined;
  do {
    const got = await page(token);
    token = got.next || undefined;
    if (got.items.length) yield got.items;
  } while (token);
}

/** A source whose every call is paced at its API's documented rate. */
abstract class PacedSweepSource {
  readonly caller: PacedCaller;
  constructor(pacing: Pacing) {
    this.caller = new PacedCaller(pacing);
  }
}

/** Macie: ListFindings (ids, 50 a page, by updatedAt) then GetFindings for the page. */
export class MacieSweepSource extends PacedSweepSource implements SweepSource {
  readonly name = 'macie' as const;
  constructor(
    private readonly client: Macie2Client,
    pacing: Pacing = DEFAULT_PACING,
  ) {
    super(pacing);
  }

  async *pages(since: Date, until: Date): AsyncIterable<ParsedFinding[]> {
    const criterion = {
      updatedAt: { gte: since.getTime(), lte: until.getTime() },
      'severity.description': { eq: [...MACIE_SEVERITIES] },
      type: { eq: [...MACIE_TYPES] },
      archived: { eq: ['false'] },
    };
    const lists = tokenPages(async (nextToken) => {
      const list = await this.caller.call(() =>
        this.client.send(
          new ListMacieFindingsCommand({
            findingCriteria: { criterion },
            sortCriteria: { attributeName: 'updatedAt', orderBy: 'ASC' },
            maxResults: 50,
            nextToken,
          }),
        ),
      );
      return { items: list.findingIds ?? [], next: list.nextToken };
    });
    for await (const findingIds of lists) {
      const got = await this.caller.call(() => this.client.send(new GetMacieFindingsCommand({ findingIds })));
      yield (got.findings ?? []).map((f) => parseMacieFinding(asJson(f))).sort(byUpdatedAt);
    }
  }
}

/** `Resource.S3BucketDetails` → `resource.s3BucketDetails`: the SDK's member names onto the event's JSON names. */
function camelKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camelKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.charAt(0).toLowerCase() + k.slice(1), camelKeys(v)]));
}

/** GuardDuty: every detector of the region; ListFindings (50 a page, by updatedAt) then GetFindings. */
export class GuardDutySweepSource extends PacedSweepSource implements SweepSource {
  readonly name = 'guardduty' as const;
  constructor(
    private readonly client: GuardDutyClient,
    pacing: Pacing = DEFAULT_PACING,
  ) {
    super(pacing);
  }

  async *pages(since: Date, until: Date): AsyncIterable<ParsedFinding[]> {
    const detectors: string[] = [];
    for await (const ids of tokenPages(async (NextToken) => {
      const out = await this.caller.call(() => this.client.send(new ListDetectorsCommand({ NextToken })));
      return { items: out.DetectorIds ?? [], next: out.NextToken };
    }))
      detectors.push(...ids);

    const Criterion = {
      updatedAt: { GreaterThanOrEqual: since.getTime(), LessThanOrEqual: until.getTime() },
      severity: { GreaterThanOrEqual: GUARDDUTY_MIN_SEVERITY },
      'resource.resourceType': { Equals: [...GUARDDUTY_RESOURCE_TYPES] },
      'service.archived': { Equals: ['false'] },
    };
    for (const DetectorId of detectors) {
      const lists = tokenPages(async (NextToken) => {
        const list = await this.caller.call(() =>
          this.client.send(
            new ListGuardDutyFindingsCommand({
              DetectorId,
              FindingCriteria: { Criterion },
              SortCriteria: { AttributeName: 'updatedAt', OrderBy: 'ASC' },
              MaxResults: 50,
              NextToken,
            }),
          ),
        );
        return { items: list.FindingIds ?? [], next: list.NextToken };
      });
      for await (const FindingIds of lists) {
        const got = await this.caller.call(() => this.client.send(new GetGuardDutyFindingsCommand({ DetectorId, FindingIds })));
        yield (got.Findings ?? []).map((f) => parseGuardDutyFinding(camelKeys(asJson(f)))).sort(byUpdatedAt);
      }
    }
  }
}

/** Security Hub's two finding APIs page alike: up to 100 findings a page, oldest update first, each parsed on its own. */
abstract class SecurityHubSweepPages extends PacedSweepSource {
  constructor(
    protected readonly client: SecurityHubClient,
    // GetFindings (and GetFindingsV2, authorised as GetFindings): 3 requests a second, burst 6.
    pacing: Pacing = { ...DEFAULT_PACING, minIntervalMs: 350 },
  ) {
    super(pacing);
  }

  protected async *listed(
    send: (token: string | undefined) => Promise<{ Findings?: unknown[] | undefined; NextToken?: string | undefined }>,
    parse: (raw: unknown) => ParsedFinding,
  ): AsyncIterable<ParsedFinding[]> {
    const pages = tokenPages(async (token) => {
      const out = await this.caller.call(() => send(token));
      return { items: out.Findings ?? [], next: out.NextToken };
    });
    for await (const findings of pages) yield findings.map((f) => parse(asJson(f))).sort(byUpdatedAt);
  }
}

/** Security Hub: GetFindings with the rule's filters (100 a page, by UpdatedAt). GuardDuty and Macie copies are the intake's to recognise. */
export class SecurityHubSweepSource extends SecurityHubSweepPages implements SweepSource {
  readonly name = 'securityhub' as const;
  constructor(
    client: SecurityHubClient,
    /** ProductArns left out: this region's copies of the sources taken directly (directCopyProductArns). */
    private readonly excludedProducts: readonly string[] = [],
    pacing?: Pacing,
  ) {
    super(client, pacing);
  }

  async *pages(since: Date, until: Date): AsyncIterable<ParsedFinding[]> {
    const equals = (values: readonly string[]) => values.map((Value) => ({ Value, Comparison: 'EQUALS' as const }));
    const Filters = {
      UpdatedAt: [{ Start: since.toISOString(), End: until.toISOString() }],
      SeverityLabel: equals(SECURITY_HUB_SEVERITY_LABELS),
      RecordState: equals(['ACTIVE']),
      WorkflowStatus: equals(SECURITY_HUB_WORKFLOW_STATUSES),
      ResourceType: equals(SECURITY_HUB_RESOURCE_TYPES),
      // Several NOT_EQUALS on one field are AND-ed.
      ...(this.excludedProducts.length
        ? { ProductArn: this.excludedProducts.map((Value) => ({ Value, Comparison: 'NOT_EQUALS' as const })) }
        : {}),
    };
    yield* this.listed(
      (NextToken) =>
        this.client.send(
          new GetSecurityHubFindingsCommand({
            Filters,
            SortCriteria: [{ Field: 'UpdatedAt', SortOrder: 'asc' }],
            MaxResults: 100,
            NextToken,
          }),
        ),
      parseAsffFinding,
    );
  }
}

/**
 * Security Hub's OCSF findings: GetFindingsV2 with the OCSF rule's filters (100 a page, by
 * modification time), each condition a composite filter, all of them AND-ed. Suppressed and
 * resolved findings are listed too, as the rule delivers them: the intake decides (status_id is optional).
 */
export class SecurityHubOcsfSweepSource extends SecurityHubSweepPages implements SweepSource {
  readonly name = 'securityhub-ocsf' as const;

  async *pages(since: Date, until: Date): AsyncIterable<ParsedFinding[]> {
    const Filters = {
      CompositeOperator: 'AND' as const,
      CompositeFilters: [
        {
          DateFilters: [
            { FieldName: 'finding_info.modified_time_dt' as const, Filter: { Start: since.toISOString(), End: until.toISOString() } },
          ],
        },
        {
          Operator: 'OR' as const,
          NumberFilters: SECURITY_HUB_OCSF_SEVERITY_IDS.map((Eq) => ({ FieldName: 'severity_id' as const, Filter: { Eq } })),
        },
        {
          Operator: 'OR' as const,
          StringFilters: SECURITY_HUB_OCSF_RESOURCE_TYPES.map((Value) => ({
            FieldName: 'resources.type' as const,
            Filter: { Value, Comparison: 'EQUALS' as const },
          })),
        },
      ],
    };
    yield* this.listed(
      (NextToken) =>
        this.client.send(
          new GetFindingsV2Command({
            Filters,
            SortCriteria: [{ Field: 'finding_info.modified_time_dt', SortOrder: 'asc' }],
            MaxResults: 100,
            NextToken,
          }),
        ),
      parseOcsfFinding,
    );
  }
}
