import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, MathExpression, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Rule } from 'aws-cdk-lib/aws-events';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DetailType, KILLSWITCH_SOURCE } from '#shared/schemas/domain-events.ts';
import { METRICS_NAMESPACE } from '#shared/runtime/observability.ts';
import { KillSwitchFunction, dlqAlarm, encryptedDlq } from './killswitch-function.ts';
import { GuardedQueueTarget, workQueue } from './queue-target.ts';
import { programsVariable, type KillSwitchResources } from './resources.ts';

/**
 * Both hold the delivery ledger's bucket claims, so both stay well under the stale window: a
 * holder is killed at its timeout, and can never write its bucket's entries after another took its
 * claim over. Planning continues in a new invocation when its budget (the timeout less a margin)
 * runs out, so a short timeout costs only more continuations.
 */
const PLAN_TIMEOUT = Duration.minutes(1);
const SEND_TIMEOUT = Duration.minutes(1);
/** Plannings at once (one incident each), reserved. */
const PLAN_CONCURRENCY = 5;
/**
 * Send batches at once, reserved: the fan-out's ceiling (with the account's SNS publish quota), so
 * notifying 100,000 employees never takes the concurrency the kill path and the operators need.
 */
const SEND_CONCURRENCY = 20;
/**
 * A claim older than this is abandoned: longer than any holder can run (twice the longer of the
 * planner's and the sender's timeouts), and shorter than the send queue holds a batch before
 * redelivering it (six timeouts), so a redelivery always finds the claim of a dead sender stale and
 * takes it over.
 */
const STALE_CLAIM = Duration.seconds(Math.max(PLAN_TIMEOUT.toSeconds(), SEND_TIMEOUT.toSeconds()) * 2);

/**
 * Exposure notices: planning (on an operator's `notify`, or on `Kill Switch Engaged` when the
 * program notifies automatically or the incident was notified before) writes the delivery ledger
 * and queues send batches; the sender
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
    this.planQueue = workQueue(this, 'PlanWork', { key, consumerTimeout: PLAN_TIMEOUT, dlq: planDlq, maxReceiveCount: 5 });
    // The sender dead-letters on its own last attempt, with context; the redrive is the safety net.
    this.sendQueue = workQueue(this, 'SendWork', {
      key,
      consumerTimeout: SEND_TIMEOUT,
      dlq: sendDlq,
      maxReceiveCount: config.notices.maxAttempts + 2,
    });

    this.planner = new KillSwitchFunction(this, 'Planner', {
      entry: 'functions/plan-notices/handler.ts',
      description: 'killswitch: resolves the affected employees and plans one notice each',
      key,
      logRetention: resources.logRetention,
      timeout: PLAN_TIMEOUT,
      reservedConcurrency: PLAN_CONCURRENCY,
    })
      .bindTable(resources.tables.dataSubjects, 'DATA_SUBJECTS_TABLE', ['Query'])
      .bindLedger(resources.tables.ledger, resources.ledgerAnchors, ['GetItem', 'PutItem', 'Query', 'UpdateItem'])
      .bindNoticeBatches(resources.tables.ledger)
      .bindBus(resources.domainBus, 'EVENT_BUS_NAME')
      .bindQueue(this.planQueue, 'NOTICE_PLAN_QUEUE_URL')
      .bindQueue(planDlq, 'NOTICE_PLAN_DLQ_URL')
      .bindQueue(this.sendQueue, 'NOTICE_SEND_QUEUE_URL')
      .setEnvironment('KILLSWITCH_PROGRAMS', programsVariable(config))
      .setEnvironment('NOTICE_STALE_CLAIM_MS', String(STALE_CLAIM.toMilliseconds()))
      .consumeQueue(this.planQueue, { batchSize: 1 });

    const { maxAttempts } = config.notices;
    const settings = noticeSettingsOf(config);
    this.sender = new KillSwitchFunction(this, 'Sender', {
      entry: 'functions/send-notices/handler.ts',
      description: 'killswitch: renders and publishes notices, and records each delivery',
      key,
      logRetention: resources.logRetention,
      timeout: SEND_TIMEOUT,
      reservedConcurrency: SEND_CONCURRENCY,
    })
      .bindTable(resources.tables.ledger, 'LEDGER_TABLE', ['Query', 'UpdateItem'])
      .bindNoticeBatches(resources.tables.ledger)
      .bindTopic(resources.noticeTopic, 'NOTICE_TOPIC_ARN')
      .bindQueue(sendDlq, 'NOTICE_SEND_DLQ_URL')
      .setEnvironment('NOTICE_SETTINGS', JSON.stringify(settings))
      .setEnvironment('NOTICE_MAX_ATTEMPTS', String(maxAttempts))
      .setEnvironment('NOTICE_STALE_CLAIM_MS', String(STALE_CLAIM.toMilliseconds()))
      .consumeQueue(this.sendQueue, { batchSize: 5 });

    new Rule(this, 'EngagedRule', {
      eventBus: resources.domainBus,
      description:
        'Kill Switch Engaged, Incident Escalated: plan notices if the program notifies automatically, or if an operator already notified the incident',
      eventPattern: { source: [KILLSWITCH_SOURCE], detailType: [DetailType.KillSwitchEngaged, DetailType.IncidentEscalated] },
      targets: [new GuardedQueueTarget(this.planQueue, { deadLetterQueue: deliveryDlq })],
    });

    const alerts = new SnsAction(resources.alertTopic);
    this.planner.addAlarms(resources.alertTopic);
    this.sender.addAlarms(resources.alertTopic);
    this.deadLetterQueues = { 'notice planning': planDlq, 'notice sending': sendDlq, 'engaged delivery to planning': deliveryDlq };
    for (const [label, queue] of Object.entries(this.deadLetterQueues)) {
      dlqAlarm(this, `${queue.node.id}Depth`, queue, `killswitch: ${label} dead letters`).addAlarmAction(alerts);
    }
    const metric = (metricName: string) =>
      new Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: 'send-notices' },
        statistic: 'Sum',
        period: Duration.minutes(5),
      });
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

/** The notice settings the senders render with (and the operator function shows a sent notice again with): the same JSON for both. */
export function noticeSettingsOf(config: { notices: { maxAttempts: number } & Record<string, unknown> }): Record<string, unknown> {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { maxAttempts, ...settings } = config.notices;
  return settings;
}
