import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { fromCheckout } from '../checkout.ts';
import { positive } from '../options.ts';
import { table } from '../format.ts';

const runtime = (what: string) => fromCheckout(what, () => import('../local.ts'));

/** `local up|down|status|reset|seed`: the embedded stack's lifecycle; its runtime is loaded on demand, from a checkout only. */
export function register(program: Command, cli: CliContext): void {
  const local = program
    .command('local')
    .description('the embedded stack, on this machine (state per user; --state-dir or KILLSWITCH_STATE_DIR to choose)');
  local
    .command('up')
    .description('run dynalite, fauxqs, the local bus and every function: in the foreground until Ctrl-C, or --detach')
    .option('--detach', 'run it in the background (output in local.log in the state dir) and return once it is up')
    .addHelpText(
      'after',
      '\nExamples:\n  killswitch local up\n  killswitch local up --detach && killswitch local seed && killswitch local status',
    )
    .action(async (o: { detach?: boolean }) => {
      const { localUp, localUpDetached } = await runtime('local up');
      const dir = cli.globals().stateDir;
      if (!o.detach) {
        // For people, the endpoints as lines; -o json|yaml: one document once it is up, and nothing else on stdout.
        if (cli.globals().output === 'table') return localUp(dir, cli.io.out);
        return localUp(
          dir,
          () => {},
          (state) => cli.print({ status: 'RUNNING', stateDir: dir, pid: state.pid, endpoints: state.endpoints }, () => ''),
        );
      }
      const lines: string[] = [];
      const state = await localUpDetached(dir, (l) => lines.push(l));
      cli.print({ status: 'RUNNING', stateDir: dir, pid: state.pid, endpoints: state.endpoints }, () => lines.join('\n'));
    });
  local
    .command('down')
    .description('stop the local stack started with `local up` (either way), and clear its record, stale or not; its data stays')
    .action(async () => {
      const dir = cli.globals().stateDir;
      const r = await (await runtime('local down')).localDown(dir);
      cli.print({ stateDir: dir, ...r }, () =>
        r.stopped
          ? `stopped the local stack (pid ${r.pid}); its data stays in ${dir} (\`local reset\` removes it)`
          : r.stale
            ? `no local stack was running; removed the stale record of pid ${r.pid}`
            : `no local stack is running on ${dir}`,
      );
    });
  local
    .command('status')
    .description('whether a local stack runs on the state dir, since when, and whether each endpoint answers')
    .action(async () => {
      const s = await (await runtime('local status')).localStatus(cli.globals().stateDir);
      cli.print(s, () =>
        [
          `${s.status}${s.pid ? ` (pid ${s.pid}, since ${s.startedAt})` : ''} — state dir ${s.stateDir}${s.hasData ? ', with data' : ''}`,
          ...(s.status === 'STALE' ? ['the process that wrote the record is gone: `local up` starts again, `local down` clears it'] : []),
          ...(s.endpoints
            ? [
                table(
                  Object.entries(s.endpoints).map(([name, e]) => ({ name, url: e.url, answers: e.reachable ? 'yes' : 'NO' })),
                  ['name', 'url', 'answers'],
                ),
              ]
            : []),
        ].join('\n'),
      );
      if (s.endpoints && Object.values(s.endpoints).some((e) => !e.reachable)) cli.exitCode = 1;
    });
  local
    .command('reset')
    .description("remove the local stack's data (tables, record, log) so the next `local up` starts empty; refused while it runs")
    .action(async () => {
      const dir = cli.globals().stateDir;
      const r = (await runtime('local reset')).localReset(dir);
      cli.print({ stateDir: dir, ...r }, () => (r.removed.length ? `removed ${r.removed.join(', ')}` : `nothing to remove in ${dir}`));
    });
  local
    .command('seed')
    .description('load the sample program, grants and employees into the running local stack')
    .option('--employees <n>', 'employees whose data is in the datasets', positive, 2000)
    .option('--readers <n>', 'analyst grants per dataset', positive, 20)
    .action(async (o: { employees: number; readers: number }) => {
      const seeded = await (await runtime('local seed')).localSeed(cli.globals().stateDir, { employees: o.employees, readers: o.readers });
      cli.print(
        seeded,
        () =>
          `seeded: ${seeded.grants} grants, ${seeded.subjects} data-subject rows, programs registered: ${seeded.programs.join(', ') || '(already)'}`,
      );
    });
}
