import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { listRequests } from './state.ts';

/** `resume request` and `resume approve`: the two-person resume. */
export function register(program: Command, cli: CliContext): void {
  const resume = program.command('resume').description('start collection again: one person asks, a different person approves');
  resume
    .command('request')
    .description('ask to resume a paused scope (a different person approves)')
    .requiredOption('--program <id>', 'the paused program (required)')
    .option('--scope <scope>', 'the whole program, "*", or one <dimension>#<value>', '*')
    .requiredOption('--incident <id>', 'the incident this resume closes (required)')
    .option('--reason <text>', 'why it is safe to collect again (this or --reason-file is required)')
    .option('--reason-file <path>', 'read the reason from a file, or - for stdin')
    .addHelpText(
      'after',
      '\nExample:\n  killswitch resume request --program keystrokes --incident inc-… --reason "grants fixed, see CHG-1234"',
    )
    .action((o: { program: string; scope: string; reason?: string; reasonFile?: string; incident: string }) =>
      cli.run(
        { action: 'request-resume', programId: o.program, scope: o.scope, reason: cli.reason(o, true), incidentId: o.incident },
        (r) =>
          [
            `requestId ${r.request.requestId}`,
            `A different person approves with: killswitch resume approve --program ${o.program} --request ${r.request.requestId}`,
          ].join('\n'),
      ),
    );
  listRequests(
    resume,
    cli,
    'list',
    'RESUME',
    'requests waiting for a second person (or, with --status, decided ones), with who asked and how long ago',
  );
  resume
    .command('approve')
    .description('approve a resume someone else asked for: the scope collects again')
    .requiredOption('--program <id>', 'the program (required)')
    .requiredOption('--request <id>', 'the request id (see: killswitch resume list) (required)')
    .option('--reason <text>', 'why you approve, for the record')
    .option('--reason-file <path>', 'read the reason from a file, or - for stdin')
    .action((o: { program: string; request: string; reason?: string; reasonFile?: string }) =>
      cli.run({ action: 'approve-resume', programId: o.program, requestId: o.request, reason: cli.reason(o, false) }, (r) =>
        r.state
          ? `${r.state.programId}/${r.state.scope} is ${r.state.status} at version ${r.state.version}`
          : `request ${r.request.requestId} ${r.request.status}`,
      ),
    );
}
