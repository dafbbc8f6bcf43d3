import { Duration } from 'aws-cdk-lib';
import { CfnRule, type IRuleRef, type IRuleTarget, type RuleTargetConfig } from 'aws-cdk-lib/aws-events';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Queue, QueueEncryption, type IQueue } from 'aws-cdk-lib/aws-sqs';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';

export interface GuardedQueueTargetProps {
  /** Where EventBridge puts events it could not deliver. */
  readonly deadLetterQueue: IQueue;
  /** @default 185 */
  readonly retryAttempts?: number;
  /** @default Duration.hours(24) */
  readonly maxEventAge?: Duration;
}

/**
 * An SQS queue as an EventBridge rule target that only *this* rule can send to: the queue policy
 * (and the target DLQ's) allow events.amazonaws.com with `aws:SourceArn` equal to the rule and
 * `aws:SourceAccount` equal to its account. (The library's SqsQueue target leaves the source
 * condition out for KMS-encrypted queues, so any rule in the account could enqueue work.)
 */
export class GuardedQueueTarget implements IRuleTarget {
  constructor(
    private readonly queue: IQueue,
    private readonly props: GuardedQueueTargetProps,
  ) {}

  bind(rule: IRuleRef): RuleTargetConfig {
    const ruleArn = CfnRule.arnForRule(rule);
    for (const queue of [this.queue, this.props.deadLetterQueue]) {
      queue.addToResourcePolicy(
        new PolicyStatement({
          principals: [new ServicePrincipal('events.amazonaws.com')],
          actions: ['sqs:SendMessage'],
          resources: [queue.queueArn],
          conditions: { ArnEquals: { 'aws:SourceArn': ruleArn }, StringEquals: { 'aws:SourceAccount': rule.env.account } },
        }),
      );
    }
    return {
      arn: this.queue.queueArn,
      targetResource: this.queue,
      deadLetterConfig: { arn: this.props.deadLetterQueue.queueArn },
      retryPolicy: {
        maximumRetryAttempts: this.props.retryAttempts ?? 185,
        maximumEventAgeInSeconds: (this.props.maxEventAge ?? Duration.hours(24)).toSeconds(),
      },
    };
  }
}

/**
 * A work queue consumed by a Lambda function: KMS-encrypted, TLS-only, 14 days' retention, a
 * visibility timeout of six times the function's (AWS's advice for an event source), and a
 * redrive to `dlq` after `maxReceiveCount` receives.
 */
export function workQueue(scope: Construct, id: string, props: { key: IKey; consumerTimeout: Duration; dlq: IQueue; maxReceiveCount: number }): Queue {
  return new Queue(scope, id, {
    encryption: QueueEncryption.KMS,
    encryptionMasterKey: props.key,
    enforceSSL: true,
    visibilityTimeout: Duration.seconds(props.consumerTimeout.toSeconds() * 6),
    retentionPeriod: Duration.days(14),
    deadLetterQueue: { queue: props.dlq, maxReceiveCount: props.maxReceiveCount },
  });
}
