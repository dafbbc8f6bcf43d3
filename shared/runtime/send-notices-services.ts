import { z } from '../schemas/z.ts';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { dynamoDocumentClient } from '../adapters/aws/clients.ts';
import { DeadLetters } from '../adapters/aws/dead-letters.ts';
import { NoticePublisher } from '../adapters/aws/notice-publisher.ts';
import { IncidentLedger } from '../adapters/dynamodb/ledger/incident-ledger.ts';
import { LedgerTable } from '../adapters/dynamodb/ledger/ledger-table.ts';
import { NoticeLedger } from '../adapters/dynamodb/ledger/notice-ledger.ts';
import { EnvVars, name, readEnv } from './env.ts';
import { NoticeEnvVars } from './notice-env.ts';

/**
 * The sender reads incidents and writes only the delivery ledger's entries, which are not chained:
 * it has the ledger table and no anchors bucket (infra/constructs/exposure-notices.ts), so it
 * bundles neither the S3 client nor the chains' exporter.
 */
export const SendNoticesEnvSchema = z.object({
  LEDGER_TABLE: name,
  ...EnvVars.noticeTopic,
  ...NoticeEnvVars.noticeSettings,
  ...EnvVars.noticeMaxAttempts,
  ...EnvVars.noticeSendDlq,
  ...EnvVars.noticeStaleClaim,
});

export function sendNoticesServices(env = readEnv(SendNoticesEnvSchema)) {
  const ledger = new LedgerTable(dynamoDocumentClient(), env.LEDGER_TABLE);
  return {
    env,
    notices: new NoticeLedger(ledger, env.NOTICE_STALE_CLAIM_MS),
    incidents: new IncidentLedger(ledger),
    publisher: new NoticePublisher(new SNSClient({}), env.NOTICE_TOPIC_ARN),
    settings: env.NOTICE_SETTINGS,
    deadLetters: new DeadLetters(new SQSClient({}), env.NOTICE_SEND_DLQ_URL),
  };
}
