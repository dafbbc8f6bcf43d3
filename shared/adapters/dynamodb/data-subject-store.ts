import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DataSubjectSchema, type DataSubject } from '../../schemas/notices.ts';
import { batchWrite } from './batch-write.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import type { DataSubjects } from '../../notices/ports.ts';

/** The DataSubjects index: dataset → employee, with the categories and period held. */
export class DataSubjectStore implements DataSubjects {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** One page of a dataset's subjects in employee-id order, starting after `after`. */
  async page(
    datasetId: string,
    options: { after?: string; cursor?: string; limit?: number } = {},
  ): Promise<{ subjects: DataSubject[]; cursor?: string }> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: options.after ? 'datasetId = :d AND employeeId > :after' : 'datasetId = :d',
        ExpressionAttributeValues: { ':d': datasetId, ...(options.after ? { ':after': options.after } : {}) },
        Limit: options.limit ?? 500,
        ExclusiveStartKey: decodeCursor(options.cursor),
      }),
    );
    return { subjects: (out.Items ?? []).map((i) => DataSubjectSchema.parse(i)), cursor: encodeCursor(out.LastEvaluatedKey) };
  }

  /** Bulk load (seeding, the data platform's sync): 25 per request, overwriting. */
  seed(subjects: DataSubject[]): Promise<void> {
    return batchWrite(
      this.client,
      this.tableName,
      subjects.map((s) => DataSubjectSchema.parse(s)),
    );
  }
}
