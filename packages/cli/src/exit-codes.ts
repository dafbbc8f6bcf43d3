import type { ErrorKind } from '../../../shared/domain/errors.ts';

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

/** A failure the CLI explains in one sentence (no stack trace). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = Exit.FAILURE,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
