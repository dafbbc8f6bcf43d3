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
      const queued = cli.answer(
        await target.call({ action: o.resendFailed ? 'resend-failed' : 'notify', incidentId: o.incident }),
        () => `notices queued for ${o.incident}`,
      );
      if (!o.wait || !queued) return;
      // Planning is done once the timeline records it; sending is done when nothing waits.
      for (let i = 0; i < 1800; i++) {
        await new Promise((r) => setTimeout(r, 1000));
        const view = await (await cli.target()).call({ action: 'incident', incidentId: o.incident });
        if (!view.body.ok) throw new CliError(`cannot follow the notices of ${o.incident}: ${view.body.error.message}`);
        const r = view.body.result;
        const n = r.notices;
        if (!n) break;
        const plannedNow = r.timeline.some((t) => (t.type === 'NOTICES_PLANNED' || t.type === 'NOTICES_REQUEUED') && t.at >= requestedAt);
        cli.progress(
          `notices: ${n.sent} sent, ${n.failed} failed, ${n.pending + n.sending} waiting of ${n.planned} planned${plannedNow ? '' : ' (planning…)'}`,
        );
        if (plannedNow && n.pending + n.sending === 0) break;
      }
    });
}
