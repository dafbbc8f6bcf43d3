import type { Command } from 'commander';
import { awsTarget, localTarget, type CommandFor, type OperatorAction, type OperatorResponse, type OperatorTarget } from './targets.ts';
import type { OperatorResult } from '../../../shared/killswitch/operator.ts';
import { readLocalState } from './local-state.ts';
import { CliError, Exit, exitFor } from './exit-codes.ts';

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: NodeJS.ProcessEnv;
}

/** The global options (main.ts declares them). */
export interface Globals {
  local?: boolean;
  as?: string;
  stateDir: string;
  url?: string;
  region?: string;
  breakGlassFunction?: string;
  bus?: string;
  json?: boolean;
  timeout: number;
}

/** How one action's result is shown to people (--json prints the body instead). */
export type Show<A extends OperatorAction> = (result: OperatorResult<A>) => string;

/** What every command group gets: the output, the global options, the operator, and the exit code. */
export interface CliContext {
  readonly io: CliIo;
  globals(): Globals;
  /** Where operator commands go, as the global options say: the local stack (--local, --as) or the Function URL. */
  target(): Promise<OperatorTarget>;
  /** Sends one command to the operator function and shows its answer (see `answer`). */
  run<A extends OperatorAction>(command: CommandFor<A>, show: Show<A>): Promise<void>;
  /**
   * Shows what the operator answered: the body with --json, else `show(result)`, or the error and
   * its issues; a refusal or failure sets the exit code. True when it succeeded.
   */
  answer<A extends OperatorAction>(response: OperatorResponse<A>, show: Show<A>): boolean;
  /** What main returns: 0 unless a command set it. */
  exitCode: number;
}

export function cliContext(program: Command, io: CliIo): CliContext {
  const globals = () => program.opts<Globals>();
  const context: CliContext = {
    io,
    globals,
    exitCode: Exit.OK,
    async target() {
      const g = globals();
      if (g.local) {
        const state = await readLocalState(g.stateDir);
        if (!g.as) throw new CliError('--local needs --as <principal> (the identity AWS would verify)', Exit.BAD_INPUT);
        return localTarget({
          operatorUrl: state.endpoints.operatorUrl,
          lambdaEndpoint: state.endpoints.lambda,
          stsEndpoint: state.endpoints.sts,
          as: g.as,
          region: state.region,
          timeoutSeconds: g.timeout,
        });
      }
      if (g.as) throw new CliError('--as is accepted only with --local: in AWS your identity comes from your credentials', Exit.BAD_INPUT);
      if (!g.url)
        throw new CliError(
          'no operator URL: pass --url or set KILLSWITCH_URL (the stack output OperatorUrl), or use --local',
          Exit.BAD_INPUT,
        );
      if (!g.region) throw new CliError('no AWS region: pass --region or set AWS_REGION', Exit.BAD_INPUT);
      return awsTarget({ url: g.url, region: g.region, breakGlassFunction: g.breakGlassFunction, timeoutSeconds: g.timeout });
    },
    async run(command, show) {
      context.answer(await (await context.target()).call(command), show);
    },
    answer(response, show) {
      const { json } = globals();
      if (json) io.out(JSON.stringify(response.raw));
      if (!response.body.ok) {
        const { error } = response.body;
        if (!json) {
          io.err(`error: ${error.message}`);
          for (const issue of error.issues ?? []) io.err(`  ${issue.path}: ${issue.message}`);
        }
        context.exitCode = exitFor(error.kind);
        return false;
      }
      if (!json) io.out(show(response.body.result));
      return true;
    },
  };
  return context;
}
