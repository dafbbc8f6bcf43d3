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

  /** The program's requests, newest first (eventually consistent: an index). */
  async list(programId: string, limit?: number): Promise<ApprovalRequest[]> {
    const items = await this.table.queryKind(LEDGER_KIND_INDEX, KindKeys.approvalRequest(programId, '', '').gsi1pk, limit);
    return items.map((i) => ApprovalRequestSchema.parse(i));
  }

  /** Move a PENDING request to its decision; `false` when it was already decided. */
  decide(requestId: string, decision: Decision): Promise<boolean> {
    const { by } = decision;
    return conditionally(() =>
      this.table.client.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: LedgerKeys.approvalRequest(requestId),
          UpdateExpression:
            'SET #status = :status, approvedBy = :by, decidedAt = :at' +
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
            ...(by.person ? { ':person': by.person } : {}),
            ...(decision.reason ? { ':reason': decision.reason } : {}),
            ...(decision.stateVersion ? { ':version': decision.stateVersion } : {}),
          },
        }),
      ),
    );
  }
}
