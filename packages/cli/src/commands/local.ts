import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { fromCheckout } from '../checkout.ts';
import { positive } from '../options.ts';

/** `local up` and `local seed`: the embedded stack; its runtime is loaded on demand, from a checkout only. */
export function register(program: Command, cli: CliContext): void {
  const local = program.command('local').description('the embedded stack, on this machine');
  local
    .command('up')
    .description('run dynalite, fauxqs, the local bus and every function in the foreground until Ctrl-C')
    .action(async () => (await fromCheckout('local up', () => import('../local.ts'))).localUp(cli.globals().stateDir, cli.io.out));
  local
    .command('seed')
    .description('load the sample program, grants and employees into the running local stack')
    .option('--employees <n>', 'employees whose data is in the datasets', positive, 2000)
    .option('--readers <n>', 'analyst grants per dataset', positive, 20)
    .action(async (o: { employees: number; readers: number }) => {
      const { localSeed } = await fromCheckout('local seed', () => import('../local.ts'));
      const seeded = await localSeed(cli.globals().stateDir, { employees: o.employees, readers: o.readers });
      cli.print(
        seeded,
        () =>
          `seeded: ${seeded.grants} grants, ${seeded.subjects} data-subject rows, programs registered: ${seeded.programs.join(', ') || '(already)'}`,
      );
    });
}
