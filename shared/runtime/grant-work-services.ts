import { z } from '../schemas/z.ts';
import { DatasetConfigSchema, type GrantWork } from '../schemas/grants.ts';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DeadLetters } from '../adapters/aws/dead-letters.ts';
import { OperatorAlerts } from '../adapters/aws/operator-alerts.ts';
import { WorkQueue } from '../adapters/aws/work-queue.ts';
import { ApprovalRequests } from '../adapters/dynamodb/ledger/approval-requests.ts';
import { RevocationLedger } from '../adapters/dynamodb/ledger/revocations.ts';
import type { GrantBackend } from '../grants/ports.ts';
import { EnvVars, jsonOf, readEnv } from './env.ts';
import { ledgerServices } from './ledger-services.ts';
import { programsAndEvents } from './programs-and-events.ts';

/** Environment of the grant worker (revocation and restore). */
export const GrantWorkEnvSchema = z.object({
  ...EnvVars.grantsTable,
  ...EnvVars.ledgerTable,
  ...EnvVars.eventBus,
  ...EnvVars.alertTopic,
  ...EnvVars.programs,
  ...EnvVars.grantWorkQueue,
  ...EnvVars.grantWorkDlq,
  ...EnvVars.grantWorkBudget,
  /** The access systems of each dataset (datasets[] of the configuration), and who stays exempt from a quarantine. */
  KILLSWITCH_DATASETS: jsonOf(z.array(DatasetConfigSchema)).default([]),
  QUARANTINE_EXEMPT_ARNS: jsonOf(
    z.array(z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, 'must be an IAM role ARN')),
  ).default([]),
  /** The account whose buckets are quarantined (S3 refuses a call for a bucket of any other: ExpectedBucketOwner). */
  KILLSWITCH_ACCOUNT: z
    .string()
    .regex(/^\d{12}$/, 'must be a 12-digit AWS account id')
    .optional(),
  AWS_REGION: z.string().optional(),
});

/**
 * `grantsOf`: the grant backend (shared/runtime/grant-backends.ts, passed by the grant worker
 * itself so that only its bundle holds the S3, Lake Formation and S3 Control clients).
 */
export function grantWorkServices(
  grantsOf: (env: z.infer<typeof GrantWorkEnvSchema>, dynamo: DynamoDBDocumentClient) => GrantBackend,
  env = readEnv(GrantWorkEnvSchema),
) {
  const { dynamo, ledger, incidents } = ledgerServices(env);
  const sqs = new SQSClient({});
  return {
    env,
    ...programsAndEvents(env),
    grants: grantsOf(env, dynamo),
    revocations: new RevocationLedger(ledger),
    incidents,
    approvals: new ApprovalRequests(ledger),
    alerts: new OperatorAlerts(new SNSClient({}), env.ALERT_TOPIC_ARN),
    work: new WorkQueue<GrantWork>(sqs, env.GRANT_WORK_QUEUE_URL),
    deadLetters: new DeadLetters(sqs, env.GRANT_WORK_DLQ_URL),
  };
}
