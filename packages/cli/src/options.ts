import { InvalidArgumentError } from 'commander';

/** A positive whole number option (`--limit`, `--employees`). */
export const positive = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive whole number');
  return n;
};

/** An optional text option, left out of the command when not given (or given empty). */
export const given = (value: string | undefined): string | undefined => value || undefined;
