import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { LOCAL_PRINCIPAL_HEADER } from '#local/lambda-endpoint.ts';
import { NOTICE_GATEWAY_QUEUE, type LocalStack } from '#local/stack.ts';
import { localOperatorHeaders } from '#local/sts.ts';
import { dynamoDocumentClient } from '#shared/adapters/aws/clients.ts';
import { ProgramStateStore } from '#shared/adapters/dynamodb/program-state-store.ts';
import { IncidentLedger, LedgerTable } from '#shared/adapters/dynamodb/ledger/index.ts';

export const ALICE = 'arn:aws:sts::111111111111:assumed-role/KillswitchOperators/alice';
export const BOB = 'arn:aws:sts::111111111111:assumed-role/KillswitchOperators/bob';

/** The JSON body of an operator response; tests read arbitrary paths of it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type OperatorResponseBody = any;

/**
 * POSTs an operator command to the local Function URL as `principal`, with a caller proof signed by
 * credentials the local stack issues for it (as the CLI does); `proof: false` sends none.
 */
export async function operatorCall(
  stack: LocalStack,
  principal: string | undefined,
  command: unknown,
  options: { proof?: boolean } = {},
): Promise<{ status: number; body: OperatorResponseBody }> {
  const body = JSON.stringify(command);
  const identity = !principal
    ? {}
    : options.proof === false
      ? { [LOCAL_PRINCIPAL_HEADER]: principal }
      : await localOperatorHeaders({
          stsEndpoint: stack.endpoints.sts,
          operatorUrl: stack.endpoints.operatorUrl,
          as: principal,
          body,
          region: stack.config.region,
        });
  const response = await fetch(stack.endpoints.operatorUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...identity },
    body,
  });
  return { status: response.status, body: await response.json() };
}

/** An operator's pause of one scope of program mci, through the Function URL. */
export const pauseAs = (stack: LocalStack, principal: string, scope: string, reason: string) =>
  operatorCall(stack, principal, { action: 'pause', programId: 'mci', scope, reason });

/** Drains up to `max` messages from a queue (as the on-call person inspecting a DLQ would). */
export async function drain(stack: LocalStack, queueName: string, max = 10) {
  const sqs = new SQSClient({});
  const out = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: stack.queues[queueName],
      MaxNumberOfMessages: max,
      MessageAttributeNames: ['All'],
      WaitTimeSeconds: 0,
    }),
  );
  sqs.destroy();
  return out.Messages ?? [];
}

/** Everything on the messaging gateway's queue (the notices' subscriber), deleted as read. */
export async function drainGateway(
  stack: LocalStack,
): Promise<{ incidentId: string; employeeId: string; categories: string[]; text: string; templateId: string }[]> {
  const sqs = new SQSClient({});
  const out = [];
  for (let empty = 0; empty < 3;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: stack.queues[NOTICE_GATEWAY_QUEUE], MaxNumberOfMessages: 10 }),
    );
    if (!Messages.length) {
      empty++;
      continue;
    }
    empty = 0;
    for (const m of Messages) out.push(JSON.parse(m.Body!));
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: stack.queues[NOTICE_GATEWAY_QUEUE],
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
  }
  sqs.destroy();
  return out;
}

/**
 * Puts an `Anomaly Detected` event on the stack's bus, as the sample DLP detector would: a
 * CRITICAL exposure of program mci unless `detail` says otherwise. Returns the event id.
 */
export async function putAnomaly(stack: LocalStack, detail: Record<string, unknown>): Promise<string> {
  const out = await new EventBridgeClient({}).send(
    new PutEventsCommand({
      Entries: [
        {
          EventBusName: stack.busName,
          Source: 'com.example.dlp',
          DetailType: 'Anomaly Detected',
          Detail: JSON.stringify({
            programId: 'mci',
            detector: 'dlp',
            severity: 'CRITICAL',
            kind: 'access-exposure',
            observedAt: new Date().toISOString(),
            summary: 'exposed',
            ...detail,
          }),
        },
      ],
    }),
  );
  const entry = out.Entries?.[0];
  if (out.FailedEntryCount || !entry?.EventId) throw new Error(`the bus refused the anomaly: ${entry?.ErrorCode} ${entry?.ErrorMessage}`);
  return entry.EventId;
}

/** An SQS event as Lambda's event source mapping delivers it: each body is a message (the EventBridge event an intake queue holds). */
export const asSqsEvent = (...bodies: unknown[]) => ({
  Records: bodies.map((body, i) => ({
    messageId: `m-${i}-${Math.random().toString(36).slice(2)}`,
    receiptHandle: 'local',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: { ApproximateReceiveCount: '1' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:111111111111:local',
    awsRegion: 'eu-west-1',
  })),
});

/** Every message of a queue (deleted as read). */
export async function drainAll(stack: LocalStack, queueName: string) {
  const out = [];
  for (let page = await drain(stack, queueName, 10); page.length; page = await drain(stack, queueName, 10)) out.push(...page);
  return out;
}

/** The program state and the incident ledger of the local stack, as an investigator reads them. */
export function ledgerOf(stack: LocalStack) {
  const doc = dynamoDocumentClient();
  return {
    state: new ProgramStateStore(doc, stack.tables.programState),
    incidents: new IncidentLedger(new LedgerTable(doc, stack.tables.ledger)),
  };
}
