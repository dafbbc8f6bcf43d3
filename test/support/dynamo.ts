import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { dynamoDocumentClient } from '#shared/adapters/aws/clients.ts';
import { TableDefinitions, type TableName } from '#shared/adapters/dynamodb/table-definitions.ts';
import { createTableInput, ensureTables, startDynalite, type EmbeddedDynamo } from '#local/dynalite.ts';

export interface TestDynamo {
  dynamo: EmbeddedDynamo;
  client: DynamoDBClient;
  doc: ReturnType<typeof dynamoDocumentClient>;
  tables: Record<TableName, string>;
}

let counter = 0;

/** dynalite in-process with every killswitch table, under unique names. */
export async function startTestDynamo(): Promise<TestDynamo> {
  // On its own thread, so that the tests' clients and the emulator do not share one core.
  const dynamo = await startDynalite({ thread: true });
  const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'eu-west-1' });
  const suffix = `${process.pid}-${++counter}`;
  const tables = Object.fromEntries(Object.keys(TableDefinitions).map((name) => [name, `${name}-${suffix}`])) as Record<TableName, string>;
  await ensureTables(
    client,
    (Object.keys(TableDefinitions) as TableName[]).map((name) => createTableInput(tables[name], TableDefinitions[name])),
  );
  return { dynamo, client, doc: dynamoDocumentClient({ endpoint: dynamo.endpoint, region: 'eu-west-1' }), tables };
}
