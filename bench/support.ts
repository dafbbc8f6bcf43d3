import { KillSwitchGate } from '#collector/gate.ts';
import { ProgramStateStore } from '#shared/adapters/dynamodb/program-state-store.ts';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { dynamoDocumentClient } from '#shared/adapters/aws/clients.ts';
import { TableDefinitions, type TableName } from '#shared/adapters/dynamodb/table-definitions.ts';
import { createTableInput, ensureTables, startDynalite, type EmbeddedDynamo } from '#local/dynalite.ts';

export { percentile } from '#local/collector-fleet.ts';

export interface BenchDb {
  dynamo: EmbeddedDynamo;
  client: DynamoDBClient;
  doc: ReturnType<typeof dynamoDocumentClient>;
  tables: Record<TableName, string>;
  stop(): Promise<void>;
}

/** dynalite on its own thread, with every killswitch table. */
export async function benchDb(): Promise<BenchDb> {
  process.env.AWS_REGION ??= 'eu-west-1';
  process.env.AWS_ACCESS_KEY_ID ??= 'bench';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'bench';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const dynamo = await startDynalite({ thread: true });
  const client = new DynamoDBClient({ endpoint: dynamo.endpoint });
  const tables = Object.fromEntries(Object.keys(TableDefinitions).map((n) => [n, `bench-${n}`])) as Record<TableName, string>;
  await ensureTables(
    client,
    (Object.keys(TableDefinitions) as TableName[]).map((n) => createTableInput(tables[n], TableDefinitions[n])),
  );
  const doc = dynamoDocumentClient({ endpoint: dynamo.endpoint });
  return {
    dynamo,
    client,
    doc,
    tables,
    stop: async () => {
      client.destroy();
      doc.destroy();
      await dynamo.stop();
    },
  };
}

export const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** Runs `task` over `count` items with `concurrency` in flight; returns items per second. */
export async function throughput(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await task(next++);
    }),
  );
  return count / ((performance.now() - started) / 1000);
}

/** A collector gate on a registered program, open, refreshing once an hour (the hot-path benchmarks' subject). */
export async function openBenchGate(db: BenchDb, programId = 'bench'): Promise<KillSwitchGate> {
  await new ProgramStateStore(db.doc, db.tables.programState).register(programId, new Date());
  const gate = new KillSwitchGate({ tableName: db.tables.programState, programId, client: db.client, refreshIntervalMs: 3_600_000 });
  await gate.start();
  if (!gate.allowed()) throw new Error('the gate did not open');
  return gate;
}
