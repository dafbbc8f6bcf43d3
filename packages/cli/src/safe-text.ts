/*
 * Untrusted text (a reason, a message, an id from the ledger, written by someone else) made safe to
 * show: the terminal's tables and the console's page both use it. No dependencies: the console's
 * browser bundle imports it too.
 */

// Controls (C0, C1, DEL), format characters (bidi embeddings, overrides, isolates and marks,
// zero-width characters, the soft hyphen, tag characters, the BOM…) and line and paragraph
// separators: a reason, a message or an id from the ledger is written by someone else, and must
// not move the cursor, recolour the terminal, hide text or make "resume" read as something else.
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;
const ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Untrusted text made safe to print on a terminal: every control and bidi character shown as an escape. */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, (c) => ESCAPES[c] ?? `\\u{${c.codePointAt(0)!.toString(16).padStart(4, '0')}}`);
}
