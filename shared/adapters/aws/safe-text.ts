/**
 * SQS message bodies and attributes (and SNS messages) may hold only #x9 | #xA | #xD |
 * #x20-#xD7FF | #xE000-#xFFFD and well-formed surrogate pairs. Input we keep for replay or quote in
 * an alert can hold anything (lone surrogates, U+FFFE, NUL), and one bad character would make the
 * whole send fail: the message would be lost instead of kept.
 */
const DISALLOWED =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const DISALLOWED_OR_SURROGATE = new RegExp(`${DISALLOWED.source}|[\\ud800-\\udfff]`, 'g');

/**
 * For JSON text: disallowed characters become `\uXXXX` escapes (they only occur inside JSON
 * strings, so the JSON means the same). Surrogate pairs are escaped too: SQS accepts them, but
 * not every SQS implementation does (fauxqs does not), and the escape costs nothing.
 */
export const escapeForSqs = (json: string): string =>
  json.replace(DISALLOWED_OR_SURROGATE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** For plain text: disallowed characters become U+FFFD. */
export const replaceForSqs = (text: string): string => text.replace(DISALLOWED, '\ufffd');
