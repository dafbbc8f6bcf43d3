import { Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { acknowledgeCheckov } from './acknowledge.ts';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Rule } from 'aws-cdk-lib/aws-events';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DetailType, KILLSWITCH_SOURCE } from '#shared/schemas/domain-events.ts';
import { KillSwitchFunction, ageAlarm, dlqAlarm, encryptedDlq } from './killswitch-function.ts';
import { GuardedQueueTarget, workQueue } from './queue-target.ts';
import { programsVariable, type KillSwitchResources } from './resources.ts';

const WORKER_TIMEOUT = Duration.minutes(5);
/** Grant-work batches revoked at once (each pages through an incident's grants), reserved. */
const WORKER_CONCURRENCY = 10;

/**
 * Grant revocation: `Kill Switch Engaged` events (from the domain bus, which only killswitch can
 * write) go to the grant-work queue, which only that rule can send to; the worker revokes every
 * non-owner grant on the incident's datasets as the ledger records them, page by page, and puts a
 * continuation back on the queue before its time runs out. Approved restores use the same queue.
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
    this.queue = workQueue(this, 'Work', {
      key: resources.key,
      consumerTimeout: WORKER_TIMEOUT,
      dlq: this.deadLetterQueue,
      maxReceiveCount: 5,
    });

    this.function = new KillSwitchFunction(this, 'Worker', {
      entry: 'functions/revoke-grants/handler.ts',
      description: 'killswitch: revokes grants on exposed datasets, and restores them after approval',
      key: resources.key,
      logRetention: resources.logRetention,
      timeout: WORKER_TIMEOUT,
      reservedConcurrency: WORKER_CONCURRENCY,
    })
      .bindTable(resources.tables.grants, 'GRANTS_TABLE', ['GetItem', 'Query', 'UpdateItem'])
      .bindLedger(resources.tables.ledger, resources.ledgerAnchors, ['GetItem', 'PutItem', 'Query'])
      .bindBus(resources.domainBus, 'EVENT_BUS_NAME')
      .bindTopic(resources.alertTopic, 'ALERT_TOPIC_ARN')
      .bindQueue(this.queue, 'GRANT_WORK_QUEUE_URL')
      .bindQueue(this.deadLetterQueue, 'GRANT_WORK_DLQ_URL')
      .setEnvironment('KILLSWITCH_PROGRAMS', programsVariable(resources.config))
      .consumeQueue(this.queue, { batchSize: 1 });
    this.#bindAccessSystems(resources.config);

    this.targetDlq = encryptedDlq(this, 'DeliveryDlq', resources.key);
    new Rule(this, 'EngagedRule', {
      eventBus: resources.domainBus,
      description: "Kill Switch Engaged: revoke access to the incident's datasets",
      eventPattern: { source: [KILLSWITCH_SOURCE], detailType: [DetailType.KillSwitchEngaged] },
      targets: [new GuardedQueueTarget(this.queue, { deadLetterQueue: this.targetDlq })],
    });

    const alerts = new SnsAction(resources.alertTopic);
    this.function.addAlarms(resources.alertTopic);
    dlqAlarm(
      this,
      'WorkDlqDepth',
      this.deadLetterQueue,
      'killswitch: grant work that failed, did not parse, or that the ledger does not back',
    ).addAlarmAction(alerts);
    dlqAlarm(this, 'DeliveryDlqDepth', this.targetDlq, 'killswitch: Kill Switch Engaged events EventBridge could not queue').addAlarmAction(
      alerts,
    );
    ageAlarm(
      this,
      'WorkWaiting',
      this.queue,
      300,
      'killswitch: grant work has waited more than five minutes (revocation stalled?)',
    ).addAlarmAction(alerts);
  }

  /**
   * The access systems the datasets map to (datasets[].access): the configuration, and exactly
   * the actions each needs on exactly the mapped resources.
   */
  #bindAccessSystems(config: KillSwitchResources['config']): void {
    const datasets = config.datasets;
    if (!datasets.length) return;
    const fn = this.function;
    const stack = Stack.of(this);
    const { partition, region } = stack;
    fn.setEnvironment('KILLSWITCH_DATASETS', JSON.stringify(datasets))
      // The worker's own role stays exempt from the quarantines it writes (it must read the policy to lift them).
      .setEnvironment('QUARANTINE_EXEMPT_ARNS', stack.toJsonString([...config.quarantine.exemptRoleArns, fn.role.roleArn]))
      .setEnvironment('KILLSWITCH_ACCOUNT', config.account);
    const buckets = [...new Set(datasets.flatMap((d) => (d.access.bucketPolicy ? [d.access.bucketPolicy.bucket] : [])))].sort();
    if (buckets.length)
      fn.role.addToPolicy(
        new PolicyStatement({
          actions: ['s3:GetBucketPolicy', 's3:PutBucketPolicy', 's3:DeleteBucketPolicy'],
          resources: buckets.map((b) => `arn:${partition}:s3:::${b}`),
          // Only this account's buckets: a bucket of the same name elsewhere is not ours to edit.
          conditions: { StringEquals: { 's3:ResourceAccount': config.account } },
        }),
      );
    if (datasets.some((d) => d.access.lakeFormation))
      fn.allowOnAnyResource(
        ['lakeformation:ListPermissions', 'lakeformation:BatchRevokePermissions', 'lakeformation:BatchGrantPermissions'],
        'Lake Formation permission actions take no resource ARN (the Data Catalog resource is in the request, and Lake Formation itself decides who may grant on it).',
      );
    const accounts = [...new Set(datasets.flatMap((d) => (d.access.s3AccessGrants ? [d.access.s3AccessGrants.accountId] : [])))].sort();
    if (accounts.length)
      acknowledgeCheckov(fn.function, [
        {
          id: 'CKV_AWS_45',
          reason:
            "KILLSWITCH_DATASETS holds the deployment's dataset mappings (bucket names, catalog names, Access Grants account ids and location ids), no secret; checkov's entropy check takes the Access Grants ids for one.",
        },
      ]);
    const regionInId = Token.isUnresolved(region) ? '<AWS::Region>' : region;
    for (const account of accounts) {
      const instance = `arn:${partition}:s3:${region}:${account}:access-grants/default`;
      fn.role.addToPolicy(
        new PolicyStatement({
          actions: ['s3:ListAccessGrants', 's3:CreateAccessGrant'],
          resources: [instance],
        }),
      );
      fn.role.addToPolicy(
        new PolicyStatement({
          actions: ['s3:DeleteAccessGrant', 's3:CreateAccessGrant'],
          resources: [`${instance}/grant/*`, `${instance}/location/*`],
        }),
      );
      Validations.of(fn.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:${regionInId}:${account}:access-grants/default/grant/*]`,
        reason: "Access grants are deleted by id, and their ids are only known at the incident: every grant of the account's instance.",
      });
      Validations.of(fn.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:${regionInId}:${account}:access-grants/default/location/*]`,
        reason: 'A grant is created again in the location it was in, which is known only from the snapshot.',
      });
    }
  }
}
