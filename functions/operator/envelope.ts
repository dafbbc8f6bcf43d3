import { KillSwitchError, ValidationError, type ErrorKind, type FieldIssue } from '#shared/domain/errors.ts';

/** The response body of every operator action, over the Function URL or a direct invoke. */
export type OperatorEnvelope =
  | { ok: true; result: unknown }
  | { ok: false; error: { kind: ErrorKind; message: string; issues?: FieldIssue[] } };

export const HTTP_STATUS: Record<ErrorKind, number> = {
  BAD_INPUT: 400,
  REFUSED: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  FAILURE: 500,
};

export function failure(error: unknown): Extract<OperatorEnvelope, { ok: false }> {
  if (error instanceof KillSwitchError) {
    return {
      ok: false,
      error: { kind: error.kind, message: error.message, ...(error instanceof ValidationError ? { issues: error.issues } : {}) },
    };
  }
  // Internal details stay in the logs; the caller learns only that it failed.
  return { ok: false, error: { kind: 'FAILURE', message: 'internal error; see the operator function logs' } };
}
