import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { IncidentSchema, TimelineEntrySchema, type Incident, type TimelineEntry } from '../../../schemas/ledger.ts';
import type { Principal } from '../../../schemas/common.ts';
import type { Escalation, IncidentRecords } from '../../../killswitch/ports.ts';
import { conditionally } from '../dynamo.ts';
import { INCIDENT_FACTS_KEY, INCIDENT_FACTS_TYPE, incidentFacts } from '../../../record/incident-facts.ts';
import { KindKeys, LEDGER_KIND_INDEX, LedgerKeys, withoutKeys } from './keys.ts';
import type { LedgerTable } from './ledger-table.ts';
import { chainOptions, sealAfter, type ChainOptions } from './chain-options.ts';

/** Incidents and their timelines. Records are only ever added or, for status, moved forward. */
export class IncidentLedger implements IncidentRecords {
  readonly #chains: Required<ChainOptions>;

  constructor(
    private readonly table: LedgerTable,
    chains: ChainOptions = {},
  ) {
    this.#chains = chainOptions(table, chains);
  }

  /**
   * Open an incident; a retry with the same id leaves the first record as it is. Its facts that
   * never change (program, scope, when and how it opened) are also the first entry of its timeline
   * (`INCIDENT_FACTS`), so that the hash chain covers them: the incident record itself changes
   * (escalations, resolution), its chained facts must still match it (verify checks).
   */
  async open(incident: Incident): Promise<boolean> {
    const first = await this.table.putOnce(
      LedgerKeys.incident(incident.incidentId),
      incident,
      KindKeys.incident(incident.programId, incident.openedAt, incident.incidentId),
    );
    await this.record(INCIDENT_FACTS_KEY, {
      incidentId: incident.incidentId,
      at: incident.openedAt,
      type: INCIDENT_FACTS_TYPE,
      actor: incident.openedBy,
      message: `facts kept for the record: ${incident.programId}/${incident.scope} (${incident.trigger.toLowerCase().replace('_', '-')}, ${incident.severity})`,
      data: incidentFacts(incident),
    });
    return first;
  }

  async get(incidentId: string): Promise<Incident | undefined> {
    const item = await this.table.get(LedgerKeys.incident(incidentId));
    return item ? IncidentSchema.parse(item) : undefined;
  }

  /**
   * Record an escalation on the incident: the severity and datasets it now concerns, and its pause.
   * Applied once per revision (a retry of the same escalation changes nothing).
   */
  escalate(incidentId: string, e: Escalation): Promise<boolean> {
    return conditionally(() =>
      this.table.client.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: LedgerKeys.incident(incidentId),
          UpdateExpression:
            'SET revision = :revision, severity = :severity, datasetIds = :datasets, unknownDatasetIds = :unknown, inputIssues = :issues' +
            (e.action ? ', #action = :action' : '') +
            (e.stateVersion ? ', stateVersion = :version' : ''),
          ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(revision) OR revision < :revision)',
          ...(e.action ? { ExpressionAttributeNames: { '#action': 'action' } } : {}),
          ExpressionAttributeValues: {
            ':revision': e.revision,
            ':severity': e.severity,
            ':datasets': e.datasetIds,
            ':unknown': e.unknownDatasetIds,
            ':issues': e.inputIssues,
            ...(e.action ? { ':action': e.action } : {}),
            ...(e.stateVersion ? { ':version': e.stateVersion } : {}),
          },
        }),
      ),
    );
  }

  /**
   * Append a timeline entry. `entryKey` identifies the fact (for example `STATE#*#v3`),
   * so recording the same fact twice keeps one entry. The entry is then sealed into the incident's
   * hash chain (with any entry an earlier writer left unsealed); a seal that fails is reported and
   * left to the next write or the deadline watch, never the entry's caller.
   */
  async record(entryKey: string, entry: TimelineEntry): Promise<boolean> {
    const first = await this.table.putOnce(LedgerKeys.timeline(entry.incidentId, entryKey), entry);
    await sealAfter(this.#chains, { kind: 'incident', incidentId: entry.incidentId });
    return first;
  }

  /**
   * The incident's timeline in time order. An item that is not a timeline entry (written by hand)
   * is left out rather than failing every reader; verify reports it.
   */
  async timeline(incidentId: string): Promise<TimelineEntry[]> {
    const items = await this.table.queryPrefix(LedgerKeys.incident(incidentId).pk, 'EVENT#');
    return items
      .map((i) => TimelineEntrySchema.safeParse(i))
      .flatMap((r) => (r.success ? [r.data] : []))
      .sort((a, b) => a.at.localeCompare(b.at));
  }

  /**
   * The incident and its timeline (as {@link get} and {@link timeline}) in one consistent query of
   * its partition: the record's sort key `#INCIDENT` and the entries' `EVENT#…` are one key range.
   */
  async withTimeline(incidentId: string): Promise<{ incident: Incident; timeline: TimelineEntry[] } | undefined> {
    const { pk, sk } = LedgerKeys.incident(incidentId);
    const items = await this.table.queryBetween(pk, sk, 'EVENT#\uffff');
    const record = items.find((i) => i.sk === sk);
    if (!record) return undefined;
    const timeline = items
      .filter((i) => String(i.sk).startsWith('EVENT#'))
      .map((i) => TimelineEntrySchema.safeParse(withoutKeys(i)))
      .flatMap((r) => (r.success ? [r.data] : []))
      .sort((a, b) => a.at.localeCompare(b.at));
    return { incident: IncidentSchema.parse(withoutKeys(record)), timeline };
  }

  /** A program's incidents, most recent first: `limit` of them, or all; only those opened at or after `since` when given. */
  async list(programId: string, limit?: number, since?: string): Promise<Incident[]> {
    const items = await this.table.queryKind(LEDGER_KIND_INDEX, KindKeys.incident(programId, '', '').gsi1pk, limit, since);
    return items.map((i) => IncidentSchema.parse(i));
  }

  /** Oldest first: the program's incidents opened in [since, until], at most `limit`. */
  async listOpened(programId: string, since: string, until: string, limit: number): Promise<Incident[]> {
    const items = await this.table.queryKindRange(
      LEDGER_KIND_INDEX,
      KindKeys.incident(programId, '', '').gsi1pk,
      since,
      `${until}#\uffff`,
      limit,
    );
    return items.map((i) => IncidentSchema.parse(i));
  }

  /** The program's incidents still open on `scope`. */
  async openOn(programId: string, scope: string): Promise<Incident[]> {
    return (await this.list(programId)).filter((i) => i.status === 'OPEN' && i.scope === scope);
  }

  /** Mark an incident resolved by an approved resume; resolving twice keeps the first resolution. */
  resolve(incidentId: string, by: Principal, at: Date, requestId: string): Promise<boolean> {
    return conditionally(() =>
      this.table.client.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: LedgerKeys.incident(incidentId),
          UpdateExpression:
            'SET #status = :resolved, resolvedAt = :at, resolvedBy = :by, resolvedByRequestId = :request' +
            (by.person ? ', resolvedByPerson = :person' : ''),
          ConditionExpression: 'attribute_exists(pk) AND #status = :open',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':resolved': 'RESOLVED',
            ':open': 'OPEN',
            ':at': at.toISOString(),
            ':by': by.id,
            ':request': requestId,
            ...(by.person ? { ':person': by.person } : {}),
          },
        }),
      ),
    );
  }
}
