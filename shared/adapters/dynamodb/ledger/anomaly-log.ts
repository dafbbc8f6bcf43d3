import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { higherSeverity, SEVERITY_RANK, SeveritySchema, type Severity } from '../../../schemas/common.ts';
import { conditionally } from '../dynamo.ts';
import { LedgerKeys } from './keys.ts';
import type { AnomalyReport, AnomalyReports, RecordedReport, ReportClaim, ReportKey } from '../../../killswitch/ports.ts';
import type { LedgerTable } from './ledger-table.ts';

const ROUNDS = 5;

/**
 * Deduplicates anomaly reports by anomaly id and scope (the Powertools idempotency pattern, on the
 * ledger): RECEIVED while a delivery records it, COMPLETED when everything it causes is recorded.
 * A report that adds to what was recorded (a higher severity, more datasets) is an escalation: it is
 * claimed again and recorded in the same incident, never dropped as a duplicate.
 */
export class AnomalyLog implements AnomalyReports {
  constructor(
    private readonly table: LedgerTable,
    /** After this long a RECEIVED record is presumed abandoned and another delivery may take over. */
    private readonly inProgressTimeoutMs = 60_000,
  ) {}

  async claim(report: AnomalyReport, now: Date): Promise<ReportClaim> {
    const key = LedgerKeys.anomaly(report.programId, report.anomalyId, report.scope);
    const datasetIds = [...new Set(report.datasetIds)].sort();
    const receivedAt = now.toISOString();
    const first = { ...report, datasetIds, status: 'RECEIVED', receivedAt, revision: 1, pendingEscalation: false };
    if (await this.table.putOnce(key, first)) {
      return {
        claim: 'PROCESS',
        incidentId: report.incidentId,
        revision: 1,
        escalated: false,
        receivedAt,
        recorded: { severity: report.severity, datasetIds },
      };
    }
    for (let round = 0; round < ROUNDS; round++) {
      const item = await this.table.get(key);
      if (!item) continue;
      const stored = { severity: SeveritySchema.parse(item.severity), datasetIds: (item.datasetIds as string[] | undefined) ?? [] };
      const adds =
        SEVERITY_RANK[report.severity] > SEVERITY_RANK[stored.severity] || datasetIds.some((d) => !stored.datasetIds.includes(d));
      const recorded = {
        severity: higherSeverity(report.severity, stored.severity),
        datasetIds: [...new Set([...stored.datasetIds, ...datasetIds])].sort(),
      };
      const revision = Number(item.revision ?? 1);
      const incidentId = String(item.incidentId);
      if (item.status === 'COMPLETED') {
        if (!adds) return { claim: 'DONE', incidentId, revision };
        if (await this.#take(key, { status: 'COMPLETED', revision }, { revision: revision + 1, escalated: true, recorded, receivedAt })) {
          return { claim: 'PROCESS', incidentId, revision: revision + 1, escalated: true, receivedAt, recorded };
        }
        continue;
      }
      const since = String(item.receivedAt ?? '');
      if (Date.parse(since) > now.getTime() - this.inProgressTimeoutMs) return { claim: 'IN_PROGRESS', since };
      // Take over a delivery that stopped mid-way: finish its report, and this one's if it adds more.
      const next = { revision: adds ? revision + 1 : revision, escalated: adds || item.pendingEscalation === true, recorded, receivedAt };
      if (await this.#take(key, { status: 'RECEIVED', revision, receivedAt: since }, next)) {
        return { claim: 'PROCESS', incidentId, revision: next.revision, escalated: next.escalated, receivedAt, recorded };
      }
    }
    return { claim: 'IN_PROGRESS', since: receivedAt };
  }

  #take(
    key: ReturnType<typeof LedgerKeys.anomaly>,
    expected: { status: string; revision: number; receivedAt?: string },
    next: { revision: number; escalated: boolean; recorded: { severity: Severity; datasetIds: string[] }; receivedAt: string },
  ): Promise<boolean> {
    return conditionally(() =>
      this.table.client.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: key,
          UpdateExpression:
            'SET #status = :received, receivedAt = :now, revision = :next, severity = :severity, datasetIds = :datasets, pendingEscalation = :escalated',
          ConditionExpression:
            '#status = :expected AND revision = :revision' + (expected.receivedAt !== undefined ? ' AND receivedAt = :since' : ''),
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':received': 'RECEIVED',
            ':now': next.receivedAt,
            ':next': next.revision,
            ':severity': next.recorded.severity,
            ':datasets': next.recorded.datasetIds,
            ':escalated': next.escalated,
            ':expected': expected.status,
            ':revision': expected.revision,
            ...(expected.receivedAt !== undefined ? { ':since': expected.receivedAt } : {}),
          },
        }),
      ),
    );
  }

  /**
   * A delivery that failed gives its claim up, so that the next delivery takes over at once
   * instead of waiting for the claim to be presumed abandoned. Best effort: if this write fails
   * too, the timeout still frees the claim.
   */
  async release(report: ReportKey, receivedAt: string): Promise<void> {
    await conditionally(() =>
      this.table.client.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: LedgerKeys.anomaly(report.programId, report.anomalyId, report.scope),
          UpdateExpression: 'SET receivedAt = :released',
          ConditionExpression: '#status = :received AND receivedAt = :mine',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':released': new Date(0).toISOString(), ':received': 'RECEIVED', ':mine': receivedAt },
        }),
      ),
    ).catch(() => undefined);
  }

  /** What is recorded of the anomaly's reports on `scope` (a cheap read for the finding sweep). */
  async recorded(programId: string, anomalyId: string, scope: string): Promise<RecordedReport | undefined> {
    const item = await this.table.get(LedgerKeys.anomaly(programId, anomalyId, scope));
    if (!item) return undefined;
    return {
      status: item.status === 'COMPLETED' ? 'COMPLETED' : 'RECEIVED',
      incidentId: String(item.incidentId),
      severity: SeveritySchema.parse(item.severity),
      datasetIds: (item.datasetIds as string[] | undefined) ?? [],
    };
  }

  /** Done, under this delivery's claim (a delivery that was taken over completes nothing). */
  async complete(report: ReportKey, receivedAt: string, now: Date): Promise<boolean> {
    return conditionally(() =>
      this.table.client.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: LedgerKeys.anomaly(report.programId, report.anomalyId, report.scope),
          UpdateExpression: 'SET #status = :completed, completedAt = :now, pendingEscalation = :no',
          ConditionExpression: '#status = :received AND receivedAt = :mine',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':completed': 'COMPLETED',
            ':now': now.toISOString(),
            ':no': false,
            ':received': 'RECEIVED',
            ':mine': receivedAt,
          },
        }),
      ),
    );
  }
}
