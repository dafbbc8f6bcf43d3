import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '#local/stack.ts';
import { seedDataSubjects, seedGrants, seedPrograms } from '#local/seed.ts';
import { sampleFindingEvent } from '#local/samples.ts';
import { ACK_SIGNATURE_HEADER, deriveAgentSecret, signAck } from '#agent/ack.ts';
import { ProgramStateStore } from '#shared/adapters/dynamodb/program-state-store.ts';
import { dynamoDocumentClient } from '#shared/adapters/aws/clients.ts';
import { seqOf } from '#shared/killswitch/state-seq.ts';
import { METRICS_NAMESPACE } from '#shared/runtime/observability.ts';
import { ALICE, BOB, operatorCall, pauseAs, putAnomaly } from '../support/local.ts';
import { sampleApp } from '../support/cdk.ts';
import { emittedMetrics } from '../support/emf.ts';

/*
 * The dashboard tells the truth (issue 18): every metric a widget reads is one some function emits —
 * same namespace, name and dimensions. The functions run a whole incident on the local stack with
 * metrics on (every way to pause, the signed feed, agents' acknowledgements, revocation and a
 * two-person restore, notices), their EMF output is captured, and each widget of the synthesized
 * dashboard is checked against it.
 */
process.env.POWERTOOLS_METRICS_DISABLED = 'false';
process.env.POWERTOOLS_METRICS_NAMESPACE = METRICS_NAMESPACE;

/** A metric a widget reads: an exact one (namespace, name, dimensions), or a search over one schema. */
type Read =
  | { kind: 'metric'; namespace: string; name: string; dimensions: Record<string, string> }
  | { kind: 'search'; namespace: string; name: string; dimensionKeys: string[] };

/** The dashboard body with each CloudFormation reference written as REF:<id> or GETATT:<id>.<attribute>. */
function dashboardBody(body: unknown): { widgets: { properties: { title?: string; metrics?: unknown[][] } }[] } {
  const join = (body as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  const text = join[1]
    .map((part) => {
      if (typeof part === 'string') return part;
      const p = part as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
      return p.Ref ? `REF:${p.Ref}` : `GETATT:${p['Fn::GetAtt']![0]}.${p['Fn::GetAtt']![1]}`;
    })
    .join(join[0]);
  return JSON.parse(text);
}

function widgetReads(metrics: unknown[][]): Read[] {
  return metrics.map((entry): Read => {
    const last = entry.at(-1);
    if (entry.length === 1 && typeof last === 'object' && last && 'expression' in last) {
      const expression = String((last as { expression: string }).expression);
      const search = /^SEARCH\('\{([^}]*)\} MetricName="([A-Za-z]+)"', '(Sum|Maximum)', \d+\)$/.exec(expression);
      if (!search) throw new Error(`a widget reads an expression this test does not know: ${expression}`);
      const [namespace, ...dimensionKeys] = search[1]!.split(',');
      return { kind: 'search', namespace: namespace!, name: search[2]!, dimensionKeys };
    }
    const parts = entry.filter((e) => typeof e === 'string') as string[];
    const [namespace, name, ...pairs] = parts;
    const dimensions: Record<string, string> = {};
    for (let i = 0; i < pairs.length; i += 2) dimensions[pairs[i]!] = pairs[i + 1]!;
    return { kind: 'metric', namespace: namespace!, name: name!, dimensions };
  });
}

describe('The dashboard reads only metrics the functions emit', () => {
  let stack: LocalStack;
  const output: string[] = [];
  const restore: (() => void)[] = [];

  beforeAll(async () => {
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      output.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return typeof rest.at(-1) === 'function' ? ((rest.at(-1) as () => void)(), true) : true;
    }) as typeof process.stdout.write;
    restore.push(() => (process.stdout.write = write));

    stack = await startLocalStack({ asyncRetryDelaysMs: [10, 20] });
    await seedPrograms(stack);
    await seedGrants(stack, 3);
    await seedDataSubjects(stack, 30);
    const states = new ProgramStateStore(dynamoDocumentClient(), stack.tables.programState);
    const secret = await deriveAgentSecret(new TextEncoder().encode(stack.agentEnrolmentSecret), 'dash-agent');
    const ack = async (allowed: boolean, signWith = secret) => {
      const body = JSON.stringify({
        collectorId: 'dash-agent',
        programId: 'mci',
        seq: seqOf(await states.list('mci')),
        allowed,
        at: new Date().toISOString(),
        kind: 'change',
      });
      await fetch(stack.endpoints.ackUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [ACK_SIGNATURE_HEADER]: await signAck(signWith, body) },
        body,
      });
      await stack.idle();
    };
    await ack(true);
    await ack(true, await deriveAgentSecret(new TextEncoder().encode(stack.agentEnrolmentSecret), 'someone-else')); // rejected
    // Every way to pause, each on a scope of its own so that each writes a version: an anomaly (first, so that its grants are its own), a finding, an operator, break-glass.
    await putAnomaly(stack, { anomalyId: 'dash-anomaly', scope: 'region#eu-west-1', severity: 'HIGH', datasetIds: ['keystrokes'] });
    await stack.idle();
    // Its escalation adds a dataset: the grants counted are the new dataset's, not the incident's totals again.
    await putAnomaly(stack, {
      anomalyId: 'dash-anomaly',
      scope: 'region#eu-west-1',
      severity: 'CRITICAL',
      datasetIds: ['keystrokes', 'mouse'],
    });
    await stack.idle();
    stack.bus.emitServiceEvent(sampleFindingEvent('guardduty', { at: new Date(), suffix: 'dash' }));
    await stack.idle();
    const paused = await pauseAs(stack, ALICE, 'category#keystrokes', 'dashboard');
    expect(paused.status).toBe(200);
    await stack.functions.invoke('break-glass', { action: 'pause', programId: 'mci', scope: 'category#mouse', reason: 'dashboard' });
    await stack.idle();
    await ack(false); // the agent halted on the paused document: HALT_CONFIRMED
    const incidentId = paused.body.result.incidentId as string;
    expect((await operatorCall(stack, ALICE, { action: 'notify', incidentId })).status).toBe(200);
    await stack.idle();
    const request = await operatorCall(stack, ALICE, { action: 'restore-grants', incidentId, reason: 'fixed' });
    expect(request.status).toBe(200);
    expect(
      (await operatorCall(stack, BOB, { action: 'approve-restore-grants', requestId: request.body.result.request.requestId })).status,
    ).toBe(200);
    await stack.idle();
  }, 180_000);
  afterAll(async () => {
    for (const r of restore) r();
    await stack?.stop();
  });

  it('every widget metric is one a function emitted during the incident: same namespace, name and dimensions', () => {
    const emitted = emittedMetrics(output.join(''));
    expect(emitted.length).toBeGreaterThan(0);
    const { stateless } = sampleApp();
    const [dashboard] = Object.values(stateless.findResources('AWS::CloudWatch::Dashboard')) as {
      Properties: { DashboardBody: unknown };
    }[];
    const body = dashboardBody(dashboard!.Properties.DashboardBody);
    const queues = new Set(Object.keys(stateless.findResources('AWS::SQS::Queue')));
    const graphs = body.widgets.filter((w) => w.properties.metrics);
    expect(graphs.length).toBeGreaterThanOrEqual(6);

    const unmatched: string[] = [];
    const pauseServices = new Set<string>();
    for (const widget of graphs) {
      for (const read of widgetReads(widget.properties.metrics!)) {
        if (read.namespace === 'AWS/SQS') {
          // AWS emits queue metrics; the widget must name a queue of this stack.
          const queue = /^GETATT:(\w+)\.QueueName$/.exec(read.kind === 'metric' ? (read.dimensions.QueueName ?? '') : '')?.[1];
          if (!queue || !queues.has(queue)) unmatched.push(`${widget.properties.title}: ${JSON.stringify(read)}`);
          continue;
        }
        const matches = emitted.filter(
          (e) =>
            e.namespace === read.namespace &&
            e.name === read.name &&
            (read.kind === 'search'
              ? [...Object.keys(e.dimensions)].sort().join(',') === [...read.dimensionKeys].sort().join(',')
              : JSON.stringify(Object.entries(e.dimensions).sort()) === JSON.stringify(Object.entries(read.dimensions).sort())),
        );
        if (!matches.length) unmatched.push(`${widget.properties.title}: ${JSON.stringify(read)}`);
        if (read.name === 'ProgramPaused') for (const m of matches) pauseServices.add(`${m.dimensions.service}/${m.dimensions.trigger}`);
      }
    }
    expect(unmatched, 'widgets reading a metric nothing emitted').toEqual([]);
    // The pause graph shows every way to pause, not only the anomaly trigger's.
    expect([...pauseServices].sort()).toEqual(
      ['anomaly-trigger/ANOMALY', 'break-glass/BREAK_GLASS', 'finding-trigger/ANOMALY', 'operator/OPERATOR'].sort(),
    );
  });

  it("the counts graphed are the ledger's: grants revoked (an escalation adding a dataset included), restored, notices sent", async () => {
    const emitted = emittedMetrics(output.join(''));
    const total = (name: string) => emitted.filter((e) => e.name === name).reduce((sum, e) => sum + e.value, 0);
    const list = await operatorCall(stack, ALICE, { action: 'list-incidents', programId: 'mci', limit: 100 });
    const views = await Promise.all(
      (list.body.result.incidents as { incidentId: string }[]).map(
        async (i) => (await operatorCall(stack, ALICE, { action: 'incident', incidentId: i.incidentId })).body.result,
      ),
    );
    const sum = (pick: (v: { grants?: { revoked: number; restored: number }; notices?: { sent: number } }) => number | undefined) =>
      views.reduce((n, v) => n + (pick(v) ?? 0), 0);
    const escalated = views.find((v) => v.incident.anomalyId === 'dash-anomaly');
    expect(escalated.incident.datasetIds).toEqual(expect.arrayContaining(['keystrokes', 'mouse']));
    expect(sum((v) => v.grants?.revoked)).toBeGreaterThan(0);
    expect(total('GrantsRevoked')).toBe(sum((v) => v.grants?.revoked));
    expect(total('GrantsRestored')).toBe(sum((v) => v.grants?.restored));
    expect(total('NoticesSent')).toBe(sum((v) => v.notices?.sent));
  });

  it('a widget reading a metric no function emits would fail the check', () => {
    const emitted = emittedMetrics(output.join(''));
    const reads = widgetReads([
      [{ expression: `SEARCH('{${METRICS_NAMESPACE},programId,service} MetricName="ProgramPaused"', 'Sum', 60)` }],
    ]);
    // ProgramPaused is emitted with programId, severity, service and trigger: a search over fewer dimensions finds nothing.
    expect(emitted.some((e) => e.name === 'ProgramPaused')).toBe(true);
    expect(
      emitted.filter(
        (e) =>
          e.name === reads[0]!.name &&
          Object.keys(e.dimensions).sort().join(',') === (reads[0] as { dimensionKeys: string[] }).dimensionKeys.sort().join(','),
      ),
    ).toEqual([]);
  });
});
