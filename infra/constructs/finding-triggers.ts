import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Validations } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { FindingEventTypes, type FindingSource } from '#shared/schemas/findings.ts';
import {
  GUARDDUTY_MIN_SEVERITY,
  GUARDDUTY_TYPE_PREFIXES,
  MACIE_SEVERITIES,
  MACIE_TYPES,
  directCopyProductArns,
  SECURITY_HUB_OCSF_RESOURCE_TYPES,
  SECURITY_HUB_OCSF_SEVERITY_IDS,
  SECURITY_HUB_RESOURCE_TYPES,
  SECURITY_HUB_SEVERITY_LABELS,
  SECURITY_HUB_WORKFLOW_STATUSES,
} from '#shared/findings/relevance.ts';
import { findingMapOf } from '../config.ts';
import { KillSwitchFunction, ageAlarm, dlqAlarm, encryptedDlq } from './killswitch-function.ts';
import { GuardedQueueTarget, workQueue } from './queue-target.ts';
import { INTAKE_MAX_RECEIVES } from './anomaly-trigger.ts';
import { acknowledgeCheckov } from './acknowledge.ts';

const TRIGGER_TIMEOUT = Duration.seconds(60);
/** Finding events handled at once (one each), reserved. */
const TRIGGER_CONCURRENCY = 5;
/** One sweep at a time: a run never overlaps the next (5-minute timeout, runs at least minutes apart). */
const SWEEP_CONCURRENCY = 1;
import { programsVariable, type KillSwitchResources } from './resources.ts';

/**
 * The EventBridge patterns of the three finding rules: the source's finding event, narrowed to
 * the finding types that concern a program's data and to medium severity and above. The same
 * lists drive the sweep's API filters (shared/findings/relevance.ts).
 */
export function findingEventPatterns(deployment: {
  region: string;
  sources: readonly FindingSource[];
}): Record<FindingSource, Parameters<typeof Rule.prototype.addEventPattern>[0]> {
  const copies = directCopyProductArns(deployment.region, deployment.sources);
  return {
    macie: {
      source: [FindingEventTypes.macie.source],
      detailType: [FindingEventTypes.macie.detailType],
      detail: { type: [...MACIE_TYPES], severity: { description: [...MACIE_SEVERITIES] } },
    },
    guardduty: {
      source: [FindingEventTypes.guardduty.source],
      detailType: [FindingEventTypes.guardduty.detailType],
      detail: {
        type: Match.anyOf(...GUARDDUTY_TYPE_PREFIXES.map((p) => Match.prefix(p))),
        severity: Match.greaterThanOrEqual(GUARDDUTY_MIN_SEVERITY),
      },
    },
    securityhub: {
      source: [FindingEventTypes.securityhub.source],
      detailType: [FindingEventTypes.securityhub.detailType],
      detail: {
        findings: {
          Severity: { Label: [...SECURITY_HUB_SEVERITY_LABELS] },
          RecordState: ['ACTIVE'],
          Workflow: { Status: [...SECURITY_HUB_WORKFLOW_STATUSES] },
          Resources: { Type: [...SECURITY_HUB_RESOURCE_TYPES] },
          ...(copies.length ? { ProductArn: Match.anythingBut(...copies) } : {}),
        },
      },
    },
    // Suppressed, resolved and archived OCSF findings (status_id 3-6) are left to the intake:
    // status_id is optional in OCSF, and a pattern on it would drop findings that lack it.
    'securityhub-ocsf': {
      source: [FindingEventTypes['securityhub-ocsf'].source],
      detailType: [FindingEventTypes['securityhub-ocsf'].detailType],
      detail: {
        findings: {
          severity_id: [...SECURITY_HUB_OCSF_SEVERITY_IDS],
          resources: { type: [...SECURITY_HUB_OCSF_RESOURCE_TYPES] },
        },
      },
    },
  };
}

const RULE_IDS: Record<FindingSource, string> = {
  macie: 'MacieRule',
  guardduty: 'GuardDutyRule',
  securityhub: 'SecurityHubRule',
  'securityhub-ocsf': 'SecurityHubOcsfRule',
};

/**
 * AWS findings as triggers. Rules on the account's default bus (where AWS services put their
 * events) send Macie, GuardDuty and Security Hub findings to the finding trigger, which maps
 * them to programs and hands them to the kill switch as anomalies. A scheduled sweep lists
 * recent findings from the same services and feeds any the event path missed.
 */
export class FindingTriggers extends Construct {
  readonly trigger: KillSwitchFunction;
  readonly sweep?: KillSwitchFunction;
  readonly rules: Partial<Record<FindingSource, Rule>> = {};
  readonly targetDlq: Queue;
  readonly rejectedFindings: Queue;
  /** Finding events wait here (through a storage outage of hours) until the trigger has handled them. */
  readonly intake: Queue;
  readonly intakeDlq: Queue;

  constructor(scope: Construct, id: string, props: { readonly resources: KillSwitchResources }) {
    super(scope, id);
    const { resources } = props;
    const { config } = resources;
    const findingMap = JSON.stringify(findingMapOf(config));
    this.rejectedFindings = encryptedDlq(this, 'RejectedFindings', resources.key);
    this.intakeDlq = encryptedDlq(this, 'IntakeDlq', resources.key);
    this.intake = workQueue(this, 'Intake', {
      key: resources.key,
      consumerTimeout: TRIGGER_TIMEOUT,
      dlq: this.intakeDlq,
      maxReceiveCount: INTAKE_MAX_RECEIVES,
    });

    const bindKillSwitch = (fn: KillSwitchFunction) => {
      acknowledgeCheckov(fn.function, [
        {
          id: 'CKV_AWS_45',
          reason:
            'KILLSWITCH_FINDING_MAP maps AWS account ids and S3 buckets to programs: the scanner takes "account":"<12 digits>" for a secret, but an account id identifies and authenticates nothing, and no credential is in any function\'s environment (the functions use their roles).',
        },
      ]);
      return fn
        .bindTable(resources.tables.programState, 'PROGRAM_STATE_TABLE', ['GetItem', 'UpdateItem'])
        .bindLedger(resources.tables.ledger, resources.ledgerAnchors, ['GetItem', 'PutItem', 'UpdateItem'])
        .bindBus(resources.domainBus, 'EVENT_BUS_NAME')
        .bindTopic(resources.alertTopic, 'ALERT_TOPIC_ARN')
        .bindQueue(this.rejectedFindings, 'REJECTED_FINDINGS_QUEUE_URL')
        .setEnvironment('KILLSWITCH_PROGRAMS', programsVariable(config))
        .setEnvironment('KILLSWITCH_FINDING_MAP', findingMap);
    };

    this.trigger = bindKillSwitch(
      new KillSwitchFunction(this, 'Trigger', {
        entry: 'functions/finding-trigger/handler.ts',
        description: 'killswitch: maps Macie, GuardDuty and Security Hub findings to programs and pauses by policy',
        key: resources.key,
        logRetention: resources.logRetention,
        timeout: TRIGGER_TIMEOUT,
        reservedConcurrency: TRIGGER_CONCURRENCY,
      }),
    ).consumeQueue(this.intake, { batchSize: 1 });

    this.targetDlq = encryptedDlq(this, 'DeliveryDlq', resources.key);
    const patterns = findingEventPatterns({ region: config.region, sources: config.findings.sources });
    for (const source of config.findings.sources) {
      // No eventBus: the rule is on the account's default bus, where AWS services put their events.
      this.rules[source] = new Rule(this, RULE_IDS[source], {
        description: `${FindingEventTypes[source].detailType} events that concern a program's data`,
        eventPattern: patterns[source],
        targets: [new GuardedQueueTarget(this.intake, { deadLetterQueue: this.targetDlq })],
      });
    }

    const alerts = new SnsAction(resources.alertTopic);
    this.trigger.addAlarms(resources.alertTopic);
    dlqAlarm(this, 'DeliveryDlqDepth', this.targetDlq, 'killswitch: finding events EventBridge could not deliver').addAlarmAction(alerts);
    dlqAlarm(
      this,
      'RejectedFindingsDepth',
      this.rejectedFindings,
      'killswitch: malformed findings were rejected (kept for replay)',
    ).addAlarmAction(alerts);
    dlqAlarm(this, 'IntakeDlqDepth', this.intakeDlq, 'killswitch: finding events that failed for 50 hours').addAlarmAction(alerts);
    ageAlarm(
      this,
      'IntakeWaiting',
      this.intake,
      300,
      'killswitch: a finding event has waited more than 5 minutes to be handled (is the finding trigger failing?)',
    ).addAlarmAction(alerts);

    const { sweep } = config.findings;
    if (sweep.everyMinutes > 0 && config.findings.sources.length > 0) {
      this.sweep = bindKillSwitch(
        new KillSwitchFunction(this, 'Sweep', {
          entry: 'functions/finding-sweep/handler.ts',
          description: 'killswitch: lists recent Macie, GuardDuty and Security Hub findings and feeds those the event path missed',
          key: resources.key,
          logRetention: resources.logRetention,
          timeout: Duration.minutes(5),
          reservedConcurrency: SWEEP_CONCURRENCY,
        }),
      )
        .setEnvironment('SWEEP_SOURCES', config.findings.sources.join(','))
        .setEnvironment('SWEEP_LOOKBACK_MS', String(sweep.lookbackHours * 3_600_000))
        .setEnvironment('SWEEP_OVERLAP_MS', String(sweep.overlapMinutes * 60_000))
        .setEnvironment('SWEEP_MAX_FINDINGS', String(sweep.maxFindingsPerRun));
      this.#grantFindingReads(this.sweep, config.findings.sources);
      new Rule(this, 'SweepSchedule', {
        description: 'killswitch: the finding sweep',
        schedule: Schedule.rate(Duration.minutes(sweep.everyMinutes)),
        targets: [new LambdaFunction(this.sweep.function, { retryAttempts: 0, deadLetterQueue: this.targetDlq })],
      });
      this.sweep.addAlarms(resources.alertTopic);
    }
  }

  /** Read-only finding APIs of the enabled sources, in this account and region. */
  #grantFindingReads(fn: KillSwitchFunction, sources: readonly FindingSource[]): void {
    const { account, region, partition } = Stack.of(this);
    const role = fn.grantPrincipal;
    const statements: PolicyStatement[] = [];
    if (sources.includes('macie')) {
      fn.allowOnAnyResource(
        ['macie2:ListFindings', 'macie2:GetFindings'],
        'Macie\'s finding actions have no resource types: they can only be granted on "*".',
      );
    }
    if (sources.includes('guardduty')) {
      fn.allowOnAnyResource(
        ['guardduty:ListDetectors'],
        'GuardDuty lists detectors without a resource: the detector ids are what it returns.',
      );
      statements.push(
        new PolicyStatement({
          actions: ['guardduty:ListFindings', 'guardduty:GetFindings'],
          resources: [`arn:${partition}:guardduty:${region}:${account}:detector/*`],
        }),
      );
    }
    if (sources.includes('securityhub') || sources.includes('securityhub-ocsf')) {
      // GetFindings and GetFindingsV2 both authorise as securityhub:GetFindings (Security Hub API reference, GetFindingsV2).
      statements.push(
        new PolicyStatement({
          actions: ['securityhub:GetFindings'],
          resources: [`arn:${partition}:securityhub:${region}:${account}:hub/default`],
        }),
      );
    }
    for (const s of statements) role.addToPrincipalPolicy(s);
    Validations.of(fn.grantPrincipal as unknown as Construct).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:guardduty:${region}:${account}:detector/*]`,
      reason: 'The sweep reads findings of whichever GuardDuty detector the region has; detector ids are not known at deploy time.',
    });
  }
}
