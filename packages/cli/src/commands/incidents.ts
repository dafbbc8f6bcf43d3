import { writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { CliError, Exit, exitFor } from '../exit-codes.ts';
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
    .command('report')
    .description(
      'the incident report: summary, exposure, a timeline picture, numbers, approvals, authority decisions, notices, integrity proof',
    )
    .argument('<incidentId>', 'the incident (see: killswitch incident list)')
    .option('--out <file>', 'write the report to this file (a PDF needs it unless stdout is not a terminal)')
    .addHelpText(
      'after',
      [
        '',
        'Formats: -o md (Markdown, the default), -o html (one self-contained page), -o pdf, or -o json|yaml (the data).',
        '',
        'Examples:',
        '  killswitch incident report inc-20261127-5b40bfcd731b -o pdf --out incident.pdf',
        '  killswitch incident report inc-20261127-5b40bfcd731b -o html > incident.html',
      ].join('\n'),
    )
    .action(async (incidentId: string, o: { out?: string }) => {
      const output = cli.globals().output;
      if (output === 'csv') throw new CliError('incident report writes md, html, pdf, json or yaml, not csv', Exit.BAD_INPUT);
      const format = output === 'table' ? 'md' : output;
      if (format === 'pdf' && !o.out && process.stdout.isTTY)
        throw new CliError('a PDF is not for a terminal: pass --out <file>, or redirect stdout to a file', Exit.BAD_INPUT);
      const response = await (await cli.target()).call({ action: 'report', incidentId });
      if (format === 'json' || format === 'yaml') {
        cli.answer(response, () => '');
        return;
      }
      if (!response.body.ok) {
        cli.fail(response.body.error);
        cli.exitCode = exitFor(response.body.error.kind);
        return;
      }
      const { reportDocument, reportHtml, reportMarkdown } = await import('../documents/report.ts');
      const doc = reportDocument(response.body.result);
      const bytes =
        format === 'pdf'
          ? await (await import('../documents/report-pdf.ts')).reportPdf(doc)
          : Buffer.from(format === 'html' ? reportHtml(doc) : reportMarkdown(doc), 'utf8');
      if (o.out) {
        writeFileSync(o.out, bytes);
        cli.progress(`report written to ${o.out} (${bytes.length.toLocaleString('en')} bytes, ${format})`);
      } else if (cli.io.write) cli.io.write(bytes);
      else cli.io.out(bytes.toString('utf8').trimEnd());
    });
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
