import type { Command } from 'commander';
import type { CliContext } from '../context.ts';

/** `grants restore` and `grants approve`: the two-person restore of the access an incident revoked. */
export function register(program: Command, cli: CliContext): void {
  const grants = program.command('grants').description('access revoked by an incident');
  grants
    .command('restore')
    .description('ask to restore the grants an incident revoked (a second person approves)')
    .requiredOption('--incident <id>')
    .requiredOption('--reason <text>')
    .action((o: { incident: string; reason: string }) =>
      cli.run({ action: 'restore-grants', incidentId: o.incident, reason: o.reason }, (r) =>
        [
          `requestId ${r.request.requestId}`,
          `A different person approves with: killswitch grants approve --request ${r.request.requestId}`,
        ].join('\n'),
      ),
    );
  grants
    .command('approve')
    .requiredOption('--request <id>')
    .action((o: { request: string }) =>
      cli.run(
        { action: 'approve-restore-grants', requestId: o.request },
        (r) => `restore ${r.request.requestId} approved; running (see: killswitch incident show ${r.request.incidentId})`,
      ),
    );
}
