import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import { LEDGER_KIND_INDEX } from '#shared/adapters/dynamodb/ledger/keys.ts';
import { DEADLINE_MARKS, type DeadlineMark } from '#shared/domain/breach-clock.ts';
import { UNDECIDED_METRIC } from '#shared/record/deadline-watch.ts';
import { METRICS_NAMESPACE } from '#shared/runtime/observability.ts';
import { KillSwitchFunction } from './killswitch-function.ts';
import { programsVariable, type KillSwitchResources } from './resources.ts';

/** How often the watch runs: the alerts come at most this late after each mark. */
export const DEADLINE_WATCH_RATE = Duration.minutes(15);
const SERVICE = 'deadline-watch';

/** The metric one 72-hour alarm reads: incidents past `mark` hours with no authority decision. */
export const undecidedMetric = (mark: DeadlineMark): Metric =>
  new Metric({
    namespace: METRICS_NAMESPACE,
    metricName: UNDECIDED_METRIC,
    dimensionsMap: { service: SERVICE, mark: `${mark}h` },
    statistic: 'Maximum',
    period: DEADLINE_WATCH_RATE,
  });

/**
 * GDPR Art. 33's clock (docs/record.md): a scheduled watch that counts the incidents with no
 * supervisory-authority decision past 48, 66 and 72 hours after awareness and alerts the operators
 * once per incident and mark, and an alarm per mark on that count (a watch that fails raises its
 * own Errors alarm; a period with no data is not a deadline passed).
 */
export class BreachDeadlines extends Construct {
  readonly function: KillSwitchFunction;
  readonly alarms: Record<`${DeadlineMark}h`, Alarm>;

  constructor(scope: Construct, id: string, props: { readonly resources: KillSwitchResources }) {
    super(scope, id);
    const { resources } = props;
    this.function = new KillSwitchFunction(this, 'Watch', {
      entry: 'functions/deadline-watch/handler.ts',
      description: "killswitch: the GDPR Art. 33 72-hour clock's watch (alerts at 48, 66 and 72 h); seals unsealed chains",
      key: resources.key,
      logRetention: resources.logRetention,
      timeout: Duration.minutes(5),
      reservedConcurrency: 1,
    })
      .bindLedger(resources.tables.ledger, resources.ledgerAnchors, ['GetItem', 'PutItem', 'Query'], [LEDGER_KIND_INDEX])
      .bindTopic(resources.alertTopic, 'ALERT_TOPIC_ARN')
      .setEnvironment('KILLSWITCH_PROGRAMS', programsVariable(resources.config));
    new Rule(this, 'Schedule', {
      description: 'killswitch: the Art. 33 deadline watch',
      schedule: Schedule.rate(DEADLINE_WATCH_RATE),
      targets: [new LambdaFunction(this.function.function, { retryAttempts: 2, maxEventAge: Duration.minutes(10) })],
    });
    const alerts = new SnsAction(resources.alertTopic);
    this.function.addAlarms(resources.alertTopic);
    this.alarms = Object.fromEntries(
      DEADLINE_MARKS.map((mark) => {
        const alarm = new Alarm(this, `Undecided${mark}h`, {
          alarmDescription:
            mark === 72
              ? 'killswitch: an incident passed the GDPR Art. 33 72-hour deadline with no supervisory-authority decision'
              : `killswitch: an incident is ${mark} h past awareness with no supervisory-authority decision (${72 - mark} h to the Art. 33 deadline)`,
          metric: undecidedMetric(mark),
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        });
        alarm.addAlarmAction(alerts);
        return [`${mark}h`, alarm];
      }),
    ) as BreachDeadlines['alarms'];
  }
}
