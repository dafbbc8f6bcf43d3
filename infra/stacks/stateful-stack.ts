import { RemovalPolicy, Stack, type StackProps, CfnOutput } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { TableDefinitions, type TableDefinition, type TableName } from '#shared/adapters/dynamodb/table-definitions.ts';
import type { DeploymentConfig } from '../config.ts';

/** Construct ids of the tables; the local runtime names its tables after them. */
export const TABLE_CONSTRUCT_IDS: Readonly<Record<TableName, string>> = {
  programState: 'ProgramState',
  ledger: 'Ledger',
  grants: 'Grants',
  dataSubjects: 'DataSubjects',
};

export interface StatefulStackProps extends StackProps {
  readonly config: DeploymentConfig;
}

/**
 * What must outlive any deployment: the key, the tables, the topics and the bus.
 * Tables are on-demand, encrypted with the customer-managed key, point-in-time recoverable,
 * deletion-protected and retained if the stack is deleted.
 */
export class StatefulStack extends Stack {
  readonly key: Key;
  readonly tables: Record<TableName, Table>;
  readonly alertTopic: Topic;
  /** Exposure notices, one message per employee; the company's messaging gateway subscribes. */
  readonly noticeTopic: Topic;
  /** The detectors' bus: they put `Anomaly Detected` here. */
  readonly bus: EventBus;
  /** killswitch's own events. Its policy (in the stateless stack, which knows the function roles) lets only killswitch publish. */
  readonly domainBus: EventBus;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, props);
    this.key = new Key(this, 'DataKey', {
      description: 'killswitch: encrypts program state, ledger, grants, data subjects, topics, queues, function logs and environments',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // AWS services that write into our encrypted queues and topics need the key too.
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowAwsServicesToUseKeyForThisAccount',
        principals: [
          new ServicePrincipal('events.amazonaws.com'),
          new ServicePrincipal('cloudwatch.amazonaws.com'),
          new ServicePrincipal('sns.amazonaws.com'),
        ],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
    );
    // The functions' log groups (stateless stack) are encrypted with the key: CloudWatch Logs of this
    // region may use it for log groups of this account and region only (the encryption context it
    // sends names the log group).
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudWatchLogsForThisAccountsLogGroups',
        principals: [new ServicePrincipal(`logs.${this.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${this.partition}:logs:${this.region}:${this.account}:log-group:*` },
        },
      }),
    );

    this.tables = Object.fromEntries(
      (Object.keys(TableDefinitions) as TableName[]).map((name) => [name, this.#table(TABLE_CONSTRUCT_IDS[name], TableDefinitions[name])]),
    ) as Record<TableName, Table>;

    this.alertTopic = new Topic(this, 'OperatorAlerts', {
      displayName: 'killswitch operator alerts',
      masterKey: this.key,
      enforceSSL: true,
    });
    for (const email of props.config.alerts.emails) this.alertTopic.addSubscription(new EmailSubscription(email));
    this.noticeTopic = new Topic(this, 'ExposureNotices', {
      displayName: 'killswitch exposure notices',
      masterKey: this.key,
      enforceSSL: true,
    });

    this.bus = new EventBus(this, 'Bus', { eventBusName: `${props.config.stackPrefix.toLowerCase()}-bus` });
    // No resource policy: only principals of this account with events:PutEvents may publish.
    this.domainBus = new EventBus(this, 'DomainBus', { eventBusName: `${props.config.stackPrefix.toLowerCase()}-events` });

    new CfnOutput(this, 'EventBusName', {
      value: this.bus.eventBusName,
      description: 'Bus that detectors publish Anomaly Detected events to',
    });
    new CfnOutput(this, 'DomainEventBusName', {
      value: this.domainBus.eventBusName,
      description: 'Bus killswitch puts its own events on (Kill Switch Engaged, …): subscribe here; only killswitch can publish',
    });
    new CfnOutput(this, 'ProgramStateTableName', { value: this.tables.programState.tableName });
    new CfnOutput(this, 'ExposureNoticesTopicArn', {
      value: this.noticeTopic.topicArn,
      description: 'Subscribe the messaging gateway (an SQS queue, raw delivery) to this topic',
      exportName: `${props.config.stackPrefix}-ExposureNoticesTopicArn`,
    });
  }

  #table(id: string, definition: TableDefinition): Table {
    const type = (t: 'S' | 'N') => (t === 'S' ? AttributeType.STRING : AttributeType.NUMBER);
    const table = new Table(this, id, {
      partitionKey: { name: definition.partitionKey.name, type: type(definition.partitionKey.type) },
      sortKey: { name: definition.sortKey.name, type: type(definition.sortKey.type) },
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const index of definition.globalIndexes) {
      table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: { name: index.partitionKey.name, type: type(index.partitionKey.type) },
        sortKey: { name: index.sortKey.name, type: type(index.sortKey.type) },
      });
    }
    return table;
  }
}
