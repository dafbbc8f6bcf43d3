import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ApprovalRequestSchema, type ApprovalRequest } from '../../schemas/ledger.ts';
import { conditionally } from '../dynamo.ts';
import { KindKeys, LedgerKeys } from './keys.ts';
import type { LedgerTable } from './ledger-table.ts';

/** Two-person approvals (resume, grant restore): a request by one principal, a decision by another. */
export class ApprovalRequests {
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

  /** Move a PENDING request to its decision; `false` when it was already decided. */
  decide(
    requestId: string,
    decision: { status: 'APPROVED' | 'REJECTED'; by: string; at: Date; reason?: string; stateVersion?: number },
  ): Promise<boolean> {
    return conditionally(() =>
      this.table.client.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: LedgerKeys.approvalRequest(requestId),
          UpdateExpression:
            'SET #status = :status, approvedBy = :by, decidedAt = :at' +
            (decision.reason ? ', decisionReason = :reason' : '') +
            (decision.stateVersion ? ', stateVersion = :version' : ''),
          ConditionExpression: '#status = :pending',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':status': decision.status,
            ':by': decision.by,
            ':at': decision.at.toISOString(),
            ':pending': 'PENDING',
            ...(decision.reason ? { ':reason': decision.reason } : {}),
            ...(decision.stateVersion ? { ':version': decision.stateVersion } : {}),
          },
        }),
      ),
    );
  }
}
