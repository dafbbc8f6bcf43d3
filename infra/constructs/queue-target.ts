import { Duration, Lazy } from 'aws-cdk-lib';
import { CfnRule, type IRuleRef, type IRuleTarget, type RuleTargetConfig } from 'aws-cdk-lib/aws-events';
import { AnyPrincipal, Effect, PolicyStatement, ServicePrincipal, type IRole } from 'aws-cdk-lib/aws-iam';
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
    allowSender(this.queue, { ruleArn });
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

const senders = new WeakMap<IQueue, { roles: IRole[]; rules: string[]; denied: boolean }>();
const sendersOf = (queue: IQueue) => {
  let entry = senders.get(queue);
  if (!entry) senders.set(queue, (entry = { roles: [], rules: [], denied: false }));
  return entry;
};

/**
 * Register who sends to a queue: a role (`KillSwitchFunction.bindQueue` registers every role it
 * grants SendMessage) or a rule ({@link GuardedQueueTarget}). What {@link denyOtherSenders} lets through.
 */
export function allowSender(queue: IQueue, sender: { role?: IRole; ruleArn?: string }): void {
  const entry = sendersOf(queue);
  if (sender.role && !entry.roles.includes(sender.role)) entry.roles.push(sender.role);
  if (sender.ruleArn && !entry.rules.includes(sender.ruleArn)) entry.rules.push(sender.ruleArn);
}

/**
 * Only killswitch sends work to this queue: its policy denies `sqs:SendMessage` to every principal
 * but the roles and rules registered as its senders (resolved at synthesis, so bindings made later
 * count). An Allow in a queue policy only adds to what identity policies allow, and within the
 * account an identity policy alone can grant SendMessage: only a Deny keeps others out.
 */
export function denyOtherSenders(queue: Queue): Queue {
  const entry = sendersOf(queue);
  if (entry.denied) return queue;
  entry.denied = true;
  queue.addToResourcePolicy(
    new PolicyStatement({
      sid: 'OnlyKillswitchSends',
      effect: Effect.DENY,
      principals: [new AnyPrincipal()],
      actions: ['sqs:SendMessage'],
      resources: [queue.queueArn],
      // Denied unless the caller is one of the roles or (events.amazonaws.com has no principal ARN)
      // the request comes from one of the rules: a key the request lacks makes its ArnNotEquals
      // true, so the deny applies only when neither matches.
      conditions: {
        ArnNotEquals: Lazy.any({
          produce: () => {
            if (!entry.roles.length && !entry.rules.length)
              throw new Error(`work queue ${queue.node.path} has no sender: nothing could ever send to it`);
            return {
              ...(entry.roles.length ? { 'aws:PrincipalArn': entry.roles.map((r) => r.roleArn) } : {}),
              ...(entry.rules.length ? { 'aws:SourceArn': entry.rules } : {}),
            };
          },
        }),
      },
    }),
  );
  return queue;
}

/**
 * A work queue consumed by a Lambda function: KMS-encrypted, TLS-only, 14 days' retention, a
 * visibility timeout of six times the function's (AWS's advice for an event source), and a
 * redrive to `dlq` after `maxReceiveCount` receives. Only its registered senders may send to it.
 */
export function workQueue(
  scope: Construct,
  id: string,
  props: { key: IKey; consumerTimeout: Duration; dlq: IQueue; maxReceiveCount: number },
): Queue {
  const queue = new Queue(scope, id, {
    encryption: QueueEncryption.KMS,
    encryptionMasterKey: props.key,
    enforceSSL: true,
    visibilityTimeout: Duration.seconds(props.consumerTimeout.toSeconds() * 6),
    retentionPeriod: Duration.days(14),
    deadLetterQueue: { queue: props.dlq, maxReceiveCount: props.maxReceiveCount },
  });
  return denyOtherSenders(queue);
}
