import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { listRequests } from './state.ts';

/** `grants restore` and `grants approve`: the two-person restore of the access an incident revoked. */
export function register(program: Command, cli: CliContext): void {
  const grants = program.command('grants').description('access revoked by an incident: restore it, with a second person');
  grants
    .command('restore')
    .description('ask to restore the grants an incident revoked (a second person approves)')
    .requiredOption('--incident <id>', 'the incident whose revocations to undo (required)')
    .option('--reason <text>', 'why the access is safe again (this or --reason-file is required)')
    .option('--reason-file <path>', 'read the reason from a file, or - for stdin')
    .addHelpText(
      'after',
      '\nExample:\n  killswitch grants restore --incident inc-20261127-5b40bfcd731b --reason "audience verified by the data owner"',
    )
    .action((o: { incident: string; reason?: string; reasonFile?: string }) =>
      cli.run({ action: 'restore-grants', incidentId: o.incident, reason: cli.reason(o, true) }, (r) =>
        [
          `requestId ${r.request.requestId}`,
          `A different person approves with: killswitch grants approve --request ${r.request.requestId}`,
        ].join('\n'),
      ),
    );
  listRequests(grants, cli, 'requests', 'RESTORE_GRANTS', 'grant restores waiting for a second person (or, with --status, decided ones)');
  grants
    .command('approve')
    .description('approve a restore someone else asked for: the revoked grants are put back exactly')
    .requiredOption('--request <id>', 'the request id (see: killswitch grants requests) (required)')
    .option('--reason <text>', 'why you approve, for the record')
    .option('--reason-file <path>', 'read the reason from a file, or - for stdin')
    .action((o: { request: string; reason?: string; reasonFile?: string }) =>
      cli.run(
        { action: 'approve-restore-grants', requestId: o.request, reason: cli.reason(o, false) },
        (r) => `restore ${r.request.requestId} approved; running (see: killswitch incident show ${r.request.incidentId})`,
      ),
    );
}
