/**
 * `npm run demo`: a whole incident on the embedded stack, with nothing to set up.
 *
 * A detector puts a CRITICAL `Anomaly Detected` event on the bus (or, with `--source macie |
 * guardduty | securityhub | securityhub-ocsf`, that AWS service puts its sample finding on the default bus); the
 * trigger pauses the program; every simulated collector stops by itself. The timeline shows each step with
 * its time since the event; `--json` ends with one JSON line of the figures.
 */
import { rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ANOMALY_DETAIL_TYPE, type AnomalyDetailInput } from '#shared/schemas/anomaly.ts';
import { ProgramStateStore } from '#shared/adapters/dynamodb/program-state-store.ts';
import { IncidentLedger, LedgerTable } from '#shared/adapters/dynamodb/ledger/index.ts';
import { dynamoDocumentClient } from '#shared/adapters/aws/clients.ts';
import { NOTICE_GATEWAY_QUEUE, startLocalStack, type LocalStack } from './stack.ts';
import { localOperatorHeaders } from './sts.ts';
import { ReceiveMessageCommand, DeleteMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { NoticeLedger } from '#shared/adapters/dynamodb/ledger/index.ts';
import { seedBucketPolicies, seedDataSubjects, seedGrants, seedPrograms } from './seed.ts';
import { fleetNow, percentile, startCollectorFleet } from './collector-fleet.ts';
import { startAgentFleet } from './agent-fleet.ts';
import { DynamoAckStore } from '#shared/adapters/dynamodb/ack-store.ts';
import { seqOf } from '#shared/killswitch/state-seq.ts';
import { sampleFindingEvent } from './samples.ts';
import { FINDING_SOURCES, FindingEventTypes } from '#shared/schemas/findings.ts';

const OPTIONS = {
  json: { type: 'boolean', default: false },
  collectors: { type: 'string', default: '200' },
  agents: { type: 'string', default: '1000' },
  'agent-refresh-ms': { type: 'string', default: '1000' },
  employees: { type: 'string', default: '2000' },
  'refresh-ms': { type: 'string', default: '250' },
  verbose: { type: 'boolean', default: false },
  keep: { type: 'boolean', default: false },
  source: { type: 'string', default: 'anomaly' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;
const USAGE = `usage: npm run -s demo -- [options]

A whole incident on the embedded local stack: a CRITICAL anomaly (or an AWS finding) pauses the
program, every collector and endpoint agent stops, access is revoked, employees are notified.

  --source <s>            anomaly (default), ${FINDING_SOURCES.join(', ')}
  --collectors <n>        simulated IAM collectors (default 200)
  --refresh-ms <n>        their refresh interval (default 250)
  --agents <n>            simulated endpoint agents on the signed state feed, 0 for none (default 1000)
  --agent-refresh-ms <n>  their refresh interval R (default 1000)
  --employees <n>         employees in the data-subject index (default 2000)
  --json                  print only one JSON line of the figures, last, on stdout (use npm run -s, so npm's banner is not in the way)
  --keep                  leave the local stack running afterwards, for the CLI (--local), until Ctrl-C
  --verbose               the functions' own logs
  -h, --help              this text`;

let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>;
try {
  parsed = parseArgs({ options: OPTIONS });
} catch (error) {
  // One line, exit 2: what a mistyped option deserves (never a stack trace).
  console.error(`demo: ${(error as Error).message.split('\n')[0]} (see --help)`);
  process.exit(2);
}
const args = parsed.values;
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
const SOURCES = ['anomaly', ...FINDING_SOURCES] as const;
if (!(SOURCES as readonly string[]).includes(args.source!)) {
  console.error(`demo: --source must be one of ${SOURCES.join(', ')}, got "${args.source}" (see --help)`);
  process.exit(2);
}
const source = args.source as (typeof SOURCES)[number];
const collectorCount = positiveInt(args.collectors, '--collectors');
const employeeCount = positiveInt(args.employees, '--employees');
const refreshIntervalMs = positiveInt(args['refresh-ms'], '--refresh-ms');
const agentCount = args.agents === '0' ? 0 : positiveInt(args.agents, '--agents');
const agentRefreshMs = positiveInt(args['agent-refresh-ms'], '--agent-refresh-ms');
process.env.POWERTOOLS_LOG_LEVEL ??= args.verbose ? 'INFO' : 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const DEMO_OPERATOR = 'arn:aws:sts::111111111111:assumed-role/KillswitchOperators/alice';
const DEMO_APPROVER = 'arn:aws:sts::111111111111:assumed-role/KillswitchOperators/bob';
const say = (line: string) => {
  if (!args.json) console.log(line);
};
const ms = (n: number) => `${n.toFixed(0).padStart(6)} ms`;
/** A setup step, said as it finishes, with how long it took. */
const step = async <T>(what: (result: T, seconds: number) => string, run: () => Promise<T>): Promise<T> => {
  const started = performance.now();
  const result = await run();
  const seconds = (performance.now() - started) / 1000;
  say(`  · ${what(result, seconds)} (${seconds.toFixed(1)} s)`);
  return result;
};
const rate = (n: number, seconds: number) => `${Math.round(n / Math.max(seconds, 0.001)).toLocaleString('en')}/s`;

say('setting up the local stack…');
const stack = await step(
  (s) => `stack up: dynalite, fauxqs, local EventBridge, ${s.functions.names().length} functions from the synthesized templates`,
  () => startLocalStack(),
);
// --keep: the stack is published where the CLI looks for it (per user, or KILLSWITCH_STATE_DIR).
let keptStateDir: string | undefined;
try {
  if (args.keep) {
    const [{ writeLocalState }, { defaultStateDir, isRunning, readStateFile }] = await Promise.all([
      import('#cli/local.ts'),
      import('#cli/local-state.ts'),
    ]);
    const dir = process.env.KILLSWITCH_STATE_DIR ?? defaultStateDir(process.env);
    const running = readStateFile(dir);
    if (running && isRunning(running))
      throw new Error(
        `--keep: a local stack already runs on ${dir} (pid ${running.pid}); stop it (npx killswitch local down) or set KILLSWITCH_STATE_DIR`,
      );
    keptStateDir = dir;
    writeLocalState(keptStateDir, stack);
  }
  await seedPrograms(stack);
  const grantCount = await step(
    (n, sec) => `${n} grants seeded (${rate(n, sec)})`,
    () => seedGrants(stack, 20),
  );
  await step(
    (n, sec) => `${employeeCount} employees seeded: ${n} rows of the data-subject index, one per employee and dataset (${rate(n, sec)})`,
    () => seedDataSubjects(stack, employeeCount),
  );
  const programId = stack.config.programs[0]!.programId;
  // The platform team's own bucket policies on the quarantined buckets (the local stand-in keeps them as S3 would).
  const quarantined = seedBucketPolicies(stack);
  say(
    `\nkillswitch demo — program "${programId}", local stack (dynalite, fauxqs, local EventBridge, ${stack.functions.names().length} functions)`,
  );
  say(`${employeeCount} employees whose data is in the datasets; notices go to the local messaging gateway queue`);
  say(
    `${grantCount} grants on ${stack.config.programs[0]!.datasetIds.length} datasets (owners, training pipeline, analytics, all-staff, analysts)`,
  );

  for (const q of quarantined)
    say(
      `s3://${q.bucket}/${q.prefix} is guarded by its bucket policy (${q.statements} statement${q.statements === 1 ? '' : 's'} of the platform team's own)`,
    );

  // Hosts sized to this machine: collectors of one host share one read per interval, and the
  // emulated DynamoDB shares the CPUs with everything else here, so beyond ~150 reads/s per CPU the
  // hosts grow (more collectors each) instead of the read rate.
  const cpus = availableParallelism();
  const maxHosts = Math.max(1, Math.floor((150 * cpus * refreshIntervalMs) / 1000));
  const collectorsPerHost = Math.max(4, Math.ceil(collectorCount / maxHosts));
  const hostCount = Math.ceil(collectorCount / collectorsPerHost);
  say(
    `  · starting ${collectorCount} collectors on ${hostCount} hosts (${collectorsPerHost} per host, one read per host every ${refreshIntervalMs} ms: ${Math.round((hostCount * 1000) / refreshIntervalMs)} reads/s, sized to this machine's ${cpus} CPUs)…`,
  );
  const fleet = await startCollectorFleet({
    count: collectorCount,
    collectorsPerHost,
    threads: Math.min(cpus, Math.ceil(hostCount / 25)),
    endpoint: stack.endpoints.dynamodb,
    region: stack.config.region,
    tableName: stack.tables.programState,
    programId,
    refreshIntervalMs,
  });
  // Many collectors start at once; give their refresh loops a few intervals to settle.
  const settleBy = performance.now() + Math.max(refreshIntervalMs * 20, 10_000 + collectorCount * 10);
  let status = await fleet.status();
  while (status.allowed < collectorCount && performance.now() < settleBy) {
    await new Promise((r) => setTimeout(r, 50));
    status = await fleet.status();
  }
  const collecting = status.allowed;
  await fleet.latencies(); // reset: only the incident's reads count below
  say(`${collecting}/${collectorCount} collectors collecting (KillSwitchGate, refresh ${refreshIntervalMs} ms)`);
  if (collecting !== collectorCount) {
    throw new Error(
      `only ${collecting}/${collectorCount} collectors saw an ACTIVE program before the incident (${status.errors.join('; ')})`,
    );
  }

  // Endpoint agents: the state feed signed and published (the local stack re-signs it every minute as
  // in AWS), AgentGates polling it through the local CDN and acknowledging what they apply.
  await stack.functions.invoke('publish-state-feed', { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} });
  const agents = agentCount
    ? await startAgentFleet({
        count: agentCount,
        feedUrl: stack.endpoints.stateFeed,
        ackUrl: stack.endpoints.ackUrl,
        enrolmentSecret: stack.agentEnrolmentSecret,
        programId,
        refreshIntervalMs: agentRefreshMs,
        // Acknowledgements of a change spread over 5 s, as a fleet's would be (ack.jitterMs): the
        // halt itself never waits for them, and they do not crowd the halts on this shared machine.
        ackJitterMs: 5000,
        scopesOf: [
          ['category#keystrokes', 'region#eu-west-1'],
          ['category#mouse', 'region#eu-west-1'],
          ['category#keystrokes', 'region#us-east-1'],
          ['category#mouse', 'region#us-east-1'],
        ],
      })
    : undefined;
  if (agents) {
    say(`  · ${agentCount} endpoint agents started; waiting for each to verify its first signed document…`);
    const by = performance.now() + agentRefreshMs * 10 + 5000;
    let a = await agents.status();
    while (a.allowed < agentCount && performance.now() < by) {
      await new Promise((r) => setTimeout(r, 100));
      a = await agents.status();
    }
    say(
      `${a.allowed}/${agentCount} endpoint agents collecting (AgentGate on the signed state feed, refresh ${agentRefreshMs} ms, through the local CDN)`,
    );
    if (a.allowed !== agentCount) throw new Error(`only ${a.allowed}/${agentCount} agents saw an ACTIVE program (${a.reasons.join('; ')})`);
    // A fleet that has been running a while: every agent's first acknowledgement (of the ACTIVE
    // state) counted before the incident, as in production, rather than still in flight beside it
    // on this machine's one process.
    const activeSeq = seqOf(await new ProgramStateStore(dynamoDocumentClient(), stack.tables.programState).list(programId));
    const ackStore = new DynamoAckStore(dynamoDocumentClient(), stack.tables.acks);
    for (const until = performance.now() + 30_000; performance.now() < until;) {
      await stack.idle();
      if ((await ackStore.counts(programId, activeSeq, new Date())).collecting >= agentCount) break;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const cdnBefore = await stack.feedCdn.counts();

  const anomaly: AnomalyDetailInput = {
    anomalyId: `demo-${Date.now()}`,
    programId,
    detector: 'access-monitor',
    severity: 'CRITICAL',
    kind: 'access-exposure',
    datasetIds: ['transcripts', 'keystrokes'],
    exposure: {
      audience: 'all-staff group (about 12,000 people)',
      principals: ['group:all-staff'],
      window: { start: new Date(Date.now() - 3 * 3600_000).toISOString(), end: new Date().toISOString() },
    },
    observedAt: new Date().toISOString(),
    summary: 'Transcript and keystroke datasets were readable by the all-staff group after an ACL change.',
  };
  const eventBridge = new EventBridgeClient({});
  const t0 = performance.now();
  const t0Fleet = fleetNow();
  const t0Wall = Date.now();
  let opening: string;
  let triggerFunction = 'anomaly-trigger';
  if (source === 'anomaly') {
    const put = await eventBridge.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: stack.busName,
            Source: stack.config.detectorSources[0],
            DetailType: ANOMALY_DETAIL_TYPE,
            Detail: JSON.stringify(anomaly),
          },
        ],
      }),
    );
    if (put.FailedEntryCount) throw new Error(`the bus rejected the anomaly: ${JSON.stringify(put.Entries)}`);
    opening = `CRITICAL anomaly ${anomaly.anomalyId} put on the bus (${ANOMALY_DETAIL_TYPE})`;
  } else {
    // What the AWS service does on its own: its finding event lands on the account's default bus.
    const event = sampleFindingEvent(source, { at: new Date(), suffix: String(Date.now()) });
    stack.bus.emitServiceEvent(event);
    triggerFunction = 'finding-trigger';
    opening = `${FindingEventTypes[source].detailType} on the default bus (${event.source}): ${describeFinding(event.detail)}`;
  }
  say('');
  const live = (text: string) => say(`${ms(performance.now() - t0)}  ${text}`);
  live(opening);
  const watching = watchIncident(stack, fleet, agents, t0, live);

  // Waits for every halt (the figures measure when each happened; this only bounds a broken run).
  const deadline = t0 + Math.max(refreshIntervalMs * 8, agentCount ? agentRefreshMs * 3 : 0) + 30_000;
  while ((fleet.haltedAt.some((t) => t === undefined) || agents?.haltedAt.some((t) => t === undefined)) && performance.now() < deadline)
    await new Promise((r) => setTimeout(r, 5));
  if (agents) await followAcks(stack, programId, engagedIncidentId(stack), agentCount, live);
  else await stack.idle();

  const readMs = await fleet.latencies();
  // Every collector has stopped; the simulated fleet has nothing more to show.
  await fleet.stop();
  /** One operator command on the Function URL, signed as `as` with the local caller proof; a refusal throws. */
  const call = async (as: string, command: Record<string, unknown>) => {
    const body = JSON.stringify(command);
    const response = await fetch(stack.endpoints.operatorUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(await localOperatorHeaders({
          stsEndpoint: stack.endpoints.sts,
          operatorUrl: stack.endpoints.operatorUrl,
          as,
          body,
          region: stack.config.region,
        })),
      },
      body,
    });
    const json = (await response.json()) as { ok: boolean; result?: any }; // eslint-disable-line @typescript-eslint/no-explicit-any
    if (!json.ok) throw new Error(`${String(command.action)} was refused: ${response.status} ${JSON.stringify(json)}`);
    return json.result;
  };
  // The program waits for an operator before notices go out: the demo plays that operator.
  const notifyAt = performance.now();
  live(`operator ${DEMO_OPERATOR.split('/').pop()} runs "notify" for the incident`);
  const notifiedIncident = engagedIncidentId(stack);
  await call(DEMO_OPERATOR, { action: 'notify', incidentId: notifiedIncident });
  await followNotices(stack, notifiedIncident, employeeCount, live);
  watching.stop();
  if (process.env.KILLSWITCH_DEMO_DEBUG)
    console.error(
      `collector reads during the incident: n=${readMs.length} p50=${percentile(readMs, 50).toFixed(1)} p99=${percentile(readMs, 99).toFixed(1)} max=${Math.max(...readMs).toFixed(1)}`,
    );
  const doc = dynamoDocumentClient();
  const state = (await new ProgramStateStore(doc, stack.tables.programState).get(programId, '*'))?.state;
  const incidentId = state?.incidentId ?? '';
  const incident = await new IncidentLedger(new LedgerTable(doc, stack.tables.ledger)).get(incidentId);
  const trigger = stack.functions.log.find((l) => l.function === triggerFunction);
  const engaged = stack.bus.journal.find((j) => j.event['detail-type'] === 'Kill Switch Engaged');
  const grantsRevoked = stack.bus.journal.find((j) => j.event['detail-type'] === 'Grants Revoked');
  const planned = stack.bus.journal.find((j) => j.event['detail-type'] === 'Exposure Notices Planned');
  const sends = stack.functions.log.filter((l) => l.function === 'send-notices' && l.ok);
  const delivery = await drainGateway(stack);
  const noticeCounts = await new NoticeLedger(new LedgerTable(doc, stack.tables.ledger)).counts(incidentId);
  const revokedDetail = grantsRevoked?.event.detail as
    | { revoked: number; alsoHeld: number; owners: number; notRevoked: number; byBackend: Record<string, number>; datasetIds: string[] }
    | undefined;
  const quarantineOf = (bucket: string) =>
    (JSON.parse(stack.bucketPolicies?.policy(bucket) ?? '{"Statement":[]}') as { Statement: { Sid?: string }[] }).Statement.filter((st) =>
      st.Sid?.startsWith(`killswitch-quarantine-${incidentId}`),
    ).length;
  const quarantinedNow = quarantined.filter((q) => quarantineOf(q.bucket) > 0);
  // The agents' acknowledgements of the paused state, as the aggregator counted them.
  const pausedSeq = seqOf(await new ProgramStateStore(doc, stack.tables.programState).list(programId));
  const ackStore = new DynamoAckStore(doc, stack.tables.acks);
  let acks = await ackStore.counts(programId, pausedSeq, new Date());
  for (const until = performance.now() + 30_000; agents && acks.halted < agentCount && performance.now() < until;) {
    await new Promise((r) => setTimeout(r, 200));
    await stack.idle();
    acks = await ackStore.counts(programId, pausedSeq, new Date());
  }
  const agentStatus = agents ? await agents.status() : undefined;
  const feedSeconds = (performance.now() - t0) / 1000;
  const cdnAfter = await stack.feedCdn.counts();
  const originPerSecond = (cdnAfter.originRequests - cdnBefore.originRequests) / feedSeconds;
  const cdnPerSecond = (cdnAfter.requests - cdnBefore.requests) / feedSeconds;
  await agents?.stop();
  const flippedAt = state ? Date.parse(state.changedAt) : NaN;
  const agentHalts = (agents?.haltedAt ?? []).filter((t): t is number => t !== undefined).map((t) => t - flippedAt);
  // The publisher's first run after the flip (its rule on Kill Switch Engaged): the flip-to-published delay.
  const published = stack.functions.log.find(
    (l) => l.function === 'publish-state-feed' && l.ok && t0Wall + (l.startedAt - t0) >= flippedAt,
  );
  const publishMs = published ? t0Wall + (published.endedAt - t0) - flippedAt : undefined;
  const haltConfirmed = (await new IncidentLedger(new LedgerTable(doc, stack.tables.ledger)).timeline(incidentId)).find(
    (e) => e.type === 'HALT_CONFIRMED',
  );
  // haltMs counts from the moment the event is handed to the trigger handler.
  const handedAt = trigger ? t0Fleet + (trigger.startedAt - t0) : t0Fleet;
  const halts = fleet.haltedAt.filter((t): t is number => t !== undefined).map((t) => t - handedAt);

  const sinceEvent = fleet.haltedAt.filter((t): t is number => t !== undefined).map((t) => t - t0Fleet);
  const timeline: [number, string][] = [[0, opening]];
  const rule = stack.bus.journal.find((j) => j.at >= t0)?.rules.join(', ') ?? '?';
  if (trigger)
    timeline.push([
      trigger.startedAt - t0,
      `${triggerFunction} invoked from its intake queue (rule ${rule}, pattern from the synthesized template)`,
    ]);
  if (state)
    timeline.push([
      Date.parse(state.changedAt) - t0Wall,
      `flag flipped: ${programId}/* ${state.status} at version ${state.version} (one conditional write)`,
    ]);
  if (sinceEvent.length) {
    timeline.push([Math.min(...sinceEvent), 'first collector halted']);
    timeline.push([Math.max(...sinceEvent), `all ${sinceEvent.length}/${collectorCount} collectors halted`]);
  }
  if (agentHalts.length) {
    timeline.push([
      flippedAt - t0Wall + Math.min(...agentHalts),
      'first endpoint agent halted (signed state document, seq ' + pausedSeq + ')',
    ]);
    timeline.push([
      flippedAt - t0Wall + Math.max(...agentHalts),
      `all ${agentHalts.length}/${agentCount} endpoint agents halted (within ${Math.max(...agentHalts).toFixed(0)} ms of the flip; target R + 1 s = ${agentRefreshMs + 1000} ms)`,
    ]);
  }
  if (publishMs !== undefined)
    timeline.push([
      flippedAt - t0Wall + publishMs,
      `state document seq ${pausedSeq} signed (local KMS, ES256) and put on the feed bucket: ${publishMs.toFixed(0)} ms after the flip; the CDN holds a copy at most 1 s`,
    ]);
  if (haltConfirmed)
    timeline.push([
      Date.parse(haltConfirmed.at) - t0Wall,
      `HALT_CONFIRMED: ${acks.halted}/${acks.known} known agents acknowledged the pause`,
    ]);
  if (engaged) timeline.push([engaged.at - t0, `Kill Switch Engaged on the bus (incident ${incidentId})`]);
  if (grantsRevoked && revokedDetail) {
    timeline.push([
      grantsRevoked.at - t0,
      `grants revoked: ${revokedDetail.revoked} on ${revokedDetail.datasetIds.join(', ')} (${revokedDetail.owners} owner grants kept; ` +
        `by access system: ${Object.entries(revokedDetail.byBackend)
          .map(([b, n]) => `${b} ${n}`)
          .join(', ')}; restore snapshot in the ledger)`,
    ]);
    for (const q of quarantinedNow)
      timeline.push([
        grantsRevoked.at - t0,
        `quarantine statement added to s3://${q.bucket} (Sid killswitch-quarantine-${incidentId}: Deny reads of ${q.prefix}* to all but the owners, killswitch and break-glass; the team's own ${q.statements === 1 ? 'statement' : `${q.statements} statements`} kept)`,
      ]);
  }
  timeline.push([notifyAt - t0, `operator ${DEMO_OPERATOR.split('/').pop()} runs "notify" for the incident`]);
  if (planned) timeline.push([planned.at - t0, `notices planned: ${noticeCounts.planned} employees, one ledger entry each (PENDING)`]);
  if (sends.length)
    timeline.push([
      Math.max(...sends.map((l) => l.endedAt)) - t0,
      `notices sent: ${noticeCounts.sent} via SNS PublishBatch, each marked SENT with its message id`,
    ]);
  if (delivery.count)
    timeline.push([delivery.lastAt - t0, `notices delivered: ${delivery.count} on the gateway queue (${delivery.duplicates} duplicates)`]);
  if (trigger)
    timeline.push([
      trigger.endedAt - t0,
      `incident ${incidentId} recorded: ${incident?.action ?? '?'}, datasets ${incident?.datasetIds.join(', ') ?? '?'}; operators alerted`,
    ]);
  say('\nTimeline (ms since the event):');
  for (const [at, text] of timeline.sort((a, b) => a[0] - b[0])) say(`${ms(at)}  ${text}`);
  say(
    `\nCollectors halted ${percentile(halts, 50).toFixed(0)} ms (p50) and ${Math.max(...halts).toFixed(0)} ms (max) after the event reached the trigger.`,
  );

  // The leak is fixed: one operator asks for the restore, a second, different person approves it.
  const restoreAt = performance.now();
  const request = await call(DEMO_OPERATOR, { action: 'restore-grants', incidentId, reason: 'ACL corrected; audience verified' });
  await call(DEMO_APPROVER, { action: 'approve-restore-grants', requestId: request.request.requestId });
  await stack.idle();
  const restoredEvent = stack.bus.journal.find((j) => j.event['detail-type'] === 'Grants Restored');
  const restoredDetail = restoredEvent?.event.detail as { restored: number; stillHeld: number; skipped: number } | undefined;
  const exactlyRestored = quarantined.every((q) => stack.bucketPolicies?.policy(q.bucket) === q.policy);
  say(
    `\n${ms(restoreAt - t0)}  restore: ${DEMO_OPERATOR.split('/').pop()} asks, ${DEMO_APPROVER.split('/').pop()} (a second, different person) approves`,
  );
  if (restoredEvent && restoredDetail)
    say(
      `${ms(restoredEvent.at - t0)}  grants restored: ${restoredDetail.restored} (${restoredDetail.stillHeld} still held, ${restoredDetail.skipped} skipped)` +
        quarantined
          .map(
            (q) =>
              `; quarantine statement removed from s3://${q.bucket}, policy ${exactlyRestored ? 'exactly as before' : 'NOT as before'}`,
          )
          .join(''),
    );
  say(
    args.keep
      ? `\nThe local stack stays up (Ctrl-C to stop). Inspect the incident with the CLI:\n` +
          `  export KILLSWITCH_STATE_DIR=${keptStateDir} KILLSWITCH_AS=${DEMO_OPERATOR}\n` +
          `  npx killswitch --local incident show ${incidentId}\n  npx killswitch --local status`
      : `\nIncident record: ${incidentId} — run the demo with --keep to inspect it with the CLI (npx killswitch --local incident show ${incidentId}).`,
  );

  const summary = {
    source,
    programId,
    incidentId,
    totalMs: Math.round(Math.max(delivery.lastAt, ...timeline.map(([at]) => t0 + at)) - t0),
    stateVersion: state?.version ?? null,
    collectors: { total: collectorCount, halted: halts.length },
    haltMs: { p50: round(percentile(halts, 50)), max: round(Math.max(...halts)) },
    refreshIntervalMs,
    agents: {
      total: agentCount,
      halted: agentHalts.length,
      acknowledged: acks.halted,
      known: acks.known,
      haltConfirmed: Boolean(haltConfirmed),
      /** Documents or fetches an agent refused, by reason (FETCH_FAILED: the poll got no answer in time). */
      rejections: agentStatus?.rejections ?? {},
      refreshIntervalMs: agentRefreshMs,
      /** From the flip to the paused document on the feed bucket (the publisher's rule, signing and put). */
      publishMs: publishMs === undefined ? null : round(publishMs),
      /** From the flip (the state item's changedAt) to each agent's allowed() turning false. */
      haltMs: agentHalts.length ? { p50: round(percentile(agentHalts, 50)), max: round(Math.max(...agentHalts)) } : null,
      withinTarget: agentHalts.length === agentCount && (agentCount === 0 || Math.max(...agentHalts) <= agentRefreshMs + 1000),
      feed: { requestsPerSecond: round(cdnPerSecond), originRequestsPerSecond: round(originPerSecond) },
    },
    grants: {
      revoked: revokedDetail?.revoked ?? 0,
      owners: revokedDetail?.owners ?? 0,
      restorable: (revokedDetail?.revoked ?? 0) + (revokedDetail?.alsoHeld ?? 0),
      notRevoked: revokedDetail?.notRevoked ?? 0,
      byBackend: revokedDetail?.byBackend ?? {},
      quarantined: quarantinedNow.map((q) => `s3://${q.bucket}/${q.prefix}`),
      restored: restoredDetail?.restored ?? 0,
      policiesExactlyRestored: exactlyRestored,
    },
    notices: {
      affected: noticeCounts.planned,
      sent: noticeCounts.sent,
      delivered: delivery.count,
      duplicates: delivery.duplicates,
      failed: noticeCounts.failed,
    },
  };
  // Last on stdout, and alone with --json (npm run -s keeps npm's banner out of the way).
  if (args.json) console.log(JSON.stringify(summary));
  else console.log(`\n${JSON.stringify(summary)}`);
  process.exitCode =
    halts.length === collectorCount &&
    agentHalts.length === agentCount &&
    acks.halted === agentCount &&
    exactlyRestored &&
    restoredDetail?.skipped === 0
      ? 0
      : 1;
  if (args.keep) {
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    console.error('stopping…'); // stderr: the JSON line stays the last thing on stdout
  }
} catch (error) {
  // The incident did not complete: one line saying what failed (the stack trace with --verbose).
  console.error(`demo: ${(error as Error).message}`);
  if (args.verbose) console.error(error);
  process.exitCode = 1;
} finally {
  if (keptStateDir) rmSync(join(keptStateDir, 'local.json'), { force: true });
  await stack.stop();
}

/**
 * The incident as it happens: a line when the kill switch engages, when the first and the last
 * collector and agent halt, when grants are revoked, HALT_CONFIRMED… (the recap after it gives the
 * exact times from the records). Reads only what this process already holds: no extra load.
 */
function watchIncident(
  local: LocalStack,
  collectors: { haltedAt: (number | undefined)[] },
  agents: { haltedAt: (number | undefined)[] } | undefined,
  since: number,
  line: (text: string) => void,
): { stop(): void } {
  const said = new Set<string>();
  const once = (key: string, text: string) => {
    if (!said.has(key)) {
      said.add(key);
      line(text);
    }
  };
  const EVENTS: Record<string, string> = {
    'Kill Switch Engaged': 'Kill Switch Engaged on the bus: the flag is flipped',
    'Grants Revoked': 'grants revoked (Grants Revoked on the bus)',
    'Exposure Notices Planned': 'notices planned (Exposure Notices Planned on the bus)',
  };
  const tick = () => {
    // The journal keeps the latest entries only (it drops the oldest): look for each event afresh.
    for (const [type, text] of Object.entries(EVENTS))
      if (!said.has(type) && local.bus.journal.some((j) => j.at >= since && j.event['detail-type'] === type)) once(type, text);
    for (const [name, fleet] of [
      ['collector', collectors],
      ['endpoint agent', agents],
    ] as const) {
      if (!fleet) continue;
      const halted = fleet.haltedAt.filter((t) => t !== undefined).length;
      if (halted > 0) once(`${name}-first`, `first ${name} halted`);
      if (halted >= fleet.haltedAt.length / 2 && halted < fleet.haltedAt.length)
        once(`${name}-half`, `${halted}/${fleet.haltedAt.length} ${name}s halted`);
      if (halted === fleet.haltedAt.length) once(`${name}-all`, `all ${halted} ${name}s halted`);
    }
  };
  const timer = setInterval(tick, 50);
  timer.unref(); // a failed incident must not keep the demo alive
  return {
    stop() {
      tick();
      clearInterval(timer);
    },
  };
}

/** Waits for the notices of an incident to be planned and sent, saying how far they are, with the rate, every second. */
/** Until the local stack is idle: every second, what `probe` says, when it says something new (and once more at the end). */
async function follow(
  local: LocalStack,
  probe: (seconds: number) => Promise<string | undefined>,
  line: (text: string) => void,
): Promise<void> {
  let done = false;
  const idle = local.idle().then(() => (done = true));
  const started = performance.now();
  let last: string | undefined;
  do {
    await Promise.race([idle, new Promise((r) => setTimeout(r, 1000))]);
    const text = await probe((performance.now() - started) / 1000);
    if (text && text !== last) line(text);
    last = text;
  } while (!done);
}

/** The notices of an incident being planned and sent, with the rate. */
function followNotices(local: LocalStack, incidentId: string, expected: number, line: (text: string) => void): Promise<void> {
  const ledger = new NoticeLedger(new LedgerTable(dynamoDocumentClient(), local.tables.ledger));
  return follow(
    local,
    async (seconds) => {
      const c = await ledger.counts(incidentId);
      return c.planned || c.sent
        ? `notices: ${c.planned}/${expected} planned, ${c.sent} sent (${rate(c.sent, seconds)}), ${c.failed} failed`
        : undefined;
    },
    line,
  );
}

/** The agents' acknowledgements of the paused document being counted, until HALT_CONFIRMED. */
function followAcks(
  local: LocalStack,
  programId: string,
  incidentId: string,
  expected: number,
  line: (text: string) => void,
): Promise<void> {
  const doc = dynamoDocumentClient();
  const states = new ProgramStateStore(doc, local.tables.programState);
  const acks = new DynamoAckStore(doc, local.tables.acks);
  const incidents = new IncidentLedger(new LedgerTable(doc, local.tables.ledger));
  return follow(
    local,
    async () => {
      const [c, timeline] = await Promise.all([
        acks.counts(programId, seqOf(await states.list(programId)), new Date()),
        incidents.timeline(incidentId),
      ]);
      const confirmed = timeline.some((e) => e.type === 'HALT_CONFIRMED');
      return `acknowledgements of the pause: ${c.halted}/${expected} agents${confirmed ? ' — HALT_CONFIRMED recorded in the incident' : ''}`;
    },
    line,
  );
}

/** One line about a sample finding: its type, severity and resource (never its content). */
function describeFinding(detail: unknown): string {
  const d = detail as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  if (d.findings?.[0]?.finding_info) {
    const f = d.findings[0];
    return `${String(f.severity).toUpperCase()} ${f.finding_info.types?.[0] ?? f.class_name} on ${f.resources?.[0]?.uid}`;
  }
  if (d.findings) {
    const f = d.findings[0];
    return `${f.Severity?.Label} ${f.GeneratorId ?? f.Types?.[0]} on ${f.Resources?.[0]?.Id}`;
  }
  if (d.resourcesAffected)
    return `${String(d.severity?.description).toUpperCase()} ${d.type} on s3://${d.resourcesAffected.s3Bucket?.name}`;
  return `severity ${d.severity} ${d.type} on s3://${d.resource?.s3BucketDetails?.[0]?.name}`;
}

function engagedIncidentId(local: LocalStack): string {
  const engaged = local.bus.journal.find((j) => j.event['detail-type'] === 'Kill Switch Engaged');
  if (!engaged) throw new Error('the kill switch did not engage');
  return (engaged.event.detail as { incidentId: string }).incidentId;
}

/** Receive everything the gateway queue holds; count notices and repeats per (incident, employee). */
async function drainGateway(local: LocalStack): Promise<{ count: number; duplicates: number; lastAt: number }> {
  const sqs = new SQSClient({});
  const seen = new Set<string>();
  let count = 0;
  let duplicates = 0;
  let lastAt = 0;
  for (let empty = 0; empty < 3;) {
    const out = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: local.queues[NOTICE_GATEWAY_QUEUE], MaxNumberOfMessages: 10, MessageAttributeNames: ['All'] }),
    );
    const messages = out.Messages ?? [];
    if (!messages.length) {
      empty++;
      await new Promise((r) => setTimeout(r, 20));
      continue;
    }
    empty = 0;
    lastAt = performance.now();
    for (const m of messages) {
      const body = JSON.parse(m.Body ?? '{}') as { incidentId?: string; employeeId?: string };
      const key = `${body.incidentId}/${body.employeeId}`;
      count++;
      if (seen.has(key)) duplicates++;
      seen.add(key);
    }
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: local.queues[NOTICE_GATEWAY_QUEUE],
        Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
  }
  sqs.destroy();
  return { count, duplicates, lastAt };
}

function positiveInt(value: string | undefined, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`demo: ${flag} must be a positive whole number, got "${value}" (see --help)`);
    process.exit(2);
  }
  return n;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
