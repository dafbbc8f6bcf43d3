import { Command, CommanderError } from 'commander';
import cliPackage from '../package.json' with { type: 'json' };
import { cliContext, type CliIo } from './context.ts';
import { CliError, Exit } from './exit-codes.ts';
import { positive } from './options.ts';
import { DEFAULT_TIMEOUT_SECONDS } from './targets.ts';
import * as state from './commands/state.ts';
import * as resume from './commands/resume.ts';
import * as incidents from './commands/incidents.ts';
import * as notices from './commands/notices.ts';
import * as grants from './commands/grants.ts';
import * as events from './commands/events.ts';
import * as local from './commands/local.ts';
import * as agents from './commands/agents.ts';

export type { CliIo } from './context.ts';

/** The command groups, in the order `--help` lists them. */
const groups = [state, resume, incidents, notices, grants, events, agents, local];

/** Runs the CLI; returns the exit code (0 ok, 2 bad input, 3 refused by policy, 1 failure). */
export async function main(argv: string[], io: CliIo = { out: console.log, err: console.error, env: process.env }): Promise<number> {
  const envTimeout = io.env.KILLSWITCH_TIMEOUT === undefined ? undefined : Number(io.env.KILLSWITCH_TIMEOUT);
  if (envTimeout !== undefined && !(Number.isInteger(envTimeout) && envTimeout > 0)) {
    io.err(`error: KILLSWITCH_TIMEOUT must be a positive whole number of seconds, got "${io.env.KILLSWITCH_TIMEOUT}"`);
    return Exit.BAD_INPUT;
  }
  const program = new Command('killswitch')
    .description('Stop data collection at once, see what is happening, and — with a colleague — start it again.')
    .option('--local', 'talk to the local stack started by `killswitch local up`')
    .version(cliPackage.version, '-V, --version', 'the CLI version')
    .option(
      '--as <principal>',
      'local stack only: the IAM principal the Function URL would have verified (env KILLSWITCH_AS)',
      io.env.KILLSWITCH_AS,
    )
    .option('--state-dir <dir>', 'where `local up` keeps its state', io.env.KILLSWITCH_STATE_DIR ?? '.killswitch')
    .option('--url <url>', 'the operator Function URL (stack output OperatorUrl)', io.env.KILLSWITCH_URL)
    .option('--region <region>', 'AWS region', io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION)
    .option(
      '--break-glass-function <name>',
      'the break-glass function (stack output BreakGlassFunction)',
      io.env.KILLSWITCH_BREAK_GLASS_FUNCTION,
    )
    .option('--bus <name>', 'event bus for `events send` (stack output EventBusName)', io.env.KILLSWITCH_BUS)
    .option('--json', 'machine-readable output')
    .option(
      '--timeout <seconds>',
      'give up on the operator API after this long (env KILLSWITCH_TIMEOUT)',
      positive,
      envTimeout ?? DEFAULT_TIMEOUT_SECONDS,
    )
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  const cli = cliContext(program, io);
  for (const group of groups) group.register(program, cli);

  try {
    await program.parseAsync(argv, { from: 'user' });
    return cli.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? Exit.OK : Exit.BAD_INPUT;
    if (error instanceof CliError) {
      io.err(`error: ${error.message}`);
      return error.exitCode;
    }
    io.err(`error: ${(error as Error).message}`);
    return Exit.FAILURE;
  }
}
