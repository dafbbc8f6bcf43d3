import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { CliError, Exit } from './exit-codes.ts';

/** A positive whole number option (`--limit`, `--employees`). */
export const positive = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive whole number');
  return n;
};

/** An optional text option, left out of the command when not given (or given empty). */
export const given = (value: string | undefined): string | undefined => value || undefined;

/**
 * `--since`: an ISO 8601 time, or a duration back from now as kubectl and journalctl take it
 * (`90s`, `30m`, `24h`, `7d`). Sent as an ISO time.
 */
export const since = (value: string, now: Date = new Date()): string => {
  const relative = /^(\d+)(s|m|h|d)$/.exec(value);
  if (relative) {
    const seconds = Number(relative[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[relative[2] as 's' | 'm' | 'h' | 'd'];
    return new Date(now.getTime() - seconds * 1000).toISOString();
  }
  if (/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/.test(value) && !Number.isNaN(Date.parse(value)))
    return new Date(value).toISOString();
  throw new InvalidArgumentError('must be an ISO 8601 time (2026-12-01T09:00Z) or a duration back from now (30m, 24h, 7d)');
};

/** The largest reason the operator schema takes (ReasonSchema): a file larger than this is refused before it is read whole. */
const MAX_REASON_BYTES = 64 * 1024;

/**
 * The reason of a command: `--reason <text>`, or `--reason-file <path>` (`-` for stdin) for a long
 * one; exactly one of them. Trailing newlines of a file are dropped.
 */
export function reasonOf(o: { reason?: string; reasonFile?: string }, required: boolean, stdin: () => string): string | undefined {
  if (o.reason !== undefined && o.reasonFile !== undefined)
    throw new CliError('give the reason once: --reason or --reason-file, not both', Exit.BAD_INPUT);
  if (o.reasonFile !== undefined) {
    let text: string;
    try {
      text = o.reasonFile === '-' ? stdin() : readFileSync(o.reasonFile, 'utf8');
    } catch (error) {
      throw new CliError(`--reason-file: cannot read ${o.reasonFile}: ${(error as Error).message}`, Exit.BAD_INPUT);
    }
    if (Buffer.byteLength(text) > MAX_REASON_BYTES)
      throw new CliError(`--reason-file: larger than ${MAX_REASON_BYTES} bytes`, Exit.BAD_INPUT);
    text = text.replace(/\s+$/, '');
    if (!text) throw new CliError(`--reason-file: ${o.reasonFile === '-' ? 'stdin' : o.reasonFile} is empty`, Exit.BAD_INPUT);
    return text;
  }
  if (required && !o.reason)
    throw new CliError('a reason is required: --reason <text>, or --reason-file <path> (- for stdin)', Exit.BAD_INPUT);
  return given(o.reason);
}
