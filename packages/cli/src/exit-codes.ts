import type { ErrorKind, FieldIssue } from '../../../shared/domain/errors.ts';

/** Exit codes scripts can rely on. */
export const Exit = { OK: 0, FAILURE: 1, BAD_INPUT: 2, REFUSED: 3 } as const;

export function exitFor(kind: ErrorKind | undefined): number {
  switch (kind) {
    case 'BAD_INPUT':
    case 'NOT_FOUND':
      return Exit.BAD_INPUT;
    case 'REFUSED':
    case 'CONFLICT':
      return Exit.REFUSED;
    default:
      return Exit.FAILURE;
  }
}

/** The error kind an exit code reports (-o json|yaml errors carry it, as the operator function's do). */
export function kindOf(exitCode: number): ErrorKind {
  return exitCode === Exit.BAD_INPUT ? 'BAD_INPUT' : exitCode === Exit.REFUSED ? 'REFUSED' : 'FAILURE';
}

/** A failure the CLI explains in one sentence (no stack trace). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = Exit.FAILURE,
    /** The fields that were wrong, when the input was. */
    readonly issues?: FieldIssue[],
  ) {
    super(message);
    this.name = 'CliError';
  }
}
