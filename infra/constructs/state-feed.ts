import { Duration, Stack } from 'aws-cdk-lib';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { DetailType, KILLSWITCH_SOURCE } from '#shared/schemas/domain-events.ts';
import { KillSwitchFunction, dlqAlarm, encryptedDlq } from './killswitch-function.ts';
import type { KillSwitchResources } from './resources.ts';
import { documentKey, KEY_SET_KEY } from '#shared/killswitch/state-feed.ts';

/** The state feed's stateful half (stateful stack). */
export interface StateFeedResources {
  readonly signingKey: IKey;
  readonly bucket: IBucket;
}

/**
 * Publishes the signed state feed (docs/state-feed.md): on `Kill Switch Engaged` and `Kill Switch
 * Released` (domain bus) at once, and every minute for every program, so no document expires while
 * the system is healthy. The publisher may read the ProgramState table, sign with the feed's key
 * (kms:Sign, kms:GetPublicKey on that key only, ECDSA_SHA_256 only) and write the feed's object names
 * (one document per program, the key set) in its bucket, nothing else.
 */
/** How long one publication may take: a document showing a scope ACTIVE is signed at most this long after the read. */
export const STATE_FEED_PUBLISHER_TIMEOUT = Duration.seconds(30);

export class StateFeed extends Construct {
  readonly publisher: KillSwitchFunction;

  constructor(scope: Construct, id: string, props: { readonly resources: KillSwitchResources; readonly feed: StateFeedResources }) {
    super(scope, id);
    const { resources, feed } = props;
    const { config } = resources;
    this.publisher = new KillSwitchFunction(this, 'Publisher', {
      entry: 'functions/publish-state-feed/handler.ts',
      description: 'killswitch: signs and publishes the state feed endpoint agents read',
      key: resources.key,
      logRetention: resources.logRetention,
      timeout: STATE_FEED_PUBLISHER_TIMEOUT,
      // One per program change plus the schedule; more would only race each other (they converge, see StateFeedPublisher).
      reservedConcurrency: 5,
    })
      .bindTable(resources.tables.programState, 'PROGRAM_STATE_TABLE', ['Query'])
      .setEnvironment('STATE_FEED_BUCKET', feed.bucket.bucketName)
      .setEnvironment('STATE_FEED_KEY_ARNS', [feed.signingKey.keyArn, ...config.stateFeed.previousKeyArns].join(','))
      .setEnvironment('STATE_FEED_PROGRAMS', config.programs.map((p) => p.programId).join(','))
      .setEnvironment('STATE_FEED_VALIDITY_S', String(config.stateFeed.validitySeconds))
      .setEnvironment('STATE_FEED_MAX_AGE_S', String(config.stateFeed.maxAgeSeconds))
      .setEnvironment('KILLSWITCH_ACCOUNT', Stack.of(this).account);
    const role = this.publisher.role;
    role.addToPolicy(
      new PolicyStatement({
        sid: 'SignTheStateFeed',
        actions: ['kms:Sign'],
        resources: [feed.signingKey.keyArn],
        conditions: { StringEquals: { 'kms:SigningAlgorithm': 'ECDSA_SHA_256', 'kms:MessageType': 'RAW' } },
      }),
    );
    role.addToPolicy(
      new PolicyStatement({
        sid: 'PublishTheKeySet',
        actions: ['kms:GetPublicKey'],
        resources: [feed.signingKey.keyArn, ...config.stateFeed.previousKeyArns],
      }),
    );
    role.addToPolicy(
      new PolicyStatement({
        sid: 'WriteTheFeed',
        actions: ['s3:PutObject'],
        resources: [
          ...config.programs.map((p) => feed.bucket.arnForObjects(documentKey(p.programId))),
          feed.bucket.arnForObjects(KEY_SET_KEY),
        ],
        conditions: { StringEquals: { 's3:ResourceAccount': Stack.of(this).account } },
      }),
    );

    const dlq = encryptedDlq(this, 'DeliveryDlq', resources.key);
    const target = new LambdaFunction(this.publisher.function, {
      retryAttempts: 4,
      maxEventAge: Duration.minutes(5),
      deadLetterQueue: dlq,
    });
    new Rule(this, 'StateChangedRule', {
      eventBus: resources.domainBus,
      description: "Kill Switch Engaged, Kill Switch Released: publish the program's state document at once",
      eventPattern: { source: [KILLSWITCH_SOURCE], detailType: [DetailType.KillSwitchEngaged, DetailType.KillSwitchReleased] },
      targets: [target],
    });
    new Rule(this, 'ResignSchedule', {
      description: "killswitch: re-sign every program's state document (and the key set) every minute",
      schedule: Schedule.rate(Duration.minutes(1)),
      targets: [new LambdaFunction(this.publisher.function, { retryAttempts: 1, maxEventAge: Duration.minutes(1), deadLetterQueue: dlq })],
    });
    this.publisher.addAlarms(resources.alertTopic);
    dlqAlarm(
      this,
      'DeliveryDlqDepth',
      dlq,
      'killswitch: state feed publications that failed (agents stop when documents expire)',
    ).addAlarmAction(new SnsAction(resources.alertTopic));
  }
}
