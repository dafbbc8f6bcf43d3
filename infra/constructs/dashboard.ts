import { Duration } from 'aws-cdk-lib';
import { Dashboard, GraphWidget, Metric, TextWidget, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '#shared/runtime/observability.ts';
import type { SeveritySchema } from '#shared/schemas/common.ts';
import type { z } from 'zod';

const SEVERITIES: z.infer<typeof SeveritySchema>[] = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'];

export interface KillSwitchDashboardProps {
  readonly name: string;
  /** Every dead-letter queue of the system, by a readable label. */
  readonly deadLetterQueues: Readonly<Record<string, IQueue>>;
}

/** One screen for the person on call: state changes, anomalies by severity, DLQ depth. */
export class KillSwitchDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: KillSwitchDashboardProps) {
    super(scope, id);
    const metric = (metricName: string, dimensionsMap: Record<string, string>, label: string): IMetric =>
      new Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap, statistic: 'Sum', period: Duration.minutes(1), label });

    this.dashboard = new Dashboard(this, 'Dashboard', { dashboardName: props.name });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown: '# killswitch\nState changes, anomalies and anything stuck in a dead-letter queue.',
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Kill switch engaged (state changes)',
        left: SEVERITIES.map((s) => metric('KillSwitchEngaged', { service: 'anomaly-trigger', severity: s }, s)),
        width: 12,
      }),
      new GraphWidget({
        title: 'Anomalies by severity',
        left: SEVERITIES.map((s) => metric('AnomalyReceived', { service: 'anomaly-trigger', severity: s }, s)),
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Dead-letter queue depth',
        left: Object.entries(props.deadLetterQueues).map(([label, q]) =>
          q.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum', label }),
        ),
        width: 24,
      }),
    );
  }
}
