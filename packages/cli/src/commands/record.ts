import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { fields, isDocument, table } from '../format.ts';
import { CliError, Exit, exitFor } from '../exit-codes.ts';
import { given, since } from '../options.ts';

/** `authority notified|update|not-notifiable`: an incident's GDPR Art. 33 decision, recorded in its timeline. */
export function registerAuthority(program: Command, cli: CliContext): void {
  const authority = program
    .command('authority')
    .description('GDPR Art. 33: record that the supervisory authority was notified, an update, or that a breach is not notifiable');
  const common = (c: Command) =>
    c
      .requiredOption('--incident <id>', 'the incident (required)')
      .option('--at <time>', 'when it happened, ISO 8601 (default: now)')
      .option('--reason <text>', 'the reason (see the command)')
      .option('--reason-file <path>', 'read the reason from a file, or - for stdin');
  const send = (
    decision: 'notified' | 'update' | 'not-notifiable',
    o: { incident: string; at?: string; reason?: string; reasonFile?: string; authority?: string; reference?: string },
  ) => {
    const reason = cli.reason(o, false);
    return cli.run(
      {
        action: 'authority',
        incidentId: o.incident,
        decision,
        ...(o.authority ? { authority: o.authority } : {}),
        ...(o.reference ? { reference: o.reference } : {}),
        ...(o.at ? { at: o.at } : {}),
        ...(reason ? { reason } : {}),
      },
      (r) =>
        [
          `${r.recorded ? 'recorded' : 'already recorded'}: ${r.decision} for ${r.incidentId}`,
          fields([
            ['authority', r.clock.status],
            ['aware', r.clock.awareAt],
            ['due', r.clock.dueAt],
            ['notified', r.clock.notifiedAt && `${r.clock.notifiedAt}${r.clock.late ? ' (after the 72 hours)' : ''}`],
          ]),
        ].join('\n'),
    );
  };
  common(
    authority
      .command('notified')
      .description('the supervisory authority was notified (after 72 h, --reason gives the reasons for the delay)')
      .requiredOption('--authority <name>', 'which authority, for example ICO, CNIL, BfDI (required)')
      .requiredOption('--reference <id>', "the authority's reference for the notification (required)"),
  )
    .addHelpText(
      'after',
      '\nExample:\n  killswitch authority notified --incident inc-20261127-5b40bfcd731b --authority ICO --reference IC-123456-A1B2',
    )
    .action((o: { incident: string; authority: string; reference: string; at?: string; reason?: string; reasonFile?: string }) =>
      send('notified', o),
    );
  common(
    authority
      .command('update')
      .description('information sent to the authority in a later phase (Art. 33(4)); --reason says what it adds (required)')
      .option('--reference <id>', "the authority's reference, if it gave a new one"),
  )
    .addHelpText(
      'after',
      '\nExample:\n  killswitch authority update --incident inc-20261127-5b40bfcd731b --reason "212 data subjects confirmed"',
    )
    .action((o: { incident: string; reference?: string; at?: string; reason?: string; reasonFile?: string }) => send('update', o));
  common(
    authority
      .command('not-notifiable')
      .description('documented as unlikely to result in a risk (Art. 33(1)); --reason says why (required)'),
  )
    .addHelpText(
      'after',
      '\nExample:\n  killswitch authority not-notifiable --incident inc-20261127-5b40bfcd731b --reason "only pseudonymised ids were visible"',
    )
    .action((o: { incident: string; at?: string; reason?: string; reasonFile?: string }) => send('not-notifiable', o));
}

/** `register export`: the breach register (GDPR Art. 33(5)), as CSV for a spreadsheet or JSON/YAML with every decision. */
export function registerRegister(program: Command, cli: CliContext): void {
  program
    .command('register')
    .description('the breach register (GDPR Art. 33(5)): every incident, notified or not')
    .command('export')
    .description('every incident opened in a period: facts, data and people, consequences, measures and their times, decisions and reasons')
    .option('--since <when>', 'incidents opened since: an ISO 8601 time, or a duration back from now (30d, 24h)', (v: string) => since(v))
    .option('--until <when>', 'incidents opened until: an ISO 8601 time, or a duration back from now', (v: string) => since(v))
    .option('--program <id>', 'only this program')
    .addHelpText(
      'after',
      [
        '',
        'Formats: -o csv (one row per incident), -o json or -o yaml (every field and decision), or a table.',
        '',
        'Examples:',
        '  killswitch register export --since 365d -o csv > breach-register.csv',
        '  killswitch register export --since 2026-01-01T00:00:00Z -o json',
      ].join('\n'),
    )
    .action(async (o: { since?: string; until?: string; program?: string }) => {
      const output = cli.globals().output;
      if (isDocument(output) && output !== 'csv')
        throw new CliError(`register export writes csv, json, yaml or a table, not ${output}`, Exit.BAD_INPUT);
      const response = await (
        await cli.target()
      ).call({
        action: 'register',
        ...(o.since ? { since: o.since } : {}),
        ...(o.until ? { until: o.until } : {}),
        ...(given(o.program) ? { programId: o.program } : {}),
      });
      if (output === 'csv') {
        if (!response.body.ok) {
          cli.fail(response.body.error);
          cli.exitCode = exitFor(response.body.error.kind);
          return;
        }
        const { registerCsv } = await import('../documents/register-csv.ts');
        cli.io.out(registerCsv(response.body.result).trimEnd());
        if (response.body.result.truncated) {
          cli.io.err(
            `error: the period holds more than ${response.body.result.entries.length} incidents; this file stops at ${response.body.result.entries.at(-1)?.openedAt ?? 'its start'}: export the rest with --since after that time`,
          );
          cli.exitCode = Exit.FAILURE;
        }
        return;
      }
      cli.answer(response, (r) =>
        [
          table(
            r.entries.map((e) => ({
              incidentId: e.incidentId,
              program: e.programId,
              severity: e.severity,
              opened: e.openedAt,
              subjects: e.dataSubjects,
              authority: e.authority.status + (e.authority.late ? ' (late)' : ''),
              due: e.authority.dueAt,
            })),
            ['incidentId', 'program', 'severity', 'opened', 'subjects', 'authority', 'due'],
          ),
          r.truncated ? '\n(more incidents in this period than one export holds: narrow --since/--until)' : '',
        ].join(''),
      );
    });
}

/** `verify`: the ledger's integrity proof for one incident. */
export function registerVerify(program: Command, cli: CliContext): void {
  program
    .command('verify')
    .description("recompute an incident's hash chains (timeline, audit trail) against the heads exported to Object Lock")
    .argument('<incidentId>', 'the incident (see: killswitch incident list)')
    .addHelpText(
      'after',
      [
        '',
        'Exit status: 0 when every link holds, 1 when a link is broken or records wait to be sealed.',
        '',
        'Example:',
        '  killswitch verify inc-20261127-5b40bfcd731b',
      ].join('\n'),
    )
    .action(async (incidentId: string) => {
      const response = await (await cli.target()).call({ action: 'verify', incidentId });
      const ok = cli.answer(response, (r) =>
        [
          fields([
            ['incident', r.incidentId],
            ['integrity', r.status],
            ['record', r.record && `${r.record.status}: ${r.record.detail}`],
            [
              'anchors',
              r.anchors
                ? `${r.anchors.location} (Object Lock: ${r.anchors.objectLock}${r.anchors.retentionDays ? `, ${r.anchors.retentionDays} days` : ''})`
                : 'not exported by this deployment',
            ],
            ['note', r.anchors?.note],
          ]),
          '',
          table(
            r.chains.map((c) => ({
              chain: c.chainId,
              status: c.status,
              records: c.records,
              sealed: c.sealed,
              anchors: c.anchorsChecked,
              head: c.head ? `${c.head.seq}:${c.head.hash.slice(0, 16)}…` : '-',
            })),
            ['chain', 'status', 'records', 'sealed', 'anchors', 'head'],
          ),
          ...r.chains
            .filter((c) => c.broken)
            .map(
              (c) =>
                `\n${c.chainId}: first broken link — ${c.broken!.problem}${c.broken!.seq ? ` at place ${c.broken!.seq}` : ''}${c.broken!.sk ? ` (${c.broken!.sk})` : ''}: ${c.broken!.detail}`,
            ),
          ...r.chains
            .filter((c) => c.unsealed.length)
            .map((c) => `\n${c.chainId}: ${c.unsealed.length} record(s) not sealed yet: ${c.unsealed.join(', ')}`),
        ].join('\n'),
      );
      if (ok && response.body.ok && response.body.result.status !== 'VERIFIED') cli.exitCode = Exit.FAILURE;
    });
}
