import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { NormalisedFinding } from '../../../findings/normalise.ts';
import { SweepWatermarkSchema, type FindingSource, type SweepWatermark } from '../../../schemas/findings.ts';
import type { FindingRecords } from '../../../findings/ports.ts';
import { LedgerKeys } from './keys.ts';
import type { LedgerTable } from './ledger-table.ts';

/**
 * What the ledger keeps about AWS findings beyond the anomalies they become: findings that
 * concern no program (so "was this finding seen?" has an answer) and the sweep's watermarks.
 */
export class FindingLog implements FindingRecords {
  constructor(private readonly table: LedgerTable) {}

  /** Once per finding: ids, type, severity and resource names; never the finding's content. */
  async recordUnmapped(finding: NormalisedFinding, at: Date): Promise<boolean> {
    return this.table.putOnce(LedgerKeys.finding(finding.source, finding.findingId), {
      source: finding.source,
      findingId: finding.findingId,
      type: finding.type,
      severity: finding.severity ?? 'INFORMATIONAL',
      account: finding.account,
      region: finding.region,
      buckets: [...new Set(finding.resources.flatMap((r) => (r.kind === 's3' ? [r.bucket] : [])))],
      outcome: 'UNMAPPED',
      recordedAt: at.toISOString(),
    });
  }

  async getUnmapped(source: FindingSource, findingId: string): Promise<Record<string, unknown> | undefined> {
    return this.table.get(LedgerKeys.finding(source, findingId));
  }

  async watermark(source: FindingSource): Promise<SweepWatermark | undefined> {
    const item = await this.table.get(LedgerKeys.sweepWatermark(source));
    return item ? SweepWatermarkSchema.parse(item) : undefined;
  }

  /** Watermarks only move forward: a slower, older run never sets one back. */
  async saveWatermark(mark: SweepWatermark): Promise<void> {
    const parsed = SweepWatermarkSchema.parse(mark);
    try {
      await this.table.client.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: LedgerKeys.sweepWatermark(parsed.source),
          UpdateExpression: 'SET #source = :source, watermark = :watermark, lastRunAt = :lastRunAt, lastRun = :lastRun',
          ConditionExpression: 'attribute_not_exists(watermark) OR watermark <= :watermark',
          ExpressionAttributeNames: { '#source': 'source' },
          ExpressionAttributeValues: {
            ':source': parsed.source,
            ':watermark': parsed.watermark,
            ':lastRunAt': parsed.lastRunAt,
            ':lastRun': parsed.lastRun,
          },
        }),
      );
    } catch (error) {
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    }
  }
}
