import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Rule } from 'aws-cdk-lib/aws-events';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ANOMALY_DETAIL_TYPE } from '#shared/schemas/anomaly.ts';
import { KillSwitchFunction, ageAlarm, dlqAlarm, encryptedDlq } from './killswitch-function.ts';
import { GuardedQueueTarget, workQueue } from './queue-target.ts';
import { programsVariable, type KillSwitchResources } from './resources.ts';

const TRIGGER_TIMEOUT = Duration.seconds(30);
/** Executions reserved for the kill path (batches of 10: 100 anomalies in flight), and the intake's poller ceiling. */
const TRIGGER_CONCURRENCY = 10;
/**
 * Receives before an anomaly is dead-lettered: at a visibility timeout of six trigger timeouts
 * (3 minutes), 1,000 receives (SQS's maximum) keep retrying for about 50 hours, well past a
 * multi-hour DynamoDB outage, within the queue's 14 days of retention.
 */
export const INTAKE_MAX_RECEIVES = 1000;
/** Alarm when the oldest anomaly has waited this long: the trigger is not keeping up, or failing. */
const INTAKE_AGE_ALARM_S = 60;

/**
 * Automated trigger: `Anomaly Detected` events from the configured detector sources go to a durable
 * intake queue, and the trigger function pauses by policy. A storage outage of hours delays a
 * pause instead of losing it; events that can never pause anything (malformed minimal fields, an
 * unknown program) go to the DLQ at once with the reason.
 */
export class AnomalyTriggerCapability extends Construct {
  readonly function: KillSwitchFunction;
  readonly rule: Rule;
  readonly intake: Queue;
  readonly intakeDlq: Queue;
  readonly targetDlq: Queue;

  constructor(scope: Construct, id: string, props: { readonly resources: KillSwitchResources }) {
    super(scope, id);
    const { resources } = props;
    this.intakeDlq = encryptedDlq(this, 'IntakeDlq', resources.key);
    this.intake = workQueue(this, 'Intake', {
      key: resources.key,
      consumerTimeout: TRIGGER_TIMEOUT,
      dlq: this.intakeDlq,
      maxReceiveCount: INTAKE_MAX_RECEIVES,
    });

    this.function = new KillSwitchFunction(this, 'Trigger', {
      entry: 'functions/anomaly-trigger/handler.ts',
      description: 'killswitch: validates anomalies and pauses the program by policy',
      key: resources.key,
      logRetention: resources.logRetention,
      timeout: TRIGGER_TIMEOUT,
      reservedConcurrency: TRIGGER_CONCURRENCY,
    })
      .bindTable(resources.tables.programState, 'PROGRAM_STATE_TABLE', ['GetItem', 'UpdateItem'])
      .bindLedger(resources.tables.ledger, resources.ledgerAnchors, ['GetItem', 'PutItem', 'UpdateItem'])
      .bindBus(resources.domainBus, 'EVENT_BUS_NAME')
      .bindTopic(resources.alertTopic, 'ALERT_TOPIC_ARN')
      .bindQueue(this.intakeDlq, 'TRIGGER_DLQ_URL')
      .setEnvironment('KILLSWITCH_PROGRAMS', programsVariable(resources.config))
      .consumeQueue(this.intake, { batchSize: 10 });

    this.targetDlq = encryptedDlq(this, 'DeliveryDlq', resources.key);
    this.rule = new Rule(this, 'AnomalyRule', {
      eventBus: resources.bus,
      description: 'Anomaly Detected events from the configured detectors, to the durable intake queue',
      eventPattern: { source: resources.config.detectorSources, detailType: [ANOMALY_DETAIL_TYPE] },
      targets: [new GuardedQueueTarget(this.intake, { deadLetterQueue: this.targetDlq })],
    });

    const alerts = new SnsAction(resources.alertTopic);
    this.function.addAlarms(resources.alertTopic);
    dlqAlarm(this, 'DeliveryDlqDepth', this.targetDlq, 'killswitch: anomaly events EventBridge could not deliver').addAlarmAction(alerts);
    dlqAlarm(
      this,
      'IntakeDlqDepth',
      this.intakeDlq,
      'killswitch: anomalies that can never pause anything, or that failed for 50 hours',
    ).addAlarmAction(alerts);
    ageAlarm(
      this,
      'IntakeWaiting',
      this.intake,
      INTAKE_AGE_ALARM_S,
      `killswitch: an anomaly has waited more than ${INTAKE_AGE_ALARM_S} s to be handled (is the trigger failing or DynamoDB down?)`,
    ).addAlarmAction(alerts);
    new Alarm(this, 'SlowTrigger', {
      alarmDescription: 'killswitch: the anomaly trigger is slow (p99 duration)',
      metric: this.function.function.metricDuration({ period: Duration.minutes(5), statistic: 'p99' }),
      threshold: resources.config.triggerDurationAlarmMs,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    }).addAlarmAction(alerts);
  }
}
