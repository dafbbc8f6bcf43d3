import { CfnOutput, Duration } from 'aws-cdk-lib';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { FunctionUrlAuthType, type FunctionUrl } from 'aws-cdk-lib/aws-lambda';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import { STATE_FEED_PUBLISHER_TIMEOUT } from './state-feed.ts';
import { KillSwitchFunction, ageAlarm, dlqAlarm, encryptedDlq } from './killswitch-function.ts';
import { workQueue } from './queue-target.ts';
import type { KillSwitchResources } from './resources.ts';
import { acknowledgeCheckov } from './acknowledge.ts';

/** Executions reserved for the intake: a fleet's burst is queued, not dropped; agents retry with backoff on 429/5xx. */
const INTAKE_CONCURRENCY = 20;
const AGGREGATOR_CONCURRENCY = 5;

/**
 * Halt acknowledgements from endpoint agents (docs/state-feed.md §7): an HTTPS endpoint (a Function
 * URL; each acknowledgement is authenticated by the agent's HMAC, derived from the enrolment secret)
 * that checks and queues, an SQS queue that absorbs the fleet's burst after a flip, and an aggregator
 * that folds acknowledgements into per-agent records and sharded counters and records HALT_CONFIRMED.
 */
export class HaltAcknowledgements extends Construct {
  readonly intake: KillSwitchFunction;
  readonly aggregator: KillSwitchFunction;
  readonly url: FunctionUrl;

  constructor(scope: Construct, id: string, props: { readonly resources: KillSwitchResources; readonly enrolmentSecret: ISecret }) {
    super(scope, id);
    const { resources } = props;
    const dlq = encryptedDlq(this, 'AckDlq', resources.key);
    const queue = workQueue(this, 'AckQueue', { key: resources.key, consumerTimeout: Duration.seconds(30), dlq, maxReceiveCount: 5 });

    this.intake = new KillSwitchFunction(this, 'Intake', {
      entry: 'functions/ack-intake/handler.ts',
      description: 'killswitch: checks and queues halt acknowledgements from endpoint agents',
      key: resources.key,
      logRetention: resources.logRetention,
      timeout: Duration.seconds(10),
      memorySize: 256,
      reservedConcurrency: INTAKE_CONCURRENCY,
    })
      .bindQueue(queue, 'ACK_QUEUE_URL')
      .setEnvironment('AGENT_ENROLMENT_SECRET_ARN', props.enrolmentSecret.secretArn)
      .setEnvironment('ACK_PROGRAMS', resources.config.programs.map((p) => p.programId).join(','));
    this.intake.role.addToPolicy(
      new PolicyStatement({
        sid: 'ReadTheEnrolmentSecret',
        actions: ['secretsmanager:GetSecretValue'],
        resources: [props.enrolmentSecret.secretArn],
      }),
    );
    this.intake.role.addToPolicy(
      new PolicyStatement({
        sid: 'DecryptTheEnrolmentSecret',
        actions: ['kms:Decrypt'],
        resources: [resources.key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${resources.config.region}.amazonaws.com` } },
      }),
    );
    // No IAM: agents on employees' machines hold no AWS credentials; each acknowledgement carries its agent's HMAC instead.
    this.url = this.intake.function.addFunctionUrl({ authType: FunctionUrlAuthType.NONE });
    acknowledgeCheckov(this.url, [
      {
        id: 'CKV_AWS_258',
        reason:
          "Endpoint agents hold no AWS credentials: every acknowledgement is authenticated by its agent's HMAC-SHA256 (enrolment secret), checked before anything is queued.",
      },
    ]);

    this.aggregator = new KillSwitchFunction(this, 'Aggregator', {
      entry: 'functions/aggregate-acks/handler.ts',
      description: 'killswitch: folds halt acknowledgements into sharded counters; records HALT_CONFIRMED',
      key: resources.key,
      logRetention: resources.logRetention,
      timeout: Duration.seconds(30),
      reservedConcurrency: AGGREGATOR_CONCURRENCY,
    })
      .bindTable(resources.tables.acks, 'ACKS_TABLE', ['Query', 'UpdateItem'])
      .bindTable(resources.tables.programState, 'PROGRAM_STATE_TABLE', ['Query'])
      .bindLedger(resources.tables.ledger, resources.ledgerAnchors, ['PutItem'])
      .bindQueue(dlq, 'ACK_DLQ_URL')
      .setEnvironment('ACK_PROGRAMS', resources.config.programs.map((p) => p.programId).join(','))
      .setEnvironment('STATE_FEED_VALIDITY_S', String(resources.config.stateFeed.validitySeconds))
      .setEnvironment('STATE_FEED_PUBLISHER_TIMEOUT_S', String(STATE_FEED_PUBLISHER_TIMEOUT.toSeconds()))
      .consumeQueue(queue, { batchSize: 10 });
    // HALT_CONFIRMED also when every document signed before a pause has expired (acknowledged or not).
    new Rule(this, 'ExpirySchedule', {
      description: 'killswitch: record HALT_CONFIRMED for pauses whose every earlier state document has expired',
      schedule: Schedule.rate(Duration.minutes(1)),
      // No dead-letter queue: the sweep is derived from the tables, and the next minute's run redoes a missed one.
      targets: [new LambdaFunction(this.aggregator.function, { retryAttempts: 1, maxEventAge: Duration.minutes(1) })],
    });

    const alerts = new SnsAction(resources.alertTopic);
    this.intake.addAlarms(resources.alertTopic);
    this.aggregator.addAlarms(resources.alertTopic);
    dlqAlarm(this, 'AckDlqDepth', dlq, 'killswitch: halt acknowledgements that could not be counted').addAlarmAction(alerts);
    ageAlarm(this, 'AckQueueAge', queue, 300, 'killswitch: halt acknowledgements waiting more than 5 minutes').addAlarmAction(alerts);
    new CfnOutput(this, 'AckUrl', {
      value: this.url.url,
      description: 'ack.url for AgentGate: where endpoint agents acknowledge what they applied',
    });
  }
}
