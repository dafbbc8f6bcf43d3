import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { CliError } from '../exit-codes.ts';

/** `notify` (and `notify --resend-failed`): the notices to the affected employees, optionally followed until sent. */
export function register(program: Command, cli: CliContext): void {
  program
    .command('notify')
    .description('tell the affected employees (planned and sent asynchronously; safe to repeat)')
    .requiredOption('--incident <id>', 'the incident whose affected employees to tell (required)')
    .option('--wait', 'follow progress until every notice is sent or failed')
    .option('--resend-failed', 'send the notices marked FAILED again')
    .addHelpText(
      'after',
      '\nExamples:\n  killswitch notify --incident inc-20261127-5b40bfcd731b --wait\n  killswitch notify --incident inc-20261127-5b40bfcd731b --resend-failed',
    )
    .action(async (o: { incident: string; wait?: boolean; resendFailed?: boolean }) => {
      const requestedAt = new Date().toISOString();
      const target = await cli.target();
      const response = await target.call({ action: o.resendFailed ? 'resend-failed' : 'notify', incidentId: o.incident });
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

/** How long `--wait` follows the notices before it says they go on without it. */
const WAIT_LIMIT_SECONDS = 1800;
