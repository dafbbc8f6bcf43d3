import { KillSwitchError, ValidationError, type ErrorKind, type FieldIssue } from '#shared/domain/errors.ts';
import type { OperatorResult } from '#shared/killswitch/operator.ts';

/**
 * The response body of every operator action, over the Function URL or a direct invoke. `R` is what
 * the action answers (`OperatorResult<'status'>`, …); by default, what any action answers.
 */
export type OperatorEnvelope<R = OperatorResult> = { ok: true; result: R } | OperatorFailure;

/** A refusal or a failure: its kind (the HTTP status and the CLI's exit code follow from it), and what was wrong. */
export type OperatorFailure = { ok: false; error: { kind: ErrorKind; message: string; issues?: FieldIssue[] } };

export const HTTP_STATUS: Record<ErrorKind, number> = {
  BAD_INPUT: 400,
  REFUSED: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  FAILURE: 500,
};

export function failure(error: unknown): OperatorFailure {
  if (error instanceof KillSwitchError) {
    return {
      ok: false,
      error: { kind: error.kind, message: error.message, ...(error instanceof ValidationError ? { issues: error.issues } : {}) },
    };
  }
  // Internal details stay in the logs; the caller learns only that it failed.
  return { ok: false, error: { kind: 'FAILURE', message: 'internal error; see the operator function logs' } };
}
