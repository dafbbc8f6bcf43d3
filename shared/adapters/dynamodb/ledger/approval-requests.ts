import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ApprovalRequestSchema, type ApprovalRequest } from '../../../schemas/ledger.ts';
import type { ApprovalRecords, Decision } from '../../../killswitch/ports.ts';
import { conditionally } from '../dynamo.ts';
import { KindKeys, LEDGER_KIND_INDEX, LedgerKeys } from './keys.ts';
import type { LedgerTable } from './ledger-table.ts';

/** Two-person approvals (resume, grant restore): a request by one person, a decision by another. */
export class ApprovalRequests implements ApprovalRecords {
  constructor(private readonly table: LedgerTable) {}

  create(request: ApprovalRequest): Promise<boolean> {
    return this.table.putOnce(
      LedgerKeys.approvalRequest(request.requestId),
      request,
      KindKeys.approvalRequest(request.programId, request.requestedAt, request.requestId),
    );
  }

  async get(requestId: string): Promise<ApprovalRequest | undefined> {
    const item = await this.table.get(LedgerKeys.approvalRequest(requestId));
    return item ? ApprovalRequestSchema.parse(item) : undefined;
  }

  /**
   * The program's requests in one status, newest first (eventually consistent: an index), from
   * that status's partition, plus any stored before requests were partitioned by status (the
   * legacy partition, which no longer grows).
   */
  async list(programId: string, status: ApprovalRequest['status'], limit?: number): Promise<ApprovalRequest[]> {
    const [current, legacy] = await Promise.all([
      this.table.queryKind(LEDGER_KIND_INDEX, KindKeys.approvalRequest(programId, '', '', status).gsi1pk, limit),
      this.table.queryKind(LEDGER_KIND_INDEX, `REQUEST#${programId}`),
    ]);
    const requests = [...current, ...legacy]
      .map((i) => ApprovalRequestSchema.parse(i))
      .filter((r) => r.status === status)
      .sort((a, b) => b.requestedAt.localeCompare(a.requestedAt));
    return limit === undefined ? requests : requests.slice(0, limit);
  }

  /** Move a PENDING request to its decision; `false` when it was already decided. */
  async decide(requestId: string, decision: Decision): Promise<boolean> {
    const { by } = decision;
    const request = await this.get(requestId);
    if (!request) return false;
    const { gsi1pk } = KindKeys.approvalRequest(request.programId, request.requestedAt, requestId, decision.status);
    return conditionally(() =>
      this.table.client.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: LedgerKeys.approvalRequest(requestId),
          UpdateExpression:
            'SET #status = :status, approvedBy = :by, decidedAt = :at, gsi1pk = :decided' +
            (by.person ? ', approvedByPerson = :person' : '') +
            (decision.reason ? ', decisionReason = :reason' : '') +
            (decision.stateVersion ? ', stateVersion = :version' : ''),
          ConditionExpression: '#status = :pending',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':status': decision.status,
            ':by': by.id,
            ':at': decision.at.toISOString(),
            ':pending': 'PENDING',
            ':decided': gsi1pk,
            ...(by.person ? { ':person': by.person } : {}),
            ...(decision.reason ? { ':reason': decision.reason } : {}),
            ...(decision.stateVersion ? { ':version': decision.stateVersion } : {}),
          },
        }),
      ),
    );
  }
}
