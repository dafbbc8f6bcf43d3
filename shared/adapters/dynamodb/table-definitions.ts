import { LEDGER_KIND_INDEX } from './ledger/keys.ts';

/**
 * Key schemas of every table, in one place: the CDK stateful stack builds the tables from
 * these, and the local runtime creates its dynalite tables from the synthesized template
 * (a test checks that both agree).
 */
export interface KeyAttribute {
  name: string;
  type: 'S' | 'N';
}
export interface TableDefinition {
  partitionKey: KeyAttribute;
  sortKey: KeyAttribute;
  globalIndexes: { indexName: string; partitionKey: KeyAttribute; sortKey: KeyAttribute }[];
}

const S = (name: string): KeyAttribute => ({ name, type: 'S' });

export const TableDefinitions = {
  programState: { partitionKey: S('programId'), sortKey: S('scope'), globalIndexes: [] },
  ledger: {
    partitionKey: S('pk'),
    sortKey: S('sk'),
    globalIndexes: [{ indexName: LEDGER_KIND_INDEX, partitionKey: S('gsi1pk'), sortKey: S('gsi1sk') }],
  },
  grants: { partitionKey: S('datasetId'), sortKey: S('grantKey'), globalIndexes: [] },
  dataSubjects: { partitionKey: S('datasetId'), sortKey: S('employeeId'), globalIndexes: [] },
  /** Halt acknowledgements: per-agent records and sharded counters (shared/adapters/dynamodb/ack-store.ts). */
  acks: { partitionKey: S('pk'), sortKey: S('sk'), globalIndexes: [] },
} as const satisfies Record<string, TableDefinition>;

export type TableName = keyof typeof TableDefinitions;
