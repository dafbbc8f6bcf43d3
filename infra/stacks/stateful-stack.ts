import { RemovalPolicy, Stack, type StackProps, CfnOutput } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key, KeySpec, KeyUsage } from 'aws-cdk-lib/aws-kms';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectLockRetention, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import {
  AllowedMethods,
  CachePolicy,
  CacheQueryStringBehavior,
  CacheHeaderBehavior,
  CacheCookieBehavior,
  Distribution,
  HttpVersion,
  PriceClass,
  ResponseHeadersPolicy,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Duration } from 'aws-cdk-lib';
import { acknowledgeCheckov } from '../constructs/acknowledge.ts';
import { Validations } from 'aws-cdk-lib';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { TableDefinitions, type TableDefinition, type TableName } from '#shared/adapters/dynamodb/table-definitions.ts';
import { ledgerAnchorsBucketName, type DeploymentConfig } from '../config.ts';

/** Construct ids of the tables; the local runtime names its tables after them. */
export const TABLE_CONSTRUCT_IDS: Readonly<Record<TableName, string>> = {
  programState: 'ProgramState',
  ledger: 'Ledger',
  grants: 'Grants',
  dataSubjects: 'DataSubjects',
  acks: 'Acknowledgements',
};

/** Every bucket of killswitch: private, TLS 1.2 only, versioned, owned by the account, encrypted. */
const PRIVATE_BUCKET = {
  blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
  encryption: BucketEncryption.S3_MANAGED,
  enforceSSL: true,
  minimumTLSVersion: 1.2,
  versioned: true,
  objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
} as const;

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
  /** The signed state feed: its signing key (KMS, ECC P-256), its origin bucket and its CloudFront distribution. */
  readonly stateFeed: { signingKey: Key; bucket: Bucket; distribution: Distribution };
  /** Where the ledger's hash-chain heads are exported: Object Lock, compliance mode. */
  readonly ledgerAnchors: Bucket;
  /** What endpoint agents' enrolment secrets derive from (HMAC-SHA256(secret, context ‖ collectorId)). */
  readonly agentEnrolmentSecret: Secret;

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
    this.stateFeed = this.#stateFeed();
    this.ledgerAnchors = this.#ledgerAnchors(ledgerAnchorsBucketName(props.config), props.config.ledgerAnchors.retentionDays);
    this.agentEnrolmentSecret = new Secret(this, 'AgentEnrolmentSecret', {
      description: "killswitch: endpoint agents' enrolment secrets derive from this (docs/state-feed.md §7)",
      encryptionKey: this.key,
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const rotation =
      "Every agent's enrolment secret derives from this one: rotating it re-enrols the whole fleet, so it is rotated by the platform team with its device management (new secret, re-provisioned agents), not on a schedule.";
    Validations.of(this.agentEnrolmentSecret).acknowledge({ id: 'AwsSolutions-SMG4', reason: rotation });
    new CfnOutput(this, 'AgentEnrolmentSecretArn', {
      value: this.agentEnrolmentSecret.secretArn,
      description: "--secret-id for `killswitch agents enrol`: the master agents' enrolment secrets derive from",
    });

    new CfnOutput(this, 'ProgramStateTableName', { value: this.tables.programState.tableName });
    new CfnOutput(this, 'ExposureNoticesTopicArn', {
      value: this.noticeTopic.topicArn,
      description: 'Subscribe the messaging gateway (an SQS queue, raw delivery) to this topic',
      exportName: `${props.config.stackPrefix}-ExposureNoticesTopicArn`,
    });
  }

  /**
   * The state feed (docs/state-feed.md): an asymmetric KMS key signs (its private half never leaves
   * KMS; it is retained, as agents trust its public half); a private, versioned bucket holds the
   * documents; CloudFront serves them over TLS only, reading the bucket through origin access
   * control, with query strings, headers and cookies kept out of the cache key, so the origin's load
   * is one request per edge cache per max-age, whatever the number of agents.
   */
  #stateFeed() {
    const signingKey = new Key(this, 'StateFeedSigningKey', {
      description: 'killswitch: signs the state feed (ES256); agents verify with its public key',
      keySpec: KeySpec.ECC_NIST_P256,
      keyUsage: KeyUsage.SIGN_VERIFY,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const bucket = new Bucket(this, 'StateFeedOrigin', {
      ...PRIVATE_BUCKET,
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(30) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const cachePolicy = new CachePolicy(this, 'StateFeedCachePolicy', {
      comment: 'killswitch state feed: the origin Cache-Control decides (1 s for documents, 300 s for the key set)',
      minTtl: Duration.seconds(0),
      defaultTtl: Duration.seconds(1),
      maxTtl: Duration.seconds(300),
      queryStringBehavior: CacheQueryStringBehavior.none(),
      headerBehavior: CacheHeaderBehavior.none(),
      cookieBehavior: CacheCookieBehavior.none(),
      enableAcceptEncodingGzip: true,
      enableAcceptEncodingBrotli: true,
    });
    const distribution = new Distribution(this, 'StateFeed', {
      comment: 'killswitch signed state feed for endpoint agents',
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(bucket),
        viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
        allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy,
        responseHeadersPolicy: ResponseHeadersPolicy.SECURITY_HEADERS,
        compress: true,
      },
      httpVersion: HttpVersion.HTTP2_AND_3,
      priceClass: PriceClass.PRICE_CLASS_ALL,
    });
    const cloudFrontReasons = {
      logging:
        "The feed serves the same signed, public-by-design document to every agent; request logs would hold only agents' IP addresses, which killswitch does not want to keep. The origin writes are logged by CloudTrail.",
      waf: 'A WAF cannot make a forged document verify, and a flood is absorbed by the cache (one origin request per edge per max-age); agents fail closed if the feed is unreachable.',
      geo: 'Agents run wherever employees work; a geographic restriction would stop collection for travelling employees and protects nothing (documents are signed, carry no personal data).',
      tls: 'The default *.cloudfront.net certificate is used, so CloudFront negotiates TLSv1 or later at the edge; a custom domain with its own certificate (TLSv1.2_2021) is a deployment choice. Agents only accept documents that verify.',
    };
    for (const [id, reason] of [
      ['AwsSolutions-CFR1', cloudFrontReasons.geo],
      ['AwsSolutions-CFR2', cloudFrontReasons.waf],
      ['AwsSolutions-CFR3', cloudFrontReasons.logging],
      ['AwsSolutions-CFR4', cloudFrontReasons.tls],
    ] as const)
      Validations.of(distribution).acknowledge({ id, reason });
    Validations.of(bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'The origin holds only signed state documents and the public key set, written by one function (CloudTrail records its PutObject calls); server access logs would record CloudFront fetches.',
    });
    acknowledgeCheckov(distribution, [
      { id: 'CKV_AWS_86', reason: cloudFrontReasons.logging },
      { id: 'CKV_AWS_68', reason: cloudFrontReasons.waf },
      { id: 'CKV_AWS_174', reason: cloudFrontReasons.tls },
    ]);
    acknowledgeCheckov(bucket, [
      { id: 'CKV_AWS_18', reason: 'The origin holds only signed state documents and the public key set; CloudTrail records the writes.' },
    ]);
    new CfnOutput(this, 'StateFeedUrl', {
      value: `https://${distribution.distributionDomainName}/`,
      description: 'feedUrl for AgentGate: the signed state feed (state/<programId>.jws, keys.json)',
      exportName: `${this.stackName}-StateFeedUrl`,
    });
    return { signingKey, bucket, distribution };
  }

  /**
   * The ledger's anchors (docs/record.md): every seal of an incident's timeline or a scope's audit
   * trail exports the chain's head here, and compliance-mode Object Lock keeps each head unchanged
   * for the retention, whoever asks — so a table edited afterwards (by an administrator, with an
   * UpdateItem that leaves no trace in the data) no longer matches what was exported.
   */
  #ledgerAnchors(bucketName: string, retentionDays: number): Bucket {
    const bucket = new Bucket(this, 'LedgerAnchors', {
      bucketName,
      ...PRIVATE_BUCKET,
      objectLockEnabled: true,
      objectLockDefaultRetention: ObjectLockRetention.compliance(Duration.days(retentionDays)),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const reason =
      'The anchors are chain heads (hashes and places, no personal data) written by killswitch functions; CloudTrail records the writes, and Object Lock keeps them unchanged.';
    Validations.of(bucket).acknowledge({ id: 'AwsSolutions-S1', reason });
    acknowledgeCheckov(bucket, [{ id: 'CKV_AWS_18', reason }]);
    new CfnOutput(this, 'LedgerAnchorsBucket', {
      value: bucket.bucketName,
      description: "where the ledger's chain heads are exported (Object Lock, compliance)",
    });
    return bucket;
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
