import { Option, type Command } from 'commander';
import type { CliContext } from '../context.ts';
import { given, positive, since } from '../options.ts';
import { acknowledged, fields, table } from '../format.ts';
import { remainingText } from '../../../../shared/domain/breach-clock.ts';

/** `incident show` and `incident list`: the record of incidents. */
export function register(program: Command, cli: CliContext): void {
  const incident = program.command('incident').description('the record of an incident');
  incident
    .command('show')
    .description('one incident: what paused, the timeline, the audit trail, grants, notices, agents')
    .argument('<incidentId>', 'the incident (see: killswitch incident list)')
    .addHelpText(
      'after',
      '\nExamples:\n  killswitch incident show inc-20261127-5b40bfcd731b\n  killswitch incident show inc-20261127-5b40bfcd731b -o yaml',
    )
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
            [
              'grants',
              r.grants &&
                `${r.grants.revoked} revoked${r.grants.alsoHeld ? ` (${r.grants.alsoHeld} more already revoked by another incident)` : ''}${r.grants.restored ? `; ${r.grants.restored} restored since` : ''}`,
            ],
            ['notices', r.notices],
            ['agents', acknowledged(r.acknowledgements)],
            // An operator function older than the CLI answers without it.
            ['aware', r.breach && `${r.breach.awareAt} (the incident's opening: GDPR Art. 33 counts from here)`],
            [
              'authority',
              !r.breach
                ? undefined
                : r.breach.status === 'UNDECIDED'
                  ? `no decision — due ${r.breach.dueAt}, ${remainingText(r.breach.remainingMs ?? 0)}`
                  : r.breach.status === 'NOTIFIED'
                    ? `notified ${r.breach.notifiedAt}${r.breach.late ? ' (after the 72 hours)' : ''}; ${r.breach.decisions.length} decision(s) recorded`
                    : 'not notifiable (documented, Art. 33(5))',
            ],
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
    .description('incidents, most recent first')
    .option('--program <id>', 'only this program')
    .addOption(new Option('--status <status>', 'only OPEN or RESOLVED incidents').choices(['OPEN', 'RESOLVED']))
    .addOption(new Option('--severity <level>', 'only incidents at least this severe').choices(['LOW', 'MEDIUM', 'HIGH', 'CRITICAL']))
    .option('--since <when>', 'only incidents opened since: an ISO 8601 time, or a duration back from now (30m, 24h, 7d)', (v: string) =>
      since(v),
    )
    .option('--limit <n>', 'how many', positive, 20)
    .addHelpText('after', '\nExample:\n  killswitch incident list --status OPEN --severity HIGH --since 7d')
    .action(
      (o: {
        program?: string;
        status?: 'OPEN' | 'RESOLVED';
        severity?: 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL';
        since?: string;
        limit: number;
      }) =>
        cli.run(
          { action: 'list-incidents', limit: o.limit, programId: given(o.program), status: o.status, severity: o.severity, since: o.since },
          (r) => table(r.incidents, ['incidentId', 'programId', 'scope', 'severity', 'status', 'action', 'openedAt']),
        ),
    );
}
