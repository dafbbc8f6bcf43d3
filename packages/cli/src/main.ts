import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, CommanderError } from 'commander';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { awsTarget, localTarget, type OperatorResponse, type OperatorTarget } from './targets.ts';
import { fromCheckout } from './checkout.ts';
import { readLocalState } from './local-state.ts';
import { CliError, Exit, exitFor } from './exit-codes.ts';
import { fields, table } from './format.ts';

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: NodeJS.ProcessEnv;
}

interface Globals {
  local?: boolean;
  as?: string;
  stateDir: string;
  url?: string;
  region?: string;
  breakGlassFunction?: string;
  bus?: string;
  json?: boolean;
}

const positive = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive whole number');
  return n;
};

/** Runs the CLI; returns the exit code (0 ok, 2 bad input, 3 refused by policy, 1 failure). */
export async function main(argv: string[], io: CliIo = { out: console.log, err: console.error, env: process.env }): Promise<number> {
  let code: number = Exit.OK;
  const program = new Command('killswitch')
    .description('Stop data collection at once, see what is happening, and — with a colleague — start it again.')
    .option('--local', 'talk to the local stack started by `killswitch local up`')
    .option('--as <principal>', 'local stack only: the IAM principal the Function URL would have verified')
    .option('--state-dir <dir>', 'where `local up` keeps its state', io.env.KILLSWITCH_STATE_DIR ?? '.killswitch')
    .option('--url <url>', 'the operator Function URL (stack output OperatorUrl)', io.env.KILLSWITCH_URL)
    .option('--region <region>', 'AWS region', io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION)
    .option('--break-glass-function <name>', 'the break-glass function (stack output BreakGlassFunction)', io.env.KILLSWITCH_BREAK_GLASS_FUNCTION)
    .option('--bus <name>', 'event bus for `events send` (stack output EventBusName)', io.env.KILLSWITCH_BUS)
    .option('--json', 'machine-readable output')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  const globals = () => program.opts<Globals>();
  const target = async (): Promise<OperatorTarget> => {
    const g = globals();
    if (g.local) {
      const state = await readLocalState(g.stateDir);
      if (!g.as) throw new CliError('--local needs --as <principal> (the identity AWS would verify)', Exit.BAD_INPUT);
      return localTarget({ operatorUrl: state.endpoints.operatorUrl, lambdaEndpoint: state.endpoints.lambda, stsEndpoint: state.endpoints.sts, as: g.as, region: state.region });
    }
    if (g.as) throw new CliError('--as is accepted only with --local: in AWS your identity comes from your credentials', Exit.BAD_INPUT);
    if (!g.url) throw new CliError('no operator URL: pass --url or set KILLSWITCH_URL (the stack output OperatorUrl), or use --local', Exit.BAD_INPUT);
    if (!g.region) throw new CliError('no AWS region: pass --region or set AWS_REGION', Exit.BAD_INPUT);
    return awsTarget({ url: g.url, region: g.region, breakGlassFunction: g.breakGlassFunction });
  };
  const run = (command: Record<string, unknown>, show: (result: any) => string, via: 'url' | 'break-glass' = 'url') => // eslint-disable-line @typescript-eslint/no-explicit-any
    async () => {
      const t = await target();
      const response: OperatorResponse = via === 'break-glass' ? await t.breakGlass(command) : await t.call(command);
      if (globals().json) io.out(JSON.stringify(response.body));
      if (!response.body.ok) {
        const e = response.body.error;
        if (!globals().json) {
          io.err(`error: ${e?.message ?? `HTTP ${response.status}`}`);
          for (const issue of e?.issues ?? []) io.err(`  ${issue.path}: ${issue.message}`);
        }
        code = exitFor(e?.kind as never);
        return;
      }
      if (!globals().json) io.out(show(response.body.result));
    };

  program
    .command('status')
    .description('every scope of every program (or one), with who changed it and why')
    .option('--program <id>')
    .action((o: { program?: string }) =>
      run({ action: 'status', ...(o.program ? { programId: o.program } : {}) }, (r) =>
        table(
          r.programs.flatMap((p: { programId: string; status: string; scopes: Record<string, unknown>[] }) =>
            p.scopes.length ? p.scopes.map((s) => ({ program: p.programId, ...s })) : [{ program: p.programId, status: p.status }],
          ),
          ['program', 'scope', 'status', 'version', 'changedAt', 'by', 'why', 'incidentId'],
        ),
      )(),
    );

  program
    .command('pause')
    .description('stop collection now (always allowed)')
    .requiredOption('--program <id>')
    .option('--scope <scope>', '"*" or <dimension>#<value>', '*')
    .requiredOption('--reason <text>')
    .option('--incident <id>', 'link to an existing incident')
    .option('--dry-run', 'say what would stop and what would be revoked, and change nothing')
    .option('--break-glass', 'invoke the break-glass function directly (when the URL is unreachable); recorded as unverified')
    .action((o: { program: string; scope: string; reason: string; incident?: string; breakGlass?: boolean; dryRun?: boolean }) =>
      run(
        { action: 'pause', programId: o.program, scope: o.scope, reason: o.reason, ...(o.incident ? { incidentId: o.incident } : {}), ...(o.dryRun ? { dryRun: true } : {}) },
        (r) =>
          r.dryRun
            ? [
                `dry run: nothing changed`,
                `would stop:   ${r.wouldStop.collectors} (${r.programId}/${r.scope} is ${r.wouldStop.currentStatus} now)`,
                `would revoke: ${r.wouldRevoke.map((d: { datasetId: string; grants?: number }) => `${d.datasetId}${d.grants === undefined ? '' : ` (${d.grants} grants)`}`).join(', ')}`,
              ].join('\n')
            : `${r.outcome}: ${r.state.programId}/${r.state.scope} is ${r.state.status} at version ${r.state.version} (incident ${r.incidentId}${r.reopenedFrom ? `, continuing ${r.reopenedFrom}, which a resume had closed` : ''})`,
        o.breakGlass ? 'break-glass' : 'url',
      )(),
    );

  const resume = program.command('resume').description('two-person resume');
  resume
    .command('request')
    .requiredOption('--program <id>')
    .option('--scope <scope>', '"*" or <dimension>#<value>', '*')
    .requiredOption('--reason <text>')
    .requiredOption('--incident <id>', 'the incident this resume closes')
    .action((o: { program: string; scope: string; reason: string; incident: string }) =>
      run({ action: 'request-resume', programId: o.program, scope: o.scope, reason: o.reason, incidentId: o.incident }, (r) =>
        [`requestId ${r.request.requestId}`, `A different person approves with: killswitch resume approve --program ${o.program} --request ${r.request.requestId}`].join('\n'),
      )(),
    );
  resume
    .command('approve')
    .requiredOption('--program <id>')
    .requiredOption('--request <id>')
    .option('--reason <text>')
    .action((o: { program: string; request: string; reason?: string }) =>
      run({ action: 'approve-resume', programId: o.program, requestId: o.request, ...(o.reason ? { reason: o.reason } : {}) }, (r) =>
        r.state ? `${r.state.programId}/${r.state.scope} is ${r.state.status} at version ${r.state.version}` : `request ${r.request.requestId} ${r.request.status}`,
      )(),
    );

  const incident = program.command('incident').description('the record of an incident');
  incident
    .command('show')
    .argument('<incidentId>')
    .action((incidentId: string) =>
      run({ action: 'incident', incidentId }, (r) =>
        [
          fields([
            ['incident', r.incident.incidentId],
            ['program', `${r.incident.programId} (scope ${r.incident.scope})`],
            ['status', r.incident.status],
            ['severity', r.incident.severity],
            ['action', r.incident.action],
            ['opened', `${r.incident.openedAt} by ${r.incident.openedBy}`],
            ['datasets', r.incident.datasetIds.join(', ')],
            ['grants', r.grants],
            ['notices', r.notices],
          ]),
          '',
          table(r.timeline, ['at', 'type', 'actor', 'message']),
          '',
          table(r.audit, ['version', 'status', 'at', 'person', 'by', 'verified', 'reason']),
        ].join('\n'),
      )(),
    );
  incident
    .command('list')
    .option('--program <id>')
    .option('--limit <n>', 'how many', positive, 20)
    .action((o: { program?: string; limit: number }) =>
      run({ action: 'list-incidents', limit: o.limit, ...(o.program ? { programId: o.program } : {}) }, (r) =>
        table(r.incidents, ['incidentId', 'programId', 'scope', 'severity', 'status', 'action', 'openedAt']),
      )(),
    );

  program
    .command('notify')
    .description('tell the affected employees (planned and sent asynchronously; safe to repeat)')
    .requiredOption('--incident <id>')
    .option('--wait', 'follow progress until every notice is sent or failed')
    .option('--resend-failed', 'send the notices marked FAILED again')
    .action(async (o: { incident: string; wait?: boolean; resendFailed?: boolean }) => {
      const requestedAt = new Date().toISOString();
      await run({ action: o.resendFailed ? 'resend-failed' : 'notify', incidentId: o.incident }, () => `notices queued for ${o.incident}`)();
      if (!o.wait || code !== Exit.OK) return;
      // Planning is done once the timeline records it; sending is done when nothing waits.
      for (let i = 0; i < 1800; i++) {
        await new Promise((r) => setTimeout(r, 1000));
        const view = await (await target()).call({ action: 'incident', incidentId: o.incident });
        const r = view.body.result as { notices?: { planned: number; pending: number; sending: number; sent: number; failed: number }; timeline: { type: string; at: string }[] };
        const n = r.notices;
        if (!n) break;
        const plannedNow = r.timeline.some((t) => (t.type === 'NOTICES_PLANNED' || t.type === 'NOTICES_REQUEUED') && t.at >= requestedAt);
        if (!globals().json) io.err(`notices: ${n.sent} sent, ${n.failed} failed, ${n.pending + n.sending} waiting of ${n.planned} planned${plannedNow ? '' : ' (planning…)'}`);
        if (plannedNow && n.pending + n.sending === 0) break;
      }
    });

  const grants = program.command('grants').description('access revoked by an incident');
  grants
    .command('restore')
    .description('ask to restore the grants an incident revoked (a second person approves)')
    .requiredOption('--incident <id>')
    .requiredOption('--reason <text>')
    .action((o: { incident: string; reason: string }) =>
      run({ action: 'restore-grants', incidentId: o.incident, reason: o.reason }, (r) =>
        [`requestId ${r.request.requestId}`, `A different person approves with: killswitch grants approve --request ${r.request.requestId}`].join('\n'),
      )(),
    );
  grants
    .command('approve')
    .requiredOption('--request <id>')
    .action((o: { request: string }) =>
      run({ action: 'approve-restore-grants', requestId: o.request }, (r) => `restore ${r.request.requestId} approved; running (see: killswitch incident show ${r.request.incidentId})`)(),
    );

  program
    .command('events')
    .description('put events on the bus')
    .command('send')
    .description('put an event on the bus exactly as a detector or AWS would (a PutEvents entry or an EventBridge event)')
    .requiredOption('--file <path>')
    .action(async (o: { file: string }) => {
      const g = globals();
      let raw: Record<string, unknown>;
      try {
        raw = JSON.parse(readFileSync(o.file, 'utf8')) as Record<string, unknown>;
      } catch (error) {
        throw new CliError(`cannot read ${o.file}: ${(error as Error).message}`, Exit.BAD_INPUT);
      }
      const local = g.local ? await readLocalState(g.stateDir) : undefined;
      const rawSource = String(raw.Source ?? raw.source ?? '');
      if (rawSource.startsWith('aws.')) {
        // AWS services put their own events on the default bus; PutEvents refuses "aws." sources.
        if (!local) throw new CliError(`${o.file}: "${rawSource}" events are put on the default bus by AWS itself; only the local stack (--local) can play that part`, Exit.BAD_INPUT);
        if (raw['detail-type'] === undefined || raw.detail === undefined) throw new CliError(`${o.file}: an AWS service event needs the whole EventBridge event (source, detail-type, detail, …)`, Exit.BAD_INPUT);
        const response = await fetch(local.endpoints.eventbridge, {
          method: 'POST',
          headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': (await fromCheckout('events send --local', () => import('../../../local/event-bus.ts'))).LOCAL_SERVICE_EVENT_TARGET },
          body: JSON.stringify(raw),
        });
        const result = (await response.json()) as { EventId?: string; message?: string };
        if (!response.ok) throw new CliError(`${o.file}: ${result.message ?? response.status}`, Exit.BAD_INPUT);
        if (g.json) io.out(JSON.stringify(result));
        else io.out(`event ${result.EventId} put on default (as ${rawSource})`);
        return;
      }
      const entry = {
        Source: (raw.Source ?? raw.source) as string,
        DetailType: (raw.DetailType ?? raw['detail-type']) as string,
        Detail: typeof raw.Detail === 'string' ? raw.Detail : JSON.stringify(raw.Detail ?? raw.detail),
        EventBusName: (raw.EventBusName as string | undefined) ?? g.bus ?? local?.busName,
        Resources: (raw.Resources ?? raw.resources) as string[] | undefined,
      };
      if (!entry.Source || !entry.DetailType || !entry.Detail) throw new CliError(`${o.file}: needs source, detail-type and detail`, Exit.BAD_INPUT);
      const client = local
        ? new EventBridgeClient({ region: local.region, endpoint: local.endpoints.eventbridge, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } })
        : new EventBridgeClient({ region: g.region });
      const out = await client.send(new PutEventsCommand({ Entries: [entry] }));
      const result = out.Entries?.[0];
      if (g.json) io.out(JSON.stringify(result));
      else if (result?.EventId) io.out(`event ${result.EventId} put on ${entry.EventBusName ?? 'default'}`);
      if (out.FailedEntryCount) {
        if (!g.json) io.err(`error: ${result?.ErrorCode} ${result?.ErrorMessage ?? ''}`);
        code = Exit.BAD_INPUT;
      }
    });

  const local = program.command('local').description('the embedded stack, on this machine');
  local
    .command('up')
    .description('run dynalite, fauxqs, the local bus and every function in the foreground until Ctrl-C')
    .action(async () => (await fromCheckout('local up', () => import('./local.ts'))).localUp(globals().stateDir, io.out));
  local
    .command('seed')
    .description('load the sample program, grants and employees into the running local stack')
    .option('--employees <n>', 'employees whose data is in the datasets', positive, 2000)
    .option('--readers <n>', 'analyst grants per dataset', positive, 20)
    .action(async (o: { employees: number; readers: number }) => {
      const { localSeed } = await fromCheckout('local seed', () => import('./local.ts'));
      const seeded = await localSeed(globals().stateDir, { employees: o.employees, readers: o.readers });
      io.out(globals().json ? JSON.stringify(seeded) : `seeded: ${seeded.grants} grants, ${seeded.subjects} data-subject rows, programs registered: ${seeded.programs.join(', ') || '(already)'}`);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? Exit.OK : Exit.BAD_INPUT;
    if (error instanceof CliError) {
      io.err(`error: ${error.message}`);
      return error.exitCode;
    }
    io.err(`error: ${(error as Error).message}`);
    return Exit.FAILURE;
  }
}
