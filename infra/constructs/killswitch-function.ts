import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Aws, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData, type IAlarm } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { PolicyStatement, Role, ServicePrincipal, type IGrantable, type IPrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import {
  Architecture,
  EventSourceMapping,
  LoggingFormat,
  Runtime,
  Tracing,
  ApplicationLogLevel,
  SystemLogLevel,
  type CfnFunction,
} from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption, type IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { allowSender } from './queue-target.ts';
import { CHAIN_ATTRIBUTES } from '#shared/adapters/dynamodb/ledger/hash-chains.ts';
import { NOTICE_PARTITION_PREFIX } from '#shared/adapters/dynamodb/ledger/notice-ledger.ts';
import { acknowledgeCfnLint, acknowledgeCheckov } from './acknowledge.ts';

/** Marks, in a cdk-nag acknowledgement's reason, the exact list of actions it covers on "*" (checked by test/infra). */
export const WILDCARD_ACTIONS_MARK = 'Covers exactly:';

/** The project root: handler entries are given relative to it. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Metadata key that tells the local runtime which module a function runs. */
export const ENTRY_METADATA = 'killswitch:entry';

/**
 * How every function is bundled (esbuild through NodejsFunction). bench/bundling.ts turns these into
 * the esbuild options the cold-start benchmark and test/infra/bundles.test.ts build with.
 */
export const FUNCTION_BUNDLING = {
  target: 'node24',
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  mainFields: ['module', 'main'] as string[],
  // Bundle the AWS SDK too: only the commands a function uses end up in it.
  externalModules: [] as string[],
  banner: "import { createRequire as __ksCreateRequire } from 'node:module'; const require = __ksCreateRequire(import.meta.url);",
} as const;
const FUNCTION_NODE_OPTIONS = '--enable-source-maps';

/** DynamoDB actions a function may be given. There is deliberately no DeleteItem. */
export type TableAction = 'GetItem' | 'BatchGetItem' | 'Query' | 'PutItem' | 'UpdateItem' | 'BatchWriteItem';
const WRITES: ReadonlySet<TableAction> = new Set(['PutItem', 'UpdateItem', 'BatchWriteItem']);

export interface KillSwitchFunctionProps {
  /** Handler module relative to the project root, e.g. `functions/operator/handler.ts`. */
  readonly entry: string;
  readonly description: string;
  /** Customer-managed key for the function's DLQ, log group and environment variables. */
  readonly key: IKey;
  readonly logRetention: RetentionDays;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /**
   * Concurrent executions reserved for this function, and its ceiling: no other function in the
   * account can starve it, and it cannot starve the others (a notice fan-out cannot throttle the
   * kill path). A queue it consumes is polled with at most this many at once, so SQS never
   * invokes it into throttling.
   */
  readonly reservedConcurrency: number;
}

/**
 * The one way killswitch defines a Lambda function: current Node.js runtime on arm64, ESM
 * bundle by esbuild (minified, source maps, AWS SDK bundled so it is tree-shaken), JSON logs
 * with a retained log group, X-Ray tracing, an encrypted DLQ for failed async invocations,
 * reserved concurrency, its log group and environment encrypted with the customer-managed key,
 * and a role that starts with nothing but its own log group. `bind*` helpers grant one
 * resource and set the variable that names it, in one call.
 */
export class KillSwitchFunction extends Construct implements IGrantable {
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly deadLetterQueue: Queue;
  readonly logGroup: LogGroup;
  readonly reservedConcurrency: number;
  /** The buses this function puts events on (a bus policy lets only these roles publish). */
  readonly publishesTo = new Set<IEventBus>();

  constructor(scope: Construct, id: string, props: KillSwitchFunctionProps) {
    super(scope, id);
    // The key's policy lets CloudWatch Logs use it for this account's log groups (stateful stack).
    this.logGroup = new LogGroup(this, 'Logs', { retention: props.logRetention, encryptionKey: props.key });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `killswitch ${id}: least-privilege execution role`,
    });
    this.role.addToPolicy(
      new PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    this.deadLetterQueue = encryptedDlq(this, 'Dlq', props.key);

    this.function = new NodejsFunction(this, 'Function', {
      entry: join(PROJECT_ROOT, props.entry),
      handler: 'handler',
      description: props.description,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(30),
      role: this.role,
      reservedConcurrentExecutions: props.reservedConcurrency,
      // Lambda decrypts the environment at start through a grant it creates for the role when the
      // function is deployed (the deploying principal must be allowed to use the key and create grants).
      environmentEncryption: props.key,
      logGroup: this.logGroup,
      loggingFormat: LoggingFormat.JSON,
      applicationLogLevelV2: ApplicationLogLevel.INFO,
      systemLogLevelV2: SystemLogLevel.WARN,
      tracing: Tracing.ACTIVE,
      deadLetterQueue: this.deadLetterQueue,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      // Traces are Lambda's own segments (active tracing): no trace holds a response or an error message.
      environment: { NODE_OPTIONS: FUNCTION_NODE_OPTIONS },
      bundling: { ...FUNCTION_BUNDLING, format: OutputFormat.ESM },
    });
    (this.function.node.defaultChild as CfnFunction).addMetadata(ENTRY_METADATA, props.entry);
    this.reservedConcurrency = props.reservedConcurrency;
    // Lambda sends failed async events to the DLQ with this role: SSE-KMS needs the key, via SQS only.
    this.#keyVia(props.key, 'sqs');
    // Log events go to a log group encrypted with the key: CloudWatch Logs may use it for the role
    // that puts them (its kms:ViaService support), through CloudWatch Logs only.
    this.#keyVia(props.key, 'logs');

    const cfnFunction = this.function.node.defaultChild as CfnFunction;
    acknowledgeCfnLint(cfnFunction, [
      {
        id: 'W3005',
        reason:
          "aws-cdk-lib's Function makes the function depend on its role construct, which renders DependsOn on the role's default policy (needed: the permissions must exist before the function runs) and on the role itself, which the Role GetAtt already orders; the extra entry changes no deployment order.",
      },
    ]);
    acknowledgeCheckov(cfnFunction, [
      {
        id: 'CKV_AWS_117',
        reason:
          'Not in a VPC: the function calls only AWS APIs (DynamoDB, SQS, SNS, EventBridge, finding APIs) over their TLS endpoints with SigV4, reaches no VPC resource, and a VPC would add NAT or endpoints to the kill path without narrowing who can reach it.',
      },
    ]);
    // Tracing: Lambda adds these two on "*"; they take no resource-level permissions.
    this.#acknowledgeWildcard(
      ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
      'X-Ray accepts no resource-level permissions for sending traces.',
    );
  }

  /**
   * Actions that take no resource ARN, granted on "*" — and the cdk-nag acknowledgement that lists
   * exactly these actions, so that an acknowledgement never hides an action it does not name.
   */
  allowOnAnyResource(actions: string[], why: string): this {
    this.role.addToPolicy(new PolicyStatement({ actions, resources: ['*'] }));
    this.#acknowledgeWildcard(actions, why);
    return this;
  }

  #acknowledgeWildcard(actions: string[], why: string): void {
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: `${why} ${WILDCARD_ACTIONS_MARK} ${actions.join(', ')}.`,
    });
  }

  /**
   * Consume an SQS queue (partial batch responses): receive, delete and extend visibility on this
   * queue only, and its key through SQS only (the event source's own grant would give kms:Decrypt
   * without a kms:ViaService condition).
   */
  consumeQueue(queue: IQueue, options: { batchSize: number; maxConcurrency?: number }): this {
    // Never more pollers' invocations than the function's reserved concurrency: a throttled
    // receive would count against the queue's maxReceiveCount.
    const maxConcurrency = options.maxConcurrency ?? this.reservedConcurrency;
    if (maxConcurrency > this.reservedConcurrency)
      throw new Error(`${this.node.path}: maxConcurrency ${maxConcurrency} exceeds the reserved concurrency ${this.reservedConcurrency}`);
    new EventSourceMapping(this, `Consume${queue.node.id}`, {
      target: this.function,
      eventSourceArn: queue.queueArn,
      batchSize: options.batchSize,
      reportBatchItemFailures: true,
      maxConcurrency,
    });
    this.role.addToPolicy(
      new PolicyStatement({
        actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes'],
        resources: [queue.queueArn],
      }),
    );
    if (queue.encryptionMasterKey) this.#keyVia(queue.encryptionMasterKey, 'sqs');
    return this;
  }

  get grantPrincipal(): IPrincipal {
    return this.role;
  }

  /**
   * Grant exactly `actions` on `table` (Query also on the named indexes, no wildcard), the key
   * use they need through DynamoDB only, and name the table in `envVar`.
   */
  bindTable(table: ITable, envVar: string, actions: TableAction[], indexNames: readonly string[] = []): this {
    this.role.addToPolicy(new PolicyStatement({ actions: actions.map((a) => `dynamodb:${a}`), resources: [table.tableArn] }));
    if (actions.includes('Query') && indexNames.length) {
      this.role.addToPolicy(
        new PolicyStatement({ actions: ['dynamodb:Query'], resources: indexNames.map((i) => `${table.tableArn}/index/${i}`) }),
      );
    }
    if (table.encryptionKey) {
      const keyActions = ['kms:Decrypt', 'kms:DescribeKey'];
      if (actions.some((a) => WRITES.has(a))) keyActions.push('kms:Encrypt', 'kms:GenerateDataKey');
      this.role.addToPolicy(
        new PolicyStatement({
          actions: keyActions,
          resources: [table.encryptionKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${Stack.of(this).region}.amazonaws.com` } },
        }),
      );
    }
    this.function.addEnvironment(envVar, table.tableName);
    return this;
  }

  /**
   * The ledger table, and what sealing its hash chains needs (shared/adapters/dynamodb/ledger/hash-chains.ts):
   * reading a chain's partition and head, an UpdateItem that may touch only the chain's own
   * attributes (a function granted UpdateItem for nothing else cannot change a record's facts with
   * it), and PutObject of chain heads under `chains/` in the anchors bucket (Object Lock keeps them).
   * `verify`: also list the heads and read the bucket's Object Lock configuration.
   */
  bindLedger(
    ledger: ITable,
    anchorsBucket: string,
    actions: TableAction[],
    indexNames: readonly string[] = [],
    options: { verify?: boolean } = {},
  ): this {
    const reads = [...new Set<TableAction>([...actions, 'GetItem', 'Query'])];
    this.bindTable(ledger, 'LEDGER_TABLE', reads, indexNames);
    if (!actions.includes('UpdateItem')) {
      this.role.addToPolicy(
        new PolicyStatement({
          actions: ['dynamodb:UpdateItem'],
          resources: [ledger.tableArn],
          conditions: {
            'ForAllValues:StringEquals': { 'dynamodb:Attributes': [...CHAIN_ATTRIBUTES] },
            StringEqualsIfExists: { 'dynamodb:ReturnValues': 'NONE' },
          },
        }),
      );
    }
    const bucketArn = `arn:${Aws.PARTITION}:s3:::${anchorsBucket}`;
    const inThisAccount = { StringEquals: { 's3:ResourceAccount': Stack.of(this).account } };
    this.role.addToPolicy(
      new PolicyStatement({ actions: ['s3:PutObject'], resources: [`${bucketArn}/chains/*`], conditions: inThisAccount }),
    );
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${anchorsBucket}/chains/*]`,
      reason:
        'Chain heads are written under chains/<chain>/<place>-<hash>.json, one object per seal: only that prefix of the anchors bucket, whose Object Lock keeps every object unchanged.',
    });
    if (options.verify) {
      this.role.addToPolicy(
        new PolicyStatement({
          actions: ['s3:ListBucket'],
          resources: [bucketArn],
          conditions: { StringLike: { 's3:prefix': ['chains/*'] }, ...inThisAccount },
        }),
      );
      this.role.addToPolicy(
        new PolicyStatement({ actions: ['s3:GetBucketObjectLockConfiguration'], resources: [bucketArn], conditions: inThisAccount }),
      );
    }
    this.function.addEnvironment('LEDGER_ANCHOR_BUCKET', anchorsBucket);
    return this;
  }

  /**
   * BatchGetItem and BatchWriteItem on the ledger for the delivery ledger's items only
   * (partition keys `NOTICES#…`): a bucket's claim holder reads and writes its entries in batches
   * (shared/adapters/dynamodb/ledger/notice-ledger.ts); no other record can be read or overwritten with them.
   */
  bindNoticeBatches(ledger: ITable, actions: ('BatchGetItem' | 'BatchWriteItem')[] = ['BatchGetItem', 'BatchWriteItem']): this {
    this.role.addToPolicy(
      new PolicyStatement({
        actions: actions.map((a) => `dynamodb:${a}`),
        resources: [ledger.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${NOTICE_PARTITION_PREFIX}*`] } },
      }),
    );
    return this;
  }

  /** sns:Publish on the topic, and its key through SNS only. */
  bindTopic(topic: ITopic, envVar: string): this {
    this.role.addToPolicy(new PolicyStatement({ actions: ['sns:Publish'], resources: [topic.topicArn] }));
    if (topic.masterKey) this.#keyVia(topic.masterKey, 'sns');
    this.function.addEnvironment(envVar, topic.topicArn);
    return this;
  }

  bindBus(bus: IEventBus, envVar: string): this {
    bus.grantPutEventsTo(this.role);
    this.publishesTo.add(bus);
    this.function.addEnvironment(envVar, bus.eventBusName);
    return this;
  }

  /** sqs:SendMessage on the queue, and its key through SQS only. (Registered as a sender: a work queue denies every other.) */
  bindQueue(queue: IQueue, envVar: string): this {
    this.role.addToPolicy(new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queue.queueArn] }));
    allowSender(queue, { role: this.role });
    if (queue.encryptionMasterKey) this.#keyVia(queue.encryptionMasterKey, 'sqs');
    this.function.addEnvironment(envVar, queue.queueUrl);
    return this;
  }

  /** What SSE-KMS needs to write to (and read from) a topic, queue or log group, only through that service. */
  #keyVia(key: IKey, service: 'sns' | 'sqs' | 'logs'): void {
    this.role.addToPolicy(
      new PolicyStatement({
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `${service}.${Stack.of(this).region}.amazonaws.com` } },
      }),
    );
  }

  setEnvironment(name: string, value: string): this {
    this.function.addEnvironment(name, value);
    return this;
  }

  /** Alarms on errors, throttles and DLQ depth; each notifies `topic`. */
  addAlarms(topic: ITopic): IAlarm[] {
    const action = new SnsAction(topic);
    const alarms = [
      new Alarm(this, 'Errors', {
        alarmDescription: `killswitch ${this.node.id}: invocations failed`,
        metric: this.function.metricErrors({ period: Duration.minutes(1) }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
      new Alarm(this, 'Throttles', {
        alarmDescription: `killswitch ${this.node.id}: invocations throttled`,
        metric: this.function.metricThrottles({ period: Duration.minutes(1) }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
      dlqAlarm(this, 'DlqDepth', this.deadLetterQueue, `killswitch ${this.node.id}: failed invocations in the DLQ`),
    ];
    for (const alarm of alarms) alarm.addAlarmAction(action);
    return alarms;
  }
}

/** An alarm that fires as soon as one message waits in a dead-letter queue. */
export function dlqAlarm(scope: Construct, id: string, queue: IQueue, description: string): Alarm {
  return new Alarm(scope, id, {
    alarmDescription: description,
    metric: queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: TreatMissingData.NOT_BREACHING,
  });
}

/** An alarm that fires once the oldest message of a queue has waited more than `seconds` (its consumer is failing or stalled). */
export function ageAlarm(scope: Construct, id: string, queue: IQueue, seconds: number, description: string): Alarm {
  return new Alarm(scope, id, {
    alarmDescription: description,
    metric: queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(1), statistic: 'Maximum' }),
    threshold: seconds,
    evaluationPeriods: 1,
    comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    treatMissingData: TreatMissingData.NOT_BREACHING,
  });
}

/** A KMS-encrypted, TLS-only queue used as a dead-letter queue. */
export function encryptedDlq(scope: Construct, id: string, key: IKey): Queue {
  const queue = new Queue(scope, id, {
    encryption: QueueEncryption.KMS,
    encryptionMasterKey: key,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  Validations.of(queue).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'This queue is itself a dead-letter queue.' });
  return queue;
}
