import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { given } from '../options.ts';

/** `resume request` and `resume approve`: the two-person resume. */
export function register(program: Command, cli: CliContext): void {
  const resume = program.command('resume').description('two-person resume');
  resume
    .command('request')
    .requiredOption('--program <id>')
    .option('--scope <scope>', '"*" or <dimension>#<value>', '*')
    .requiredOption('--reason <text>')
    .requiredOption('--incident <id>', 'the incident this resume closes')
    .action((o: { program: string; scope: string; reason: string; incident: string }) =>
      cli.run({ action: 'request-resume', programId: o.program, scope: o.scope, reason: o.reason, incidentId: o.incident }, (r) =>
        [
          `requestId ${r.request.requestId}`,
          `A different person approves with: killswitch resume approve --program ${o.program} --request ${r.request.requestId}`,
        ].join('\n'),
      ),
    );
  resume
    .command('approve')
    .requiredOption('--program <id>')
    .requiredOption('--request <id>')
    .option('--reason <text>')
    .action((o: { program: string; request: string; reason?: string }) =>
      cli.run({ action: 'approve-resume', programId: o.program, requestId: o.request, reason: given(o.reason) }, (r) =>
        r.state
          ? `${r.state.programId}/${r.state.scope} is ${r.state.status} at version ${r.state.version}`
          : `request ${r.request.requestId} ${r.request.status}`,
      ),
    );
}
