import { z } from '../schemas/z.ts';
import type { PlanWork, SendBatch } from '../schemas/notices.ts';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DeadLetters } from '../adapters/aws/dead-letters.ts';
import { WorkQueue } from '../adapters/aws/work-queue.ts';
import { DataSubjectStore } from '../adapters/dynamodb/data-subject-store.ts';
import { NoticeLedger } from '../adapters/dynamodb/ledger/notice-ledger.ts';
import { EnvVars, readEnv } from './env.ts';
import { ledgerServices } from './ledger-services.ts';
import { programsAndEvents } from './programs-and-events.ts';

/** The notice planner: who was exposed (the data subjects), the delivery ledger, and the plan and send queues. */
export const PlanNoticesEnvSchema = z.object({
  ...EnvVars.dataSubjectsTable,
  ...EnvVars.ledgerTable,
  ...EnvVars.eventBus,
  ...EnvVars.programs,
  ...EnvVars.noticePlanQueue,
  ...EnvVars.noticePlanDlq,
  ...EnvVars.noticeSendQueue,
  ...EnvVars.noticePlanBudget,
  ...EnvVars.noticeStaleClaim,
});

export function planNoticesServices(env = readEnv(PlanNoticesEnvSchema)) {
  const { dynamo, ledger, incidents } = ledgerServices(env);
  const sqs = new SQSClient({});
  return {
    env,
    ...programsAndEvents(env),
    subjects: new DataSubjectStore(dynamo, env.DATA_SUBJECTS_TABLE),
    notices: new NoticeLedger(ledger, env.NOTICE_STALE_CLAIM_MS),
    incidents,
    planQueue: new WorkQueue<PlanWork>(sqs, env.NOTICE_PLAN_QUEUE_URL),
    sendQueue: new WorkQueue<SendBatch>(sqs, env.NOTICE_SEND_QUEUE_URL),
    deadLetters: new DeadLetters(sqs, env.NOTICE_PLAN_DLQ_URL),
  };
}
