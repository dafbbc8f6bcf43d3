import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { IncidentSchema, TimelineEntrySchema, type Incident, type TimelineEntry } from '../../schemas/ledger.ts';
import { conditionally } from '../dynamo.ts';
import { KindKeys, LEDGER_KIND_INDEX, LedgerKeys } from './keys.ts';
import type { LedgerTable } from './ledger-table.ts';

/** Incidents and their timelines. Records are only ever added or, for status, moved forward. */
export class IncidentLedger {
  constructor(private readonly table: LedgerTable) {}

  /** Open an incident; a retry with the same id leaves the first record as it is. */
  open(incident: Incident): Promise<boolean> {
    return this.table.putOnce(LedgerKeys.incident(incident.incidentId), incident, KindKeys.incident(incident.openedAt, incident.incidentId));
  }

  async get(incidentId: string): Promise<Incident | undefined> {
    const item = await this.table.get(LedgerKeys.incident(incidentId));
    return item ? IncidentSchema.parse(item) : undefined;
  }

  /**
   * Append a timeline entry. `entryKey` identifies the fact (for example `STATE_CHANGED#v3`),
   * so recording the same fact twice keeps one entry.
   */
  record(entryKey: string, entry: TimelineEntry): Promise<boolean> {
    return this.table.putOnce(LedgerKeys.timeline(entry.incidentId, entryKey), entry);
  }

  /** The incident's timeline in time order. */
  async timeline(incidentId: string): Promise<TimelineEntry[]> {
    const items = await this.table.queryPrefix(LedgerKeys.incident(incidentId).pk, 'EVENT#');
    return items.map((i) => TimelineEntrySchema.parse(i)).sort((a, b) => a.at.localeCompare(b.at));
  }

  /** Most recent incidents first. */
  async list(limit: number, programId?: string): Promise<Incident[]> {
    // Incidents are rare (a handful a year per program): one index partition lists them all.
    const items = await this.table.queryKind(LEDGER_KIND_INDEX, 'INCIDENT', programId ? 100 : limit);
    return items
      .map((i) => IncidentSchema.parse(i))
      .filter((i) => !programId || i.programId === programId)
      .slice(0, limit);
  }

  /** Mark an incident resolved; resolving twice keeps the first resolution. */
  resolve(incidentId: string, by: string, at: Date): Promise<boolean> {
    return conditionally(() =>
      this.table.client.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: LedgerKeys.incident(incidentId),
          UpdateExpression: 'SET #status = :resolved, resolvedAt = :at, resolvedBy = :by',
          ConditionExpression: 'attribute_exists(pk) AND #status = :open',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':resolved': 'RESOLVED', ':open': 'OPEN', ':at': at.toISOString(), ':by': by },
        }),
      ),
    );
  }
}
