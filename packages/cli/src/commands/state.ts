import type { Command } from 'commander';
import type { CliContext, Show } from '../context.ts';
import type { CommandFor } from '../targets.ts';
import type { ScopeView, StatusView } from '../../../../shared/killswitch/views.ts';
import { given } from '../options.ts';
import { acknowledged, table } from '../format.ts';

/** `status`, and `pause` (through the Function URL, or break-glass): the flag of each program scope. */
export function register(program: Command, cli: CliContext): void {
  program
    .command('status')
    .description('every scope of every program (or one), with who changed it and why')
    .option('--program <id>')
    .action((o: { program?: string }) => cli.run({ action: 'status', programId: given(o.program) }, showStatus));

  program
    .command('pause')
    .description('stop collection now (always allowed)')
    .requiredOption('--program <id>')
    .option('--scope <scope>', '"*" or <dimension>#<value>', '*')
    .requiredOption('--reason <text>')
    .option('--incident <id>', 'link to an existing incident')
    .option('--dry-run', 'say what would stop and what would be revoked, and change nothing')
    .option('--break-glass', 'invoke the break-glass function directly (when the URL is unreachable); recorded as unverified')
    .action(async (o: { program: string; scope: string; reason: string; incident?: string; breakGlass?: boolean; dryRun?: boolean }) => {
      const command: CommandFor<'pause'> = {
        action: 'pause',
        programId: o.program,
        scope: o.scope,
        reason: o.reason,
        incidentId: given(o.incident),
        dryRun: o.dryRun,
      };
      const target = await cli.target();
      cli.answer(await (o.breakGlass ? target.breakGlass(command) : target.call(command)), showPause);
    });
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
    .join('');

const showPause: Show<'pause'> = (r) =>
  'dryRun' in r
    ? [
        `dry run: nothing changed`,
        `would stop:   ${r.wouldStop.collectors} (${r.programId}/${r.scope} is ${r.wouldStop.currentStatus} now)`,
        `would revoke: ${r.wouldRevoke.map((d) => `${d.datasetId}${d.grants === undefined ? '' : ` (${d.grants} grants)`}`).join(', ')}`,
      ].join('\n')
    : `${r.outcome}: ${r.state.programId}/${r.state.scope} is ${r.state.status} at version ${r.state.version} (incident ${r.incidentId}${r.reopenedFrom ? `, continuing ${r.reopenedFrom}, which a resume had closed` : ''})`;
