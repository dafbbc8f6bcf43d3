import { Duration } from 'aws-cdk-lib';
import { Dashboard, GraphWidget, MathExpression, Metric, TextWidget, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '#shared/runtime/observability.ts';

export interface KillSwitchDashboardProps {
  readonly name: string;
  /** Every dead-letter queue of the system, by a readable label. */
  readonly deadLetterQueues: Readonly<Record<string, IQueue>>;
}

const PERIOD = Duration.minutes(1);

/**
 * Every series of a metric that the functions emit with exactly these dimensions (`service`, the
 * function that emitted it, is always one of them): a CloudWatch search, so that each program,
 * trigger and severity appears as it occurs, and nothing is graphed that nothing writes.
 */
export function searchOf(metricName: string, dimensions: readonly string[], statistic: 'Sum' | 'Maximum', label?: string): IMetric {
  const schema = [METRICS_NAMESPACE, ...[...dimensions, 'service'].sort()].join(',');
  return new MathExpression({
    expression: `SEARCH('{${schema}} MetricName="${metricName}"', '${statistic}', ${PERIOD.toSeconds()})`,
    usingMetrics: {},
    period: PERIOD,
    // CloudWatch's dynamic labels: each series named by its own dimension values.
    label: label ?? `${metricName} ${[...dimensions, 'service'].map((d) => `\${PROP('Dim.${d}')}`).join(' ')}`,
  });
}

/** One function's metric, with only the `service` dimension (what Powertools adds to every metric). */
const ofService = (service: string, metricName: string, statistic: string, label: string): IMetric =>
  new Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap: { service }, statistic, period: PERIOD, label });

/**
 * One screen for the person on call: every pause (anomaly, finding, operator, break-glass) by
 * program, trigger and severity; what the signed feed says now; the agents' acknowledgements; grants
 * revoked and restored; notices; and anything stuck in a dead-letter queue. Each widget reads a
 * metric some function emits (test/infra/dashboard.test.ts runs an incident and checks).
 */
export class KillSwitchDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: KillSwitchDashboardProps) {
    super(scope, id);
    this.dashboard = new Dashboard(this, 'Dashboard', { dashboardName: props.name });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown:
          '# killswitch\nPauses (by program, trigger and severity; the series name says which function paused), what the signed feed says now, agents, grants, notices, and anything stuck in a dead-letter queue.',
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Pauses by program, trigger and severity',
        left: [searchOf('ProgramPaused', ['programId', 'trigger', 'severity'], 'Sum')],
        stacked: true,
        width: 12,
      }),
      new GraphWidget({
        title: 'Scopes paused now, per program (from the signed state feed)',
        left: [searchOf('ScopesPaused', ['programId'], 'Maximum')],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Flip to signed document on the feed (ms)',
        left: [
          ofService('publish-state-feed', 'StateFeedPublishDelay', 'p99', 'p99'),
          ofService('publish-state-feed', 'StateFeedPublishDelay', 'Maximum', 'max'),
        ],
        right: [ofService('publish-state-feed', 'StateDocumentsPublished', 'Sum', 'documents published')],
        width: 12,
      }),
      new GraphWidget({
        title: 'Endpoint agents: acknowledgements and halts confirmed',
        left: [ofService('ack-intake', 'AcksAccepted', 'Sum', 'accepted'), searchOf('AcksRejected', ['reason'], 'Sum')],
        right: [ofService('aggregate-acks', 'HaltConfirmed', 'Sum', 'HALT_CONFIRMED')],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Grants revoked, not revoked, restored',
        left: [
          searchOf('GrantsRevoked', ['programId'], 'Sum'),
          searchOf('GrantsNotRevoked', ['programId'], 'Sum'),
          searchOf('GrantsRestored', ['programId'], 'Sum'),
        ],
        width: 12,
      }),
      new GraphWidget({
        title: 'Exposure notices planned, sent, failed',
        left: [
          searchOf('NoticesPlanned', ['programId'], 'Sum'),
          ofService('send-notices', 'NoticesSent', 'Sum', 'sent'),
          ofService('send-notices', 'NoticesFailed', 'Sum', 'failed'),
        ],
        width: 12,
      }),
    );
    const dlqs = Object.entries(props.deadLetterQueues);
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Dead-letter queues: messages',
        left: dlqs.map(([label, q]) => q.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum', label })),
        width: 12,
      }),
      new GraphWidget({
        title: 'Dead-letter queues: age of the oldest message (s)',
        left: dlqs.map(([label, q]) => q.metricApproximateAgeOfOldestMessage({ period: PERIOD, statistic: 'Maximum', label })),
        width: 12,
      }),
    );
  }
}
