import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { Option } from 'commander';
import { CliError } from '../exit-codes.ts';
import { fields } from '../format.ts';

/** `notify` (and `notify --resend-failed`): the notices to the affected employees, optionally followed until sent. */
export function register(program: Command, cli: CliContext): void {
  program
    .command('notify')
    .description('tell the affected employees (planned and sent asynchronously; safe to repeat)')
    .requiredOption('--incident <id>', 'the incident whose affected employees to tell (required)')
    .option('--wait', 'follow progress until every notice is sent or failed')
    .option('--resend-failed', 'send the notices marked FAILED again')
    .addOption(
      new Option(
        '--type <type>',
        'which notice: the exposure notice, an update (what changed since), or resolved (once the incident is closed)',
      )
        .choices(['exposure', 'update', 'resolved'])
        .default('exposure'),
    )
    .addHelpText(
      'after',
      '\nExamples:\n  killswitch notify --incident inc-20261127-5b40bfcd731b --wait\n  killswitch notify --incident inc-20261127-5b40bfcd731b --type resolved\n  killswitch notify --incident inc-20261127-5b40bfcd731b --resend-failed',
    )
    .action(async (o: { incident: string; wait?: boolean; resendFailed?: boolean; type: 'exposure' | 'update' | 'resolved' }) => {
      const requestedAt = new Date().toISOString();
      const target = await cli.target();
      const response = await target.call({
        action: o.resendFailed ? 'resend-failed' : 'notify',
        incidentId: o.incident,
        noticeType: o.type,
      });
      const show = () => `notices queued for ${o.incident}`;
      if (!o.wait || !response.body.ok) return void cli.answer(response, show);
      // -o json|yaml: one document, at the end (the final counts, or the error); people see progress.
      const people = cli.globals().output === 'table';
      if (people) cli.answer(response, show);
      let notices = response.body.result.notices;
      let done = false;
      // Planning is done once the timeline records it; sending is done when nothing waits.
      for (let i = 0; i < WAIT_LIMIT_SECONDS && !done; i++) {
        await new Promise((r) => setTimeout(r, 1000));
        const view = await target.call({ action: 'incident', incidentId: o.incident });
        if (!view.body.ok) throw new CliError(`cannot follow the notices of ${o.incident}: ${view.body.error.message}`);
        const r = view.body.result;
        if (!r.notices) throw new CliError(`the operator API reports no notice counts for ${o.incident}: --wait cannot follow them`);
        notices = r.notices;
        const plannedNow = r.timeline.some((t) => (t.type === 'NOTICES_PLANNED' || t.type === 'NOTICES_REQUEUED') && t.at >= requestedAt);
        cli.progress(
          `notices: ${notices.sent} sent, ${notices.failed} failed, ${notices.pending + notices.sending} waiting of ${notices.planned} planned${plannedNow ? '' : ' (planning…)'}`,
        );
        done = plannedNow && notices.pending + notices.sending === 0;
      }
      if (!done)
        throw new CliError(
          `the notices of ${o.incident} were still being planned or sent after ${WAIT_LIMIT_SECONDS / 60} min (${notices.sent} sent, ${notices.failed} failed of ${notices.planned}); they go on without the CLI: \`killswitch notify --incident ${o.incident} --wait\` follows them again`,
        );
      if (!people) cli.print({ ok: true, result: { ...response.body.result, notices, done } }, () => '');
    });
}

/** `notices show`: one employee's notice, as they may ask for it (GDPR Art. 15): the entry and the exact text sent. */
export function registerShow(program: Command, cli: CliContext): void {
  program
    .command('notices')
    .description("employees' notices: what one employee was sent")
    .command('show')
    .description(
      "one employee's notice of an incident: status, times, message id, and the exact text sent (rebuilt and checked against its hash)",
    )
    .requiredOption('--incident <id>', 'the incident (required)')
    .requiredOption('--employee <id>', 'the employee (required)')
    .addOption(new Option('--type <type>', 'which notice').choices(['exposure', 'update', 'resolved']).default('exposure'))
    .addHelpText('after', '\nExample:\n  killswitch notices show --incident inc-20261127-5b40bfcd731b --employee e-00042')
    .action((o: { incident: string; employee: string; type: 'exposure' | 'update' | 'resolved' }) =>
      cli.run({ action: 'notice', incidentId: o.incident, employeeId: o.employee, noticeType: o.type }, (r) =>
        [
          fields([
            ['employee', r.entry.employeeId],
            ['incident', r.entry.incidentId],
            ['notice', r.entry.noticeType],
            ['status', `${r.entry.status}${r.entry.attempts ? ` after ${r.entry.attempts} attempt(s)` : ''}`],
            ['planned', r.entry.plannedAt],
            ['sent', r.entry.sentAt],
            ['message id', r.entry.messageId],
            ['categories', r.entry.categories.join(', ')],
            ['template', r.templateId],
            ['text', REPRODUCED[r.reproduced]],
          ]),
          '',
          `subject: ${r.subject}`,
          '',
          r.text.trimEnd(),
        ].join('\n'),
      ),
    );
}

const REPRODUCED = {
  EXACT: 'exactly as sent (rebuilt from its template and the facts kept when it was sent; its hash matches)',
  DIFFERS:
    'NOT as sent: rebuilt from what was kept, but its hash differs (the template or the date formatting changed since, or the entry was edited)',
  NOT_KEPT: 'sent before notices kept their facts: rebuilt from the incident as it is now, which may differ',
  UNCONFIRMED:
    'being sent, or handed to SNS without the delivery being recorded: it may have been delivered; this is what it would say now',
  NOT_SENT: 'not sent: what would be sent now',
} as const;

/** How long `--wait` follows the notices before it says they go on without it. */
const WAIT_LIMIT_SECONDS = 1800;
