import type * as z from 'zod';

export interface OptionIssue {
  /** Dotted path of the offending option, `(root)` for the options object itself. */
  path: string;
  message: string;
}

/** The gate's options do not match their schema. The message names every offending option. */
export class GateOptionsError extends Error {
  readonly issues: OptionIssue[];
  constructor(what: string, error: z.ZodError) {
    const issues = error.issues.map((i) => ({ path: i.path.length ? i.path.join('.') : '(root)', message: i.message }));
    super(`invalid ${what}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
    this.name = 'GateOptionsError';
    this.issues = issues;
  }
}
