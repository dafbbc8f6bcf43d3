import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ANOMALY_DETAIL_TYPE } from '#shared/schemas/anomaly.ts';
import { KillSwitchFunction, dlqAlarm, encryptedDlq } from './killswitch-function.ts';
import { programsVariable, type KillSwitchResources } from './resources.ts';

/**
 * Automated trigger: `Anomaly Detected` events from the configured detector sources reach the
 * trigger function, which pauses by policy. Delivery failures land in the rule target's DLQ;
 * function failures, after Lambda's retries, in the function's DLQ.
 */
export class AnomalyTriggerCapability extends Construct {
  readonly function: KillSwitchFunction;
  readonly rule: Rule;
  readonly targetDlq: Queue;

  constructor(scope: Construct, id: string, props: { readonly resources: KillSwitchResources }) {
    super(scope, id);
    const { resources } = props;
    this.function = new KillSwitchFunction(this, 'Trigger', {
      entry: 'functions/anomaly-trigger/handler.ts',
      description: 'killswitch: validates anomalies and pauses the program by policy',
      key: resources.key,
      logRetention: resources.logRetention,
      timeout: Duration.seconds(30),
    })
      .bindTable(resources.tables.programState, 'PROGRAM_STATE_TABLE', ['GetItem', 'UpdateItem'])
      .bindTable(resources.tables.ledger, 'LEDGER_TABLE', ['GetItem', 'PutItem', 'UpdateItem'])
      .bindBus(resources.bus, 'EVENT_BUS_NAME')
      .bindTopic(resources.alertTopic, 'ALERT_TOPIC_ARN')
      .setEnvironment('KILLSWITCH_PROGRAMS', programsVariable(resources.config));

    this.targetDlq = encryptedDlq(this, 'DeliveryDlq', resources.key);
    this.rule = new Rule(this, 'AnomalyRule', {
      eventBus: resources.bus,
      description: 'Anomaly Detected events from the configured detectors',
      eventPattern: { source: resources.config.detectorSources, detailType: [ANOMALY_DETAIL_TYPE] },
      targets: [
        new LambdaFunction(this.function.function, {
          retryAttempts: 185,
          maxEventAge: Duration.hours(24),
          deadLetterQueue: this.targetDlq,
        }),
      ],
    });

    const alerts = new SnsAction(resources.alertTopic);
    this.function.addAlarms(resources.alertTopic);
    dlqAlarm(this, 'DeliveryDlqDepth', this.targetDlq, 'killswitch: anomaly events EventBridge could not deliver').addAlarmAction(alerts);
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
