import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { reasonOf } from './options.ts';
import { awsTarget, localTarget, type CommandFor, type OperatorAction, type OperatorResponse, type OperatorTarget } from './targets.ts';
import type { OperatorResult } from '../../../shared/killswitch/operator.ts';
import { readLocalState } from './local-state.ts';
import { CliError, Exit, exitFor } from './exit-codes.ts';
import { isDocument, isMachine, terminalSafe, type OutputFormat } from './format.ts';
import type { ErrorKind, FieldIssue } from '../../../shared/domain/errors.ts';

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: NodeJS.ProcessEnv;
  /** What `--reason-file -` reads (the process's stdin by default). */
  stdin?: () => string;
  /** Bytes to stdout as they are (a PDF); without it, documents go through `out` as text. */
  write?: (bytes: Uint8Array) => void;
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
  /** -o json|yaml|table (--json is -o json), as main read it from argv before parsing. */
  output: OutputFormat;
  profile?: string;
  timeout: number;
}

/** An error as every output format reports it: the operator function's own envelope. */
export interface CliFailure {
  ok: false;
  error: { kind: ErrorKind; message: string; issues?: FieldIssue[] };
}

/** How one action's result is shown to people (-o json|yaml prints the body instead). */
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
   * Shows what the operator answered: the body with -o json|yaml, else `show(result)`, or the error
   * and its issues; a refusal or failure sets the exit code. True when it succeeded.
   */
  answer<A extends OperatorAction>(response: OperatorResponse<A>, show: Show<A>): boolean;
  /** Prints a command's own result: `data` in the chosen machine format, or `human()` for people. */
  print(data: unknown, human: () => string): void;
  /** Reports an error: the envelope on stdout with -o json|yaml, else `error: …` and its issues on stderr. */
  fail(failure: CliFailure['error']): void;
  /** Progress for people, on stderr; nothing with -o json|yaml (stdout holds only the result). */
  progress(line: string): void;
  /** A command's reason: --reason, or --reason-file (- for stdin). */
  reason(o: { reason?: string; reasonFile?: string }, required: true): string;
  reason(o: { reason?: string; reasonFile?: string }, required: false): string | undefined;
  /** What main returns: 0 unless a command set it. */
  exitCode: number;
}

/**
 * An error, reported once: the envelope on stdout with -o json|yaml; else `error: …` on stderr, with
 * each field that was wrong on a line of its own (a validation error's message already names them).
 */
export function report(io: CliIo, output: OutputFormat, serialise: Serialise, error: CliFailure['error']): void {
  if (isMachine(output)) {
    io.out(serialise({ ok: false, error } satisfies CliFailure));
    return;
  }
  io.err(`error: ${terminalSafe(error.message)}`);
  for (const issue of error.issues ?? [])
    if (!error.message.includes(`${issue.path}: ${issue.message}`)) io.err(`  ${terminalSafe(`${issue.path}: ${issue.message}`)}`);
}

/** A machine format's serialiser (main loads YAML only when it is asked for). */
export type Serialise = (value: unknown) => string;

export function cliContext(program: Command, io: CliIo, output: OutputFormat, serialise: Serialise): CliContext {
  const globals = () => ({ ...program.opts<Omit<Globals, 'output'>>(), output });
  const context: CliContext = {
    io,
    globals,
    exitCode: Exit.OK,
    print(data, human) {
      if (isDocument(output))
        throw new CliError(
          `-o ${output} is a document format: killswitch register export writes csv, killswitch incident report writes md, html and pdf`,
          Exit.BAD_INPUT,
        );
      io.out(output === 'table' ? human() : serialise(data));
    },
    fail: (error) => report(io, output, serialise, error),
    reason: ((o: { reason?: string; reasonFile?: string }, required: boolean) =>
      reasonOf(o, required, io.stdin ?? (() => readFileSync(0, 'utf8')))) as CliContext['reason'],
    progress(line) {
      if (!isMachine(output)) io.err(terminalSafe(line));
    },
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
      return awsTarget({
        url: g.url,
        region: g.region,
        profile: g.profile,
        breakGlassFunction: g.breakGlassFunction,
        timeoutSeconds: g.timeout,
      });
    },
    async run(command, show) {
      context.answer(await (await context.target()).call(command), show);
    },
    answer(response, show) {
      if (!response.body.ok) {
        if (!isMachine(output)) context.fail(response.body.error);
        else io.out(serialise(response.raw));
        context.exitCode = exitFor(response.body.error.kind);
        return false;
      }
      const { result } = response.body;
      context.print(response.raw, () => show(result));
      return true;
    },
  };
  return context;
}
