import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, MathExpression, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Rule } from 'aws-cdk-lib/aws-events';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { DetailType, KILLSWITCH_SOURCE } from '#shared/schemas/domain-events.ts';
import { METRICS_NAMESPACE } from '#shared/runtime/observability.ts';
import { KillSwitchFunction, dlqAlarm, encryptedDlq } from './killswitch-function.ts';
import type { KillSwitchResources } from './resources.ts';

const PLAN_TIMEOUT = Duration.minutes(5);
const SEND_TIMEOUT = Duration.minutes(1);

function workQueue(scope: Construct, id: string, key: IKey, timeout: Duration, dlq: Queue, maxReceiveCount: number): Queue {
  return new Queue(scope, id, {
    encryption: QueueEncryption.KMS,
    encryptionMasterKey: key,
    enforceSSL: true,
    visibilityTimeout: Duration.seconds(timeout.toSeconds() * 6),
    retentionPeriod: Duration.days(14),
    deadLetterQueue: { queue: dlq, maxReceiveCount },
  });
}

/**
 * Exposure notices: planning (on `Kill Switch Engaged` when the program notifies automatically,
 * or on an operator's `notify`) writes the delivery ledger and queues send batches; the sender
 * publishes to the notices topic ten at a time and records every delivery.
 */
export class ExposureNotices extends Construct {
  readonly planner: KillSwitchFunction;
  readonly sender: KillSwitchFunction;
  readonly planQueue: Queue;
  readonly sendQueue: Queue;
  readonly deadLetterQueues: Record<string, Queue>;

  constructor(scope: Construct, id: string, props: { readonly resources: KillSwitchResources }) {
    super(scope, id);
    const { resources } = props;
    const { key, config } = resources;
    const planDlq = encryptedDlq(this, 'PlanDlq', key);
    const sendDlq = encryptedDlq(this, 'SendDlq', key);
    const deliveryDlq = encryptedDlq(this, 'DeliveryDlq', key);
    this.planQueue = workQueue(this, 'PlanWork', key, PLAN_TIMEOUT, planDlq, 5);
    // The sender dead-letters on its own last attempt, with context; the redrive is the safety net.
    this.sendQueue = workQueue(this, 'SendWork', key, SEND_TIMEOUT, sendDlq, config.notices.maxAttempts + 2);

    this.planner = new KillSwitchFunction(this, 'Planner', {
      entry: 'functions/plan-notices/handler.ts',
      description: 'killswitch: resolves the affected employees and plans one notice each',
      key,
      logRetention: resources.logRetention,
      timeout: PLAN_TIMEOUT,
    })
      .bindTable(resources.tables.dataSubjects, 'DATA_SUBJECTS_TABLE', ['Query'])
      .bindTable(resources.tables.ledger, 'LEDGER_TABLE', ['GetItem', 'PutItem', 'Query', 'UpdateItem'])
      .bindBus(resources.bus, 'EVENT_BUS_NAME')
      .bindQueue(this.planQueue, 'NOTICE_PLAN_QUEUE_URL')
      .bindQueue(planDlq, 'NOTICE_PLAN_DLQ_URL')
      .bindQueue(this.sendQueue, 'NOTICE_SEND_QUEUE_URL');
    this.planner.function.addEventSource(new SqsEventSource(this.planQueue, { batchSize: 1, reportBatchItemFailures: true }));

    const { maxAttempts, ...settings } = config.notices;
    this.sender = new KillSwitchFunction(this, 'Sender', {
      entry: 'functions/send-notices/handler.ts',
      description: 'killswitch: renders and publishes notices, and records each delivery',
      key,
      logRetention: resources.logRetention,
      timeout: SEND_TIMEOUT,
    })
      .bindTable(resources.tables.ledger, 'LEDGER_TABLE', ['GetItem', 'Query', 'UpdateItem'])
      .bindTopic(resources.noticeTopic, 'NOTICE_TOPIC_ARN')
      .bindQueue(sendDlq, 'NOTICE_SEND_DLQ_URL')
      .setEnvironment('NOTICE_SETTINGS', JSON.stringify(settings))
      .setEnvironment('NOTICE_MAX_ATTEMPTS', String(maxAttempts));
    this.sender.function.addEventSource(new SqsEventSource(this.sendQueue, { batchSize: 5, reportBatchItemFailures: true }));

    new Rule(this, 'AutoNotifyRule', {
      eventBus: resources.bus,
      description: 'Kill Switch Engaged for a program that notifies automatically: plan the notices',
      eventPattern: { source: [KILLSWITCH_SOURCE], detailType: [DetailType.KillSwitchEngaged], detail: { notify: ['auto'] } },
      targets: [new SqsQueue(this.planQueue, { retryAttempts: 185, maxEventAge: Duration.hours(24), deadLetterQueue: deliveryDlq })],
    });

    const alerts = new SnsAction(resources.alertTopic);
    this.planner.addAlarms(resources.alertTopic);
    this.sender.addAlarms(resources.alertTopic);
    this.deadLetterQueues = { 'notice planning': planDlq, 'notice sending': sendDlq, 'engaged delivery to planning': deliveryDlq };
    for (const [label, queue] of Object.entries(this.deadLetterQueues)) {
      dlqAlarm(this, `${queue.node.id}Depth`, queue, `killswitch: ${label} dead letters`).addAlarmAction(alerts);
    }
    const metric = (metricName: string) =>
      new Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap: { service: 'send-notices' }, statistic: 'Sum', period: Duration.minutes(5) });
    new Alarm(this, 'FailureRate', {
      alarmDescription: 'killswitch: more than 1% of exposure notices failed in five minutes',
      metric: new MathExpression({
        expression: 'IF(sent + failed > 0, 100 * failed / (sent + failed), 0)',
        usingMetrics: { sent: metric('NoticesSent'), failed: metric('NoticesFailed') },
        period: Duration.minutes(5),
        label: 'notice failure rate (%)',
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    }).addAlarmAction(alerts);
  }
}
