import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { Exit } from '../exit-codes.ts';
import { fields, table } from '../format.ts';

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
