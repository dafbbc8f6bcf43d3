import { Option, type Command } from 'commander';
import type { CliContext, Show } from '../context.ts';
import type { CommandFor } from '../targets.ts';
import type { RequestSummary, ScopeView, StatusView } from '../../../../shared/killswitch/views.ts';
import { given, positive } from '../options.ts';
import { CliError, Exit } from '../exit-codes.ts';
import { acknowledged, age, table } from '../format.ts';
import { remainingText } from '../../../../shared/domain/breach-clock.ts';

/** `status`, and `pause` (through the Function URL, or break-glass): the flag of each program scope. */
export function register(program: Command, cli: CliContext): void {
  program
    .command('status')
    .description('every scope of every program (or one), with who changed it and why, and the requests waiting for a second person')
    .option('--program <id>', 'only this program')
    .option('--watch [seconds]', 'show it again every few seconds (default 2) until Ctrl-C; -o json prints one line each time', positive)
    .option('--count <n>', 'with --watch: stop after this many', positive)
    .addHelpText(
      'after',
      '\nExamples:\n  killswitch status\n  killswitch status --program keystrokes --watch\n  killswitch status -o json | jq .result.programs',
    )
    .action(async (o: { program?: string; watch?: number | true; count?: number }) => {
      const command: CommandFor<'status'> = { action: 'status', programId: given(o.program) };
      if (o.watch === undefined) {
        if (o.count !== undefined) throw new CliError('--count goes with --watch', Exit.BAD_INPUT);
        return cli.run(command, showStatus);
      }
      const every = o.watch === true ? 2 : o.watch;
      const people = cli.globals().output === 'table';
      const target = await cli.target();
      for (let i = 0; o.count === undefined || i < o.count; i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, every * 1000));
        const response = await target.call(command);
        if (people) cli.io.out(`${i > 0 ? '\n' : ''}${new Date().toISOString()}  every ${every} s (Ctrl-C to stop)`);
        // YAML: a stream of documents; JSON: one line each.
        else if (cli.globals().output === 'yaml') cli.io.out('---');
        if (!cli.answer(response, showStatus)) return;
      }
    });

  program
    .command('pause')
    .description('stop collection now (always allowed; one person is enough)')
    .requiredOption('--program <id>', 'the program to stop (required)')
    .option('--scope <scope>', 'the whole program, "*", or one <dimension>#<value> it declares', '*')
    .option('--reason <text>', 'why, for the record (this or --reason-file is required)')
    .option('--reason-file <path>', 'read the reason from a file, or - for stdin')
    .option('--incident <id>', 'link to an existing incident')
    .option('--dry-run', 'say what would stop and what would be revoked, and change nothing')
    .option('--break-glass', 'invoke the break-glass function directly (when the URL is unreachable); recorded as unverified')
    .addHelpText(
      'after',
      '\nExamples:\n  killswitch pause --program keystrokes --reason "dataset readable by all analysts"\n  killswitch pause --program keystrokes --scope region#eu-west-1 --reason-file - < note.txt\n  killswitch pause --program keystrokes --reason "API down" --break-glass',
    )
    .action(
      async (o: {
        program: string;
        scope: string;
        reason?: string;
        reasonFile?: string;
        incident?: string;
        breakGlass?: boolean;
        dryRun?: boolean;
      }) => {
        const command: CommandFor<'pause'> = {
          action: 'pause',
          programId: o.program,
          scope: o.scope,
          reason: cli.reason(o, true),
          incidentId: given(o.incident),
          dryRun: o.dryRun,
        };
        const target = await cli.target();
        cli.answer(await (o.breakGlass ? target.breakGlass(command) : target.call(command)), showPause);
      },
    );
}

/** One row per scope; a program with none (not registered) gets one row with its status. */
type StatusRow = ({ program: string } & ScopeView) | { program: string; status: StatusView['programs'][number]['status'] };
const showStatus: Show<'status'> = (r) =>
  table(
    r.programs.flatMap((p): StatusRow[] =>
      p.scopes.length ? p.scopes.map((s) => ({ program: p.programId, ...s })) : [{ program: p.programId, status: p.status }],
    ),
    ['program', 'scope', 'status', 'version', 'changedAt', 'by', 'why', 'incidentId'],
  ) +
  r.programs
    .filter((p) => p.acknowledgements)
    .map((p) => `\nagents of ${p.programId}: ${acknowledged(p.acknowledgements)}`)
    .join('') +
  r.programs
    .filter((p) => p.pending?.length)
    .map((p) => `\n\nwaiting for a second person (${p.programId}):\n${showRequests(p.pending!)}`)
    .join('') +
  r.programs
    .filter((p) => p.deadlines?.length)
    .map(
      (p) =>
        `\n\nwaiting for a supervisory-authority decision (GDPR Art. 33, ${p.programId}):\n` +
        table(
          p.deadlines!.map((d) => ({ incidentId: d.incidentId, dueAt: d.dueAt, remaining: remainingText(d.remainingMs) })),
          ['incidentId', 'dueAt', 'remaining'],
        ),
    )
    .join('');

const showPause: Show<'pause'> = (r) =>
  'dryRun' in r
    ? [
        `dry run: nothing changed`,
        `would stop:   ${r.wouldStop.collectors} (${r.programId}/${r.scope} is ${r.wouldStop.currentStatus} now)`,
        `would revoke: ${r.wouldRevoke.map((d) => `${d.datasetId}${d.grants === undefined ? '' : ` (${d.grants} grants)`}`).join(', ')}`,
      ].join('\n')
    : `${r.outcome}: ${r.state.programId}/${r.state.scope} is ${r.state.status} at version ${r.state.version} (incident ${r.incidentId}${r.reopenedFrom ? `, continuing ${r.reopenedFrom}, which a resume had closed` : ''})`;

/** `resume list` and `grants requests`: one kind of two-person request, by default those still pending. */
export function listRequests(
  parent: Command,
  cli: CliContext,
  name: string,
  kind: NonNullable<CommandFor<'list-requests'>['kind']>,
  description: string,
): void {
  parent
    .command(name)
    .description(description)
    .option('--program <id>', 'only this program')
    .addOption(new Option('--status <status>', 'which requests').choices(['PENDING', 'APPROVED', 'REJECTED']).default('PENDING'))
    .option('--limit <n>', 'how many', positive, 50)
    .action((o: { program?: string; status: 'PENDING' | 'APPROVED' | 'REJECTED'; limit: number }) =>
      cli.run({ action: 'list-requests', kind, programId: given(o.program), status: o.status, limit: o.limit }, (r) =>
        showRequests(r.requests),
      ),
    );
}

/** Two-person requests, with how long each has waited and the command that decides it. */
export function showRequests(requests: readonly RequestSummary[], now: Date = new Date()): string {
  return table(
    requests.map((r) => ({
      ...r,
      what: r.kind === 'RESUME' ? `resume ${r.scope}` : 'restore grants',
      age: age(r.requestedAt, now),
      approve:
        r.status !== 'PENDING'
          ? undefined
          : r.kind === 'RESUME'
            ? `killswitch resume approve --program ${r.programId} --request ${r.requestId}`
            : `killswitch grants approve --request ${r.requestId}`,
    })),
    ['requestId', 'what', 'incidentId', 'requestedBy', 'age', 'status', 'reason', 'approve'],
  );
}
