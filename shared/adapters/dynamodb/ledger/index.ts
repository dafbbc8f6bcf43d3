export { LedgerTable } from './ledger-table.ts';
export { IncidentLedger } from './incident-ledger.ts';
export { AuditTrail } from './audit-trail.ts';
export { AnomalyLog } from './anomaly-log.ts';
export { ApprovalRequests } from './approval-requests.ts';
export { LedgerKeys, LEDGER_KIND_INDEX } from './keys.ts';
export { RevocationLedger } from './revocations.ts';
export { FindingLog } from './finding-log.ts';
export { NoticeLedger, NOTICE_SHARDS, type NoticeCounts } from './notice-ledger.ts';
