import type { PlanWork } from '../schemas/notices.ts';
import type { GrantWork } from '../schemas/grants.ts';
import { CallerProofVerifier } from '../adapters/aws/caller-proof.ts';
import { SQSClient } from '@aws-sdk/client-sqs';
import { dynamoDocumentClient } from '../adapters/aws/clients.ts';
import { WorkQueue } from '../adapters/aws/work-queue.ts';
import { DynamoAckStore } from '../adapters/dynamodb/ack-store.ts';
import { DynamoGrantStore } from '../adapters/dynamodb/grant-store.ts';
import { RevocationLedger } from '../adapters/dynamodb/ledger/revocations.ts';
import { NoticeLedger } from '../adapters/dynamodb/ledger/notice-ledger.ts';
import { EnvVars, readEnv } from './env.ts';
import { KillSwitchEnvSchema, killSwitchServices } from './kill-switch-services.ts';
import { NoticeEnvVars } from './notice-env.ts';

/** The operator function: the kill switch, who the operators are, queuing grant restores and notice planning, and counting grants for a dry run. */
export const OperatorEnvSchema = KillSwitchEnvSchema.extend({
  ...EnvVars.grantWorkQueue,
  ...EnvVars.noticePlanQueue,
  ...EnvVars.grantsTable,
  ...EnvVars.acksTable,
  ...EnvVars.operatorTrust,
  ...NoticeEnvVars.noticeSettings,
});

export function operatorServices(env = readEnv(OperatorEnvSchema)) {
  const base = killSwitchServices(env);
  const sqs = new SQSClient({});
  return {
    ...base,
    trust: { account: env.KILLSWITCH_ACCOUNT, roleNames: env.OPERATOR_ROLES },
    callerProof: new CallerProofVerifier(env.AWS_REGION),
    grantWork: new WorkQueue<GrantWork>(sqs, env.GRANT_WORK_QUEUE_URL),
    noticeWork: new WorkQueue<PlanWork>(sqs, env.NOTICE_PLAN_QUEUE_URL),
    revocations: new RevocationLedger(base.ledger),
    notices: new NoticeLedger(base.ledger),
    noticeSettings: env.NOTICE_SETTINGS,
    grants: new DynamoGrantStore(dynamoDocumentClient(), env.GRANTS_TABLE),
    acks: new DynamoAckStore(dynamoDocumentClient(), env.ACKS_TABLE),
  };
}
