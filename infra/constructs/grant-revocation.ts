import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Rule } from 'aws-cdk-lib/aws-events';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DetailType, KILLSWITCH_SOURCE } from '#shared/schemas/domain-events.ts';
import { KillSwitchFunction, dlqAlarm, encryptedDlq } from './killswitch-function.ts';
import type { KillSwitchResources } from './resources.ts';

const WORKER_TIMEOUT = Duration.minutes(5);

/**
 * Grant revocation: `Kill Switch Engaged` events go to the grant-work queue; the worker revokes
 * every non-owner grant on the incident's datasets, page by page, and puts a continuation back
 * on the queue before its time runs out. Approved restores use the same queue.
 */
export class GrantRevocation extends Construct {
  readonly function: KillSwitchFunction;
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly targetDlq: Queue;

  constructor(scope: Construct, id: string, props: { readonly resources: KillSwitchResources }) {
    super(scope, id);
    const { resources } = props;
    this.deadLetterQueue = encryptedDlq(this, 'WorkDlq', resources.key);
    this.queue = new Queue(this, 'Work', {
      encryption: QueueEncryption.KMS,
      encryptionMasterKey: resources.key,
      enforceSSL: true,
      // AWS advises six times the function timeout for a Lambda event source.
      visibilityTimeout: Duration.seconds(WORKER_TIMEOUT.toSeconds() * 6),
      retentionPeriod: Duration.days(14),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: 5 },
    });

    this.function = new KillSwitchFunction(this, 'Worker', {
      entry: 'functions/revoke-grants/handler.ts',
      description: 'killswitch: revokes grants on exposed datasets, and restores them after approval',
      key: resources.key,
      logRetention: resources.logRetention,
      timeout: WORKER_TIMEOUT,
    })
      .bindTable(resources.tables.grants, 'GRANTS_TABLE', ['GetItem', 'Query', 'UpdateItem'])
      .bindTable(resources.tables.ledger, 'LEDGER_TABLE', ['GetItem', 'PutItem', 'Query'])
      .bindBus(resources.bus, 'EVENT_BUS_NAME')
      .bindTopic(resources.alertTopic, 'ALERT_TOPIC_ARN')
      .bindQueue(this.queue, 'GRANT_WORK_QUEUE_URL')
      .bindQueue(this.deadLetterQueue, 'GRANT_WORK_DLQ_URL');
    this.function.function.addEventSource(new SqsEventSource(this.queue, { batchSize: 1, reportBatchItemFailures: true }));

    this.targetDlq = encryptedDlq(this, 'DeliveryDlq', resources.key);
    new Rule(this, 'EngagedRule', {
      eventBus: resources.bus,
      description: 'Kill Switch Engaged: revoke access to the incident\'s datasets',
      eventPattern: { source: [KILLSWITCH_SOURCE], detailType: [DetailType.KillSwitchEngaged] },
      targets: [new SqsQueue(this.queue, { retryAttempts: 185, maxEventAge: Duration.hours(24), deadLetterQueue: this.targetDlq })],
    });

    const alerts = new SnsAction(resources.alertTopic);
    this.function.addAlarms(resources.alertTopic);
    dlqAlarm(this, 'WorkDlqDepth', this.deadLetterQueue, 'killswitch: grant work that failed or did not parse').addAlarmAction(alerts);
    dlqAlarm(this, 'DeliveryDlqDepth', this.targetDlq, 'killswitch: Kill Switch Engaged events EventBridge could not queue').addAlarmAction(alerts);
    new Alarm(this, 'WorkWaiting', {
      alarmDescription: 'killswitch: grant work has waited more than five minutes (revocation stalled?)',
      metric: this.queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(1), statistic: 'Maximum' }),
      threshold: 300,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    }).addAlarmAction(alerts);
  }
}
