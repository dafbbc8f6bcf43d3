import type { z } from '../schemas/z.ts';

/** Exit-code-like category an error maps to at the edges (HTTP status, CLI exit code). */
export type ErrorKind = 'BAD_INPUT' | 'NOT_FOUND' | 'REFUSED' | 'CONFLICT' | 'FAILURE';

/** Base of every error killswitch raises on purpose. */
export class KillSwitchError extends Error {
  readonly kind: ErrorKind;
  constructor(message: string, kind: ErrorKind, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.kind = kind;
  }
}

export interface FieldIssue {
  /** Dotted path of the offending field, `(root)` for the value itself. */
  path: string;
  message: string;
}

/** Input did not match its schema. The message names every offending field. */
export class ValidationError extends KillSwitchError {
  readonly issues: FieldIssue[];
  constructor(what: string, issues: FieldIssue[]) {
    super(`invalid ${what}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, 'BAD_INPUT');
    this.issues = issues;
  }
}

export class UnknownProgramError extends KillSwitchError {
  constructor(readonly programId: string) {
    super(`unknown programId "${programId}": it is not in the deployed configuration`, 'NOT_FOUND');
  }
}

export class NotFoundError extends KillSwitchError {
  constructor(message: string) {
    super(message, 'NOT_FOUND');
  }
}

/** The command is well-formed but policy forbids it (two-person rule, unverified identity). */
export class PolicyRefusedError extends KillSwitchError {
  constructor(message: string) {
    super(message, 'REFUSED');
  }
}

/** The state changed under the command (a newer version), so it was not applied. */
export class StateConflictError extends KillSwitchError {
  constructor(message: string) {
    super(message, 'CONFLICT');
  }
}

/**
 * Work that can never be done (the ledger does not back it): a worker dead-letters it with this
 * reason at once instead of retrying, as it does with a message that does not parse.
 */
export class PermanentWorkError extends KillSwitchError {
  constructor(
    readonly what: string,
    readonly reason: string,
  ) {
    super(`${what} refused: ${reason}`, 'REFUSED');
  }
}

export class ConfigurationError extends KillSwitchError {
  constructor(message: string) {
    super(message, 'BAD_INPUT');
  }
}

const MAX_ISSUES = 10;

export function toFieldIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.slice(0, MAX_ISSUES).map((issue) => ({
    path: issue.path.length ? issue.path.map(String).join('.') : '(root)',
    message: issue.message,
  }));
}

/** Parse `input` with `schema` or throw a {@link ValidationError} naming each bad field. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw new ValidationError(what, toFieldIssues(result.error));
  return result.data;
}

/** `body` parsed as JSON, or a {@link ValidationError} saying that `what` must be JSON. */
export function parseJson(body: string, what: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    throw new ValidationError(what, [{ path: '(root)', message: 'must be JSON' }]);
  }
}

/** What may be logged about an error: its class, kind and message, not the input that caused it. */
export function describeError(error: unknown): Record<string, unknown> {
  if (error instanceof Error) {
    return { errorName: error.name, errorMessage: error.message, ...('kind' in error ? { errorKind: error.kind } : {}) };
  }
  return { errorName: 'NonError', errorMessage: String(error) };
}
