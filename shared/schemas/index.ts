export * from './common.ts';
export * from './anomaly.ts';
export * from './program-state.ts';
export * from './operator.ts';
export * from './domain-events.ts';
export * from './config.ts';
export * from './ledger.ts';
export * from './grants.ts';
