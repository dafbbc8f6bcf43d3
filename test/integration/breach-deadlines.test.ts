import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IncidentLedger, LedgerTable } from '#shared/adapters/dynamodb/ledger/index.ts';
import { ProgramRegistry } from '#shared/runtime/env.ts';
import { observability, METRICS_NAMESPACE } from '#shared/runtime/observability.ts';
import { DeadlineWatch, UNDECIDED_METRIC } from '#shared/record/deadline-watch.ts';
import { AuthorityDecisions } from '#shared/record/authority.ts';
import { breachClock } from '#shared/domain/breach-clock.ts';
import type { OperatorAlert } from '#shared/killswitch/ports.ts';
import type { Incident } from '#shared/schemas/ledger.ts';
import { incidentRecord } from '../support/fixtures.ts';
import { AuthorityCommandSchema } from '#shared/schemas/operator.ts';
import { ValidationError, StateConflictError } from '#shared/domain/errors.ts';
import { startTestDynamo, type TestDynamo } from '../support/dynamo.ts';
import { sampleApp } from '../support/cdk.ts';
import { emittedMetrics, type Emitted } from '../support/emf.ts';

/*
 * GDPR Art. 33's 72 hours (issue 19): the alarms exist in the synthesized template, and they fire —
 * with a fake clock driving the real watch on dynalite, its metrics emitted through Powertools as
 * the deployed function emits them (EMF), and each alarm's threshold applied to what was emitted.
 */
process.env.POWERTOOLS_METRICS_DISABLED = 'false';
process.env.POWERTOOLS_METRICS_NAMESPACE = METRICS_NAMESPACE;

const HOUR = 3_600_000;
const T0 = Date.parse('2026-12-01T08:00:00.000Z');
const ALICE = { id: 'arn:aws:sts::111111111111:assumed-role/KillswitchOperators/alice', person: 'alice', verified: true } as const;

interface AlarmSpec {
  mark: string;
  metricName: string;
  namespace: string;
  dimensions: Record<string, string>;
  threshold: number;
  comparison: string;
  statistic: string;
  actions: unknown[];
}

describe('The 72-hour clock: alarms in the template, firing on a fake clock', () => {
  let db: TestDynamo;
  let ledger: IncidentLedger;
  let alarms: AlarmSpec[];
  let n = 0;
  beforeAll(async () => {
    db = await startTestDynamo();
    ledger = new IncidentLedger(new LedgerTable(db.doc, db.tables.ledger));
    const { stateless } = sampleApp();
    alarms = Object.values(stateless.findResources('AWS::CloudWatch::Alarm'))
      .map((r) => r.Properties as Record<string, unknown>)
      .filter((p) => p.MetricName === UNDECIDED_METRIC)
      .map((p) => {
        const dimensions = Object.fromEntries((p.Dimensions as { Name: string; Value: string }[]).map((d) => [d.Name, d.Value]));
        return {
          mark: dimensions.mark!,
          metricName: String(p.MetricName),
          namespace: String(p.Namespace),
          dimensions,
          threshold: Number(p.Threshold),
          comparison: String(p.ComparisonOperator),
          statistic: String(p.Statistic),
          actions: p.AlarmActions as unknown[],
        };
      });
  });
  afterAll(() => db?.dynamo.stop());

  const program = `deadlines${++n}`;
  const programs = new ProgramRegistry([
    {
      programId: program,
      scopes: ['*'],
      datasets: ['keystrokes'],
      severityPolicy: { LOW: 'ALERT', MEDIUM: 'ALERT', HIGH: 'PAUSE', CRITICAL: 'PAUSE' },
    },
  ] as never);
  const open = async (hoursAgo = 0): Promise<Incident> => {
    const incident = incidentRecord({
      incidentId: `inc-20261201-${(++n).toString(16).padStart(12, '0')}`,
      programId: program,
      openedAt: new Date(T0 - hoursAgo * HOUR).toISOString(),
    });
    await ledger.open(incident);
    return incident;
  };

  /** One run of the watch at `at`, as the deployed function runs it: its alerts, and the EMF it printed. */
  async function runAt(at: number) {
    const sent: OperatorAlert[] = [];
    const obs = observability('deadline-watch');
    const lines: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    try {
      const watch = new DeadlineWatch({
        programs,
        incidents: ledger,
        alerts: {
          send: async (a) => {
            sent.push(a);
            return 'msg';
          },
        },
        telemetry: obs.telemetry,
        clock: () => new Date(at),
      });
      const result = await watch.run();
      obs.metrics.publishStoredMetrics();
      return { result, sent, emitted: emittedMetrics(lines.join('')) };
    } finally {
      process.stdout.write = write;
    }
  }

  /** Whether an alarm of the template is in ALARM for the values emitted in one period. */
  const fires = (alarm: AlarmSpec, emitted: Emitted[]) => {
    const values = emitted
      .filter(
        (e) =>
          e.namespace === alarm.namespace &&
          e.name === alarm.metricName &&
          JSON.stringify(Object.entries(e.dimensions).sort()) === JSON.stringify(Object.entries(alarm.dimensions).sort()),
      )
      .flatMap((e) => e.values);
    expect(
      values.length,
      `the watch emits ${alarm.metricName} with the alarm's dimensions ${JSON.stringify(alarm.dimensions)}`,
    ).toBeGreaterThan(0);
    expect(alarm.statistic).toBe('Maximum');
    expect(alarm.comparison).toBe('GreaterThanOrEqualToThreshold');
    return Math.max(...values) >= alarm.threshold;
  };
  const firing = (emitted: Emitted[]) =>
    alarms
      .filter((a) => fires(a, emitted))
      .map((a) => a.mark)
      .sort();

  it("the template has one alarm per mark (48, 66, 72 h) on the watch's metric, each alerting the operators", () => {
    expect(alarms.map((a) => a.mark).sort()).toEqual(['48h', '66h', '72h']);
    for (const a of alarms) {
      expect(a).toMatchObject({ namespace: 'killswitch', threshold: 1, dimensions: { service: 'deadline-watch' } });
      expect(a.actions).toHaveLength(1);
    }
    const { stateless } = sampleApp();
    const rules = Object.values(stateless.findResources('AWS::Events::Rule')).filter((r) =>
      String((r.Properties as { Description?: string }).Description).includes('Art. 33'),
    );
    expect(rules.map((r) => (r.Properties as { ScheduleExpression: string }).ScheduleExpression)).toEqual(['rate(15 minutes)']);
  });

  it('fires at 48, 66 and 72 hours for an incident with no decision, alerts once per mark, and stops once the authority is notified', async () => {
    const incident = await open();
    const at = (h: number) => T0 + h * HOUR + 60_000;

    let run = await runAt(at(47));
    expect(run.sent).toEqual([]);
    expect(firing(run.emitted)).toEqual([]);

    run = await runAt(at(48));
    expect(firing(run.emitted)).toEqual(['48h']);
    expect(run.sent.map((a) => a.subject)).toEqual([`killswitch: 24 h to the Art. 33 deadline for ${incident.incidentId}`]);
    expect(run.sent[0]!.lines.join('\n')).toContain('killswitch authority notified');
    // A second run in the same period alerts nobody again; the alarm stays in ALARM.
    run = await runAt(at(48) + 5 * 60_000);
    expect(run.sent).toEqual([]);
    expect(firing(run.emitted)).toEqual(['48h']);

    run = await runAt(at(66));
    expect(firing(run.emitted)).toEqual(['48h', '66h']);
    expect(run.sent.map((a) => a.subject)).toEqual([`killswitch: 6 h to the Art. 33 deadline for ${incident.incidentId}`]);

    run = await runAt(at(72));
    expect(firing(run.emitted)).toEqual(['48h', '66h', '72h']);
    expect(run.sent.map((a) => a.subject)).toEqual([`killswitch: Art. 33 deadline passed for ${incident.incidentId}`]);

    // Notified late: the reasons for the delay are required (Art. 33(1)), then the clock stops.
    const decisions = new AuthorityDecisions({ incidents: ledger, clock: () => new Date(at(73)) });
    const notified = AuthorityCommandSchema.parse({
      action: 'authority',
      incidentId: incident.incidentId,
      decision: 'notified',
      authority: 'ICO',
      reference: 'IC-123456-A1B2',
    });
    await expect(decisions.record(notified, ALICE)).rejects.toThrow(/reason: is required: the notification is after the 72 hours/);
    const view = await decisions.record({ ...notified, reason: 'the scope of the exposure was confirmed only at 70 h' }, ALICE);
    expect(view.clock).toMatchObject({ status: 'NOTIFIED', late: true, passedMarks: [] });

    run = await runAt(at(74));
    expect(run.sent).toEqual([]);
    expect(firing(run.emitted)).toEqual([]);
    const timeline = await ledger.timeline(incident.incidentId);
    expect(timeline.filter((t) => t.type === 'DEADLINE_ALERT').map((t) => t.data?.mark)).toEqual([48, 66, 72]);
  });

  it("found by an attacker's review: a notification recorded after the 72 hours but dated within them must say why; a retry written another way keeps one entry", async () => {
    const incident = await open();
    const late = new AuthorityDecisions({ incidents: ledger, clock: () => new Date(T0 + 240 * HOUR) });
    const command = (at: string, reason?: string) =>
      AuthorityCommandSchema.parse({
        action: 'authority',
        incidentId: incident.incidentId,
        decision: 'notified',
        authority: 'ICO',
        reference: 'IC-1',
        at,
        ...(reason ? { reason } : {}),
      });
    await expect(late.record(command(new Date(T0 + 71 * HOUR).toISOString()), ALICE)).rejects.toThrow(/recorded only now/);
    const first = await late.record(command('2026-12-04T07:00:00.000Z', 'the DPO was on leave; notified by phone at 71 h'), ALICE);
    expect(first.recorded).toBe(true);
    // The same instant, written with an offset: a retry, not a second notification.
    const again = await late.record(command('2026-12-04T09:00:00+02:00', 'the DPO was on leave; notified by phone at 71 h'), ALICE);
    expect(again.recorded).toBe(false);
    expect(again.clock.decisions).toHaveLength(1);
  });

  it("found by an attacker's review: an incident that cannot be read does not stop the watch: the others are alerted and the gauges still go out", async () => {
    const good = await open(50);
    const bad = await open(50);
    const sent: OperatorAlert[] = [];
    const gauges: [string, number, Record<string, string> | undefined][] = [];
    const watch = new DeadlineWatch({
      programs,
      incidents: {
        ...ledger,
        list: ledger.list.bind(ledger),
        record: ledger.record.bind(ledger),
        timeline: (id: string) => (id === bad.incidentId ? Promise.reject(new Error('throttled')) : ledger.timeline(id)),
      } as never,
      alerts: { send: async (a) => (sent.push(a), 'm') },
      telemetry: { count: () => {}, info: () => {}, warn: () => {}, error: () => {}, gauge: (m, v, d) => void gauges.push([m, v, d]) },
      clock: () => new Date(T0),
    });
    const result = await watch.run();
    expect(result.failed).toBe(1);
    expect(sent.map((a) => a.incidentId)).toContain(good.incidentId);
    expect(gauges.filter(([m]) => m === UNDECIDED_METRIC)).toHaveLength(3);
  });

  it('a watch that was down sends one alert for the highest mark passed, and records the lower ones', async () => {
    const incident = await open(70);
    const run = await runAt(T0);
    const mine = run.sent.filter((a) => a.incidentId === incident.incidentId);
    expect(mine.map((a) => a.subject)).toEqual([`killswitch: 6 h to the Art. 33 deadline for ${incident.incidentId}`]);
    const marks = (await ledger.timeline(incident.incidentId)).filter((t) => t.type === 'DEADLINE_ALERT').map((t) => t.data?.mark);
    expect(marks.sort()).toEqual([48, 66]);
  });

  it('decisions follow Art. 33: notified names authority and reference; an update follows a notification; not-notifiable gives its reason and is refused once notified', async () => {
    const incident = await open();
    const decisions = new AuthorityDecisions({ incidents: ledger, clock: () => new Date(T0 + 10 * HOUR) });
    const command = (fields: Record<string, unknown>) =>
      AuthorityCommandSchema.parse({ action: 'authority', incidentId: incident.incidentId, ...fields });

    const missing = await decisions.record(command({ decision: 'notified' }), ALICE).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ValidationError);
    expect((missing as ValidationError).issues.map((i) => i.path)).toEqual(['authority', 'reference']);
    await expect(decisions.record(command({ decision: 'not-notifiable' }), ALICE)).rejects.toThrow(/reason: is required/);
    await expect(decisions.record(command({ decision: 'update', reason: 'more' }), ALICE)).rejects.toBeInstanceOf(StateConflictError);
    await expect(
      decisions.record(
        command({ decision: 'notified', authority: 'CNIL', reference: 'x', at: new Date(T0 + 20 * HOUR).toISOString() }),
        ALICE,
      ),
    ).rejects.toThrow(/at: is in the future/);
    expect(() => command({ decision: 'maybe' })).toThrow();

    // Documented as not notifiable, then reassessed and notified: both stay in the record.
    await decisions.record(command({ decision: 'not-notifiable', reason: 'the exposed dataset held only hashed ids' }), ALICE);
    let view = await decisions.record(command({ decision: 'notified', authority: 'CNIL', reference: 'CNIL-2026-0042' }), ALICE);
    expect(view.clock).toMatchObject({ status: 'NOTIFIED', late: false });
    view = await decisions.record(command({ decision: 'update', reason: 'number of data subjects confirmed: 212' }), ALICE);
    expect(view.clock.decisions.map((d) => d.kind)).toEqual(['NOT_NOTIFIABLE', 'NOTIFIED', 'UPDATE']);
    await expect(decisions.record(command({ decision: 'not-notifiable', reason: 'r' }), ALICE)).rejects.toThrow(/send an update instead/);
    // Not an operator: refused before anything is read.
    await expect(decisions.record(command({ decision: 'update', reason: 'x' }), { id: 'detector:dlp', verified: false })).rejects.toThrow();
    const clock = breachClock(incident, await ledger.timeline(incident.incidentId), new Date(T0 + 80 * HOUR));
    expect(clock.passedMarks).toEqual([]);
  });
});
