import { Command, CommanderError, Option } from 'commander';
import cliPackage from '../package.json' with { type: 'json' };
import { cliContext, report, type CliIo, type Serialise } from './context.ts';
import type { FieldIssue } from '../../../shared/domain/errors.ts';
import { CliError, Exit, kindOf } from './exit-codes.ts';
import { OUTPUT_FORMATS, outputFormatOf } from './format.ts';
import { defaultStateDir } from './local-state.ts';
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
import * as completion from './commands/completion.ts';
import * as consolePage from './commands/console.ts';
import * as record from './commands/record.ts';

export type { CliIo } from './context.ts';

/** The command groups, in the order `--help` lists them. */
const groups = [
  state,
  resume,
  incidents,
  notices,
  { register: notices.registerShow },
  { register: record.registerVerify },
  { register: record.registerAuthority },
  { register: record.registerRegister },
  grants,
  events,
  agents,
  consolePage,
  local,
  completion,
];

/** Runs the CLI; returns the exit code (0 ok, 2 bad input, 3 refused by policy, 1 failure). */
export async function main(
  argv: string[],
  io: CliIo = { out: console.log, err: console.error, env: process.env, write: (bytes) => void process.stdout.write(bytes) },
): Promise<number> {
  // The format is known before parsing, so that even a parse error comes out in it.
  const output = outputFormatOf(argv, io.env);
  let serialise: Serialise = (value) => JSON.stringify(value);
  if (output === 'yaml') {
    const { stringify } = await import('yaml');
    serialise = (value) => stringify(value, { lineWidth: 0 }).trimEnd();
  }
  const fail = (message: string, exitCode: number, issues?: FieldIssue[]): number => {
    report(io, output, serialise, { kind: kindOf(exitCode), message, ...(issues ? { issues } : {}) });
    return exitCode;
  };
  const envTimeout = io.env.KILLSWITCH_TIMEOUT === undefined ? undefined : Number(io.env.KILLSWITCH_TIMEOUT);
  if (envTimeout !== undefined && !(Number.isInteger(envTimeout) && envTimeout > 0))
    return fail(`KILLSWITCH_TIMEOUT must be a positive whole number of seconds, got "${io.env.KILLSWITCH_TIMEOUT}"`, Exit.BAD_INPUT);
  if (io.env.KILLSWITCH_OUTPUT !== undefined && !(OUTPUT_FORMATS as readonly string[]).includes(io.env.KILLSWITCH_OUTPUT))
    return fail(`KILLSWITCH_OUTPUT must be one of ${OUTPUT_FORMATS.join(', ')}, got "${io.env.KILLSWITCH_OUTPUT}"`, Exit.BAD_INPUT);
  const program = new Command('killswitch')
    .description('Stop data collection at once, see what is happening, and — with a colleague — start it again.')
    .option('--local', 'talk to the local stack started by `killswitch local up`')
    .version(cliPackage.version, '-V, --version', 'the CLI version')
    .option(
      '--as <principal>',
      'local stack only: the IAM principal the Function URL would have verified (env KILLSWITCH_AS)',
      io.env.KILLSWITCH_AS,
    )
    .option(
      '--state-dir <dir>',
      'where `local up` keeps its state and data (env KILLSWITCH_STATE_DIR; default per user, not per directory)',
      io.env.KILLSWITCH_STATE_DIR ?? defaultStateDir(io.env),
    )
    .option('--url <url>', 'the operator Function URL (stack output OperatorUrl)', io.env.KILLSWITCH_URL)
    .option(
      '--region <region>',
      "AWS region (env AWS_REGION; else the profile's; a Function URL names its own)",
      io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION,
    )
    .option('--profile <name>', 'the AWS profile whose credentials sign requests (env AWS_PROFILE; else the standard chain)')
    .option(
      '--break-glass-function <name>',
      'the break-glass function (stack output BreakGlassFunction)',
      io.env.KILLSWITCH_BREAK_GLASS_FUNCTION,
    )
    .option('--bus <name>', 'event bus for `events send` (stack output EventBusName)', io.env.KILLSWITCH_BUS)
    .addOption(
      new Option('-o, --output <format>', 'print results and errors on stdout as a table, JSON or YAML (env KILLSWITCH_OUTPUT)')
        .choices(OUTPUT_FORMATS)
        .default(output),
    )
    .option('--json', 'the same as -o json')
    .option(
      '--timeout <seconds>',
      'give up on the operator API after this long (env KILLSWITCH_TIMEOUT)',
      positive,
      envTimeout ?? DEFAULT_TIMEOUT_SECONDS,
    )
    .addHelpText(
      'after',
      '\nExamples:\n  killswitch status\n  killswitch pause --program mci --reason "dataset readable by all staff"\n  killswitch resume list\n  killswitch --local --as arn:aws:sts::111111111111:assumed-role/KillswitchOperators/alice status\n\nExit codes: 0 ok, 1 failure, 2 bad input, 3 refused by policy.',
    )
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s.trimEnd()),
      writeErr: (s) => io.err(s.trimEnd()),
      // Parse errors are reported below, in the chosen format, once.
      outputError: () => {},
    });

  const cli = cliContext(program, io, output, serialise);
  for (const group of groups) group.register(program, cli);

  try {
    await program.parseAsync(argv, { from: 'user' });
    return cli.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return Exit.OK;
      // commander.help (a group named without a command) has printed its help; the rest are mistakes.
      if (error.code === 'commander.help') return Exit.BAD_INPUT;
      return fail(
        `${error.message.replace(/^error: /, '')}${error.code === 'commander.unknownOption' || error.code === 'commander.unknownCommand' ? ' (see --help)' : ''}`,
        Exit.BAD_INPUT,
      );
    }
    if (error instanceof CliError) return fail(error.message, error.exitCode, error.issues);
    return fail((error as Error).message, Exit.FAILURE);
  }
}
