import { Stack, type StackProps } from 'aws-cdk-lib';
import { CfnEventBusPolicy } from 'aws-cdk-lib/aws-events';
import type { Construct } from 'constructs';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { ledgerAnchorsBucketName, type DeploymentConfig } from '../config.ts';
import type { StatefulStack } from './stateful-stack.ts';
import { AnomalyTriggerCapability } from '../constructs/anomaly-trigger.ts';
import { CollectorAccess } from '../constructs/collector-access.ts';
import { OperatorControl } from '../constructs/operator-control.ts';
import { KillSwitchDashboard } from '../constructs/dashboard.ts';
import { GrantRevocation } from '../constructs/grant-revocation.ts';
import { ExposureNotices } from '../constructs/exposure-notices.ts';
import { FindingTriggers } from '../constructs/finding-triggers.ts';
import { KillSwitchFunction } from '../constructs/killswitch-function.ts';
import { StateFeed } from '../constructs/state-feed.ts';
import { HaltAcknowledgements } from '../constructs/halt-acknowledgements.ts';
import type { KillSwitchResources } from '../constructs/resources.ts';
import { BreachDeadlines } from '../constructs/breach-deadlines.ts';

export interface StatelessStackProps extends StackProps {
  readonly config: DeploymentConfig;
  /** The stateful resources, passed as typed references (CloudFormation exports underneath). */
  readonly stateful: Pick<
    StatefulStack,
    'key' | 'tables' | 'alertTopic' | 'noticeTopic' | 'bus' | 'domainBus' | 'stateFeed' | 'agentEnrolmentSecret'
  >;
}

/** Functions, rules, queues and alarms: everything that can be replaced by a redeploy. */
export class StatelessStack extends Stack {
  readonly trigger: AnomalyTriggerCapability;
  readonly operator: OperatorControl;
  readonly collectorAccess: CollectorAccess;
  readonly revocation: GrantRevocation;
  readonly notices: ExposureNotices;
  readonly stateFeed: StateFeed;
  readonly acks: HaltAcknowledgements;
  readonly deadlines: BreachDeadlines;
  /** Absent when the configuration takes no AWS findings (`findings.sources: []`). */
  readonly findings?: FindingTriggers;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    const resources: KillSwitchResources = {
      config: props.config,
      key: props.stateful.key,
      tables: props.stateful.tables,
      alertTopic: props.stateful.alertTopic,
      noticeTopic: props.stateful.noticeTopic,
      bus: props.stateful.bus,
      domainBus: props.stateful.domainBus,
      logRetention: props.config.logRetentionDays as RetentionDays,
      // By name from the configuration (the stateful stack names the bucket so): policies name it exactly.
      ledgerAnchors: ledgerAnchorsBucketName(props.config),
    };
    this.collectorAccess = new CollectorAccess(this, 'CollectorAccess', { resources });
    this.trigger = new AnomalyTriggerCapability(this, 'AnomalyTrigger', { resources });
    if (props.config.findings.sources.length) this.findings = new FindingTriggers(this, 'FindingTriggers', { resources });
    this.revocation = new GrantRevocation(this, 'GrantRevocation', { resources });
    this.notices = new ExposureNotices(this, 'ExposureNotices', { resources });
    this.stateFeed = new StateFeed(this, 'StateFeed', { resources, feed: props.stateful.stateFeed });
    this.acks = new HaltAcknowledgements(this, 'HaltAcknowledgements', { resources, enrolmentSecret: props.stateful.agentEnrolmentSecret });
    this.deadlines = new BreachDeadlines(this, 'BreachDeadlines', { resources });
    this.operator = new OperatorControl(this, 'OperatorControl', {
      resources,
      grantWorkQueue: this.revocation.queue,
      noticePlanQueue: this.notices.planQueue,
    });
    // Only killswitch's own functions may put events on its domain bus: a detector (anyone with
    // events:PutEvents in the account) cannot forge a Kill Switch Engaged. An explicit Deny in the
    // bus policy overrides any Allow in an identity policy.
    const publishers = this.node
      .findAll()
      .filter((c): c is KillSwitchFunction => c instanceof KillSwitchFunction && c.publishesTo.has(props.stateful.domainBus))
      .map((f) => f.role.roleArn);
    new CfnEventBusPolicy(this, 'DomainBusPublishers', {
      eventBusName: props.stateful.domainBus.eventBusName,
      statementId: 'OnlyKillswitchPublishes',
      statement: {
        Sid: 'OnlyKillswitchPublishes',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'events:PutEvents',
        Resource: props.stateful.domainBus.eventBusArn,
        Condition: { ArnNotEquals: { 'aws:PrincipalArn': publishers } },
      },
    });

    new KillSwitchDashboard(this, 'Dashboard', {
      name: `${props.config.stackPrefix}-killswitch`,
      deadLetterQueues: {
        'trigger delivery': this.trigger.targetDlq,
        'anomaly intake': this.trigger.intakeDlq,
        'trigger invocations': this.trigger.function.deadLetterQueue,
        ...(this.findings
          ? {
              'finding delivery': this.findings.targetDlq,
              'finding intake': this.findings.intakeDlq,
              'finding trigger invocations': this.findings.trigger.deadLetterQueue,
              'rejected findings': this.findings.rejectedFindings,
              ...(this.findings.sweep ? { 'finding sweep invocations': this.findings.sweep.deadLetterQueue } : {}),
            }
          : {}),
        'operator invocations': this.operator.function.deadLetterQueue,
        'break-glass invocations': this.operator.breakGlass.deadLetterQueue,
        'grant work': this.revocation.deadLetterQueue,
        'grant worker invocations': this.revocation.function.deadLetterQueue,
        'engaged delivery to grant work': this.revocation.targetDlq,
        ...this.notices.deadLetterQueues,
        'notice planner invocations': this.notices.planner.deadLetterQueue,
        'notice sender invocations': this.notices.sender.deadLetterQueue,
      },
    });
  }
}
