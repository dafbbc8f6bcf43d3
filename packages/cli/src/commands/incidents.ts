import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { given, positive } from '../options.ts';
import { acknowledged, fields, table } from '../format.ts';

/** `incident show` and `incident list`: the record of incidents. */
export function register(program: Command, cli: CliContext): void {
  const incident = program.command('incident').description('the record of an incident');
  incident
    .command('show')
    .argument('<incidentId>')
    .action((incidentId: string) =>
      cli.run({ action: 'incident', incidentId }, (r) =>
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
            ['agents', acknowledged(r.acknowledgements)],
          ]),
          '',
          table(r.timeline, ['at', 'type', 'actor', 'message']),
          '',
          table(r.audit, ['version', 'status', 'at', 'person', 'by', 'verified', 'reason']),
        ].join('\n'),
      ),
    );
  incident
    .command('list')
    .option('--program <id>')
    .option('--limit <n>', 'how many', positive, 20)
    .action((o: { program?: string; limit: number }) =>
      cli.run({ action: 'list-incidents', limit: o.limit, programId: given(o.program) }, (r) =>
        table(r.incidents, ['incidentId', 'programId', 'scope', 'severity', 'status', 'action', 'openedAt']),
      ),
    );
}
