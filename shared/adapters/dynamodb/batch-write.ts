import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

const MAX_ATTEMPTS = 8;

/**
 * BatchWriteItem in chunks of 25, retrying unprocessed items with backoff until all are written.
 * `before`: called before every request (a fence: it throws to stop writing).
 */
export async function batchWrite(
  client: DynamoDBDocumentClient,
  tableName: string,
  items: Record<string, unknown>[],
  before: () => void = () => undefined,
): Promise<void> {
  for (let i = 0; i < items.length; i += 25) {
    let requests = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 1; requests.length; attempt++) {
      if (attempt > MAX_ATTEMPTS)
        throw new Error(`BatchWriteItem left ${requests.length} items unprocessed after ${MAX_ATTEMPTS} attempts`);
      before();
      const out = await client.send(new BatchWriteCommand({ RequestItems: { [tableName]: requests } }));
      requests = (out.UnprocessedItems?.[tableName] ?? []) as typeof requests;
      if (requests.length) await new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** attempt)));
    }
  }
}
