/**
 * EventBridge event-pattern matching, for the local bus.
 *
 * Semantics follow the EventBridge content-filtering documentation (and Event Ruler, which
 * implements it): a pattern is an object whose leaves are non-empty arrays of alternatives;
 * keys are ANDed, alternatives ORed; arrays in the event are flattened, so a leaf matches if
 * any value found at its path matches; `exists` looks at leaf values only; every operator
 * except `exists: false` needs the field to be present. Unsupported or malformed syntax
 * throws {@link EventPatternError}: it never silently fails to match.
 */

export class EventPatternError extends Error {
  constructor(path: string, message: string) {
    super(`invalid event pattern at ${path || '(root)'}: ${message}`);
    this.name = 'EventPatternError';
  }
}

type Leaf = string | number | boolean | null;
type ValueTest = (value: Leaf) => boolean;
interface LeafMatcher {
  /** Matches when the field is absent (only `exists: false`). */
  matchesAbsent: boolean;
  /** Matches a present leaf value. */
  test: ValueTest;
}
type Compiled = (candidates: readonly unknown[]) => boolean;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isLeaf = (v: unknown): v is Leaf => v === null || ['string', 'number', 'boolean'].includes(typeof v);

/** Returns true if `event` matches `pattern`. Throws {@link EventPatternError} on bad syntax. */
export function matchesEventPattern(pattern: unknown, event: unknown): boolean {
  return compileEventPattern(pattern)(event);
}

/** Validates and compiles a pattern once, for many events. */
export function compileEventPattern(pattern: unknown): (event: unknown) => boolean {
  const source = typeof pattern === 'string' ? parseJson(pattern) : pattern;
  if (!isObject(source) || Object.keys(source).length === 0) throw new EventPatternError('', 'must be a non-empty JSON object');
  const compiled = compileObject(source, '');
  return (event) => compiled([event]);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new EventPatternError('', 'is not valid JSON');
  }
}

function compileObject(pattern: Record<string, unknown>, path: string): Compiled {
  const parts: Compiled[] = [];
  for (const [key, value] of Object.entries(pattern)) {
    const here = path ? `${path}.${key}` : key;
    if (key === '$or') {
      if (!Array.isArray(value) || value.length < 2 || !value.every(isObject)) {
        throw new EventPatternError(here, '$or takes an array of at least two pattern objects');
      }
      const alternatives = value.map((v, i) => compileObject(v as Record<string, unknown>, `${here}[${i}]`));
      parts.push((candidates) => alternatives.some((alt) => alt(candidates)));
    } else if (Array.isArray(value)) {
      if (value.length === 0) throw new EventPatternError(here, 'a list of values must not be empty');
      const matchers = value.map((v, i) => compileLeaf(v, `${here}[${i}]`));
      parts.push((candidates) => {
        const leaves = leafValues(candidates, key);
        if (leaves.length === 0) return matchers.some((m) => m.matchesAbsent);
        return matchers.some((m) => leaves.some((leaf) => m.test(leaf)));
      });
    } else if (isObject(value)) {
      if (Object.keys(value).length === 0) throw new EventPatternError(here, 'a nested pattern must not be empty');
      const nested = compileObject(value, here);
      parts.push((candidates) => nested(childObjects(candidates, key)));
    } else {
      throw new EventPatternError(here, 'must be a list of match values or a nested pattern object');
    }
  }
  return (candidates) => parts.every((part) => part(candidates));
}

/** Every value under `key` in the candidate objects, with arrays flattened. */
function collect(candidates: readonly unknown[], key: string): unknown[] {
  const out: unknown[] = [];
  const push = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(push);
    else out.push(v);
  };
  for (const c of candidates) if (isObject(c) && Object.hasOwn(c, key)) push(c[key]);
  return out;
}
const leafValues = (candidates: readonly unknown[], key: string): Leaf[] => collect(candidates, key).filter(isLeaf);
const childObjects = (candidates: readonly unknown[], key: string): unknown[] => collect(candidates, key).filter(isObject);

function compileLeaf(spec: unknown, path: string): LeafMatcher {
  if (isLeaf(spec)) return { matchesAbsent: false, test: (v) => equalLeaf(v, spec) };
  if (!isObject(spec)) throw new EventPatternError(path, 'a match value must be a string, number, boolean, null or an operator object');
  const keys = Object.keys(spec);
  if (keys.length !== 1) throw new EventPatternError(path, 'an operator object must have exactly one operator');
  const operator = keys[0]!;
  const arg = spec[operator];
  const present = (test: ValueTest): LeafMatcher => ({ matchesAbsent: false, test });
  switch (operator) {
    case 'exists':
      if (typeof arg !== 'boolean') throw new EventPatternError(path, 'exists takes true or false');
      return { matchesAbsent: !arg, test: () => arg };
    case 'prefix':
      return present(affix(arg, path, 'prefix'));
    case 'suffix':
      return present(affix(arg, path, 'suffix'));
    case 'equals-ignore-case': {
      const expected = stringArg(arg, path, operator).toLowerCase();
      return present((v) => typeof v === 'string' && v.toLowerCase() === expected);
    }
    case 'wildcard': {
      const re = wildcardRegExp(stringArg(arg, path, operator), path);
      return present((v) => typeof v === 'string' && re.test(v));
    }
    case 'numeric':
      return present(numeric(arg, path));
    case 'cidr':
      return present(cidr(arg, path));
    case 'anything-but': {
      const excluded = anythingBut(arg, path);
      return present((v) => !excluded(v));
    }
    default:
      throw new EventPatternError(path, `unsupported operator "${operator}"`);
  }
}

function equalLeaf(value: Leaf, expected: Leaf): boolean {
  return value === expected;
}

function stringArg(arg: unknown, path: string, operator: string): string {
  if (typeof arg !== 'string') throw new EventPatternError(path, `${operator} takes a string`);
  return arg;
}

/** `prefix` / `suffix`: a string, or `{ "equals-ignore-case": string }`. */
function affix(arg: unknown, path: string, kind: 'prefix' | 'suffix'): ValueTest {
  let expected: string;
  let ignoreCase = false;
  if (typeof arg === 'string') expected = arg;
  else if (isObject(arg) && Object.keys(arg).length === 1 && typeof arg['equals-ignore-case'] === 'string') {
    expected = (arg['equals-ignore-case'] as string).toLowerCase();
    ignoreCase = true;
  } else throw new EventPatternError(path, `${kind} takes a string or { "equals-ignore-case": string }`);
  return (v) => {
    if (typeof v !== 'string') return false;
    const s = ignoreCase ? v.toLowerCase() : v;
    return kind === 'prefix' ? s.startsWith(expected) : s.endsWith(expected);
  };
}

/** `*` matches any run of characters; `\*` is a literal star and `\\` a literal backslash. */
function wildcardRegExp(pattern: string, path: string): RegExp {
  let source = '';
  let previousStar = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '\\') {
      const next = pattern[i + 1];
      if (next !== '*' && next !== '\\') throw new EventPatternError(path, 'in a wildcard, "\\" may only escape "*" or "\\"');
      source += `\\${next}`;
      i++;
      previousStar = false;
    } else if (ch === '*') {
      if (previousStar) throw new EventPatternError(path, 'a wildcard must not contain consecutive "*"');
      source += '[\\s\\S]*';
      previousStar = true;
    } else {
      source += ch.replace(/[.+?^${}()|[\]\\/-]/g, '\\$&');
      previousStar = false;
    }
  }
  return new RegExp(`^${source}$`);
}

const NUMERIC_OPS = new Set(['<', '<=', '=', '>', '>=']);

function numeric(arg: unknown, path: string): ValueTest {
  if (!Array.isArray(arg) || arg.length === 0 || arg.length % 2 !== 0 || arg.length > 4) {
    throw new EventPatternError(path, 'numeric takes one or two [operator, number] pairs, e.g. [">", 0, "<=", 5]');
  }
  const tests: ((n: number) => boolean)[] = [];
  for (let i = 0; i < arg.length; i += 2) {
    const op = arg[i];
    const bound = arg[i + 1];
    if (typeof op !== 'string' || !NUMERIC_OPS.has(op)) throw new EventPatternError(path, `unknown numeric operator ${JSON.stringify(op)}`);
    if (typeof bound !== 'number' || !Number.isFinite(bound))
      throw new EventPatternError(path, `numeric bound after "${op}" must be a number`);
    if (op === '=' && arg.length > 2) throw new EventPatternError(path, '"=" cannot be combined with another comparison');
    tests.push(
      op === '<'
        ? (n) => n < bound
        : op === '<='
          ? (n) => n <= bound
          : op === '='
            ? (n) => n === bound
            : op === '>'
              ? (n) => n > bound
              : (n) => n >= bound,
    );
  }
  if (arg.length === 4) {
    const lower = ['>', '>='].includes(arg[0]) && ['<', '<='].includes(arg[2]);
    const upper = ['<', '<='].includes(arg[0]) && ['>', '>='].includes(arg[2]);
    if (!lower && !upper) throw new EventPatternError(path, 'a numeric range needs one lower and one upper bound');
  }
  return (v) => typeof v === 'number' && tests.every((t) => t(v));
}

function anythingBut(arg: unknown, path: string): ValueTest {
  if (typeof arg === 'string' || typeof arg === 'number') return (v) => v === arg;
  if (Array.isArray(arg)) {
    if (arg.length === 0) throw new EventPatternError(path, 'anything-but list must not be empty');
    const allStrings = arg.every((a) => typeof a === 'string');
    const allNumbers = arg.every((a) => typeof a === 'number');
    if (!allStrings && !allNumbers) throw new EventPatternError(path, 'anything-but list must hold only strings or only numbers');
    const set = new Set<unknown>(arg);
    return (v) => set.has(v);
  }
  if (isObject(arg) && Object.keys(arg).length === 1) {
    const [inner, value] = Object.entries(arg)[0]!;
    switch (inner) {
      case 'prefix':
      case 'suffix': {
        const s = stringArg(value, path, `anything-but ${inner}`);
        return (v) => typeof v === 'string' && (inner === 'prefix' ? v.startsWith(s) : v.endsWith(s));
      }
      case 'equals-ignore-case': {
        const list = (Array.isArray(value) ? value : [value]).map((x) =>
          stringArg(x, path, 'anything-but equals-ignore-case').toLowerCase(),
        );
        return (v) => typeof v === 'string' && list.includes(v.toLowerCase());
      }
      case 'wildcard': {
        const res = (Array.isArray(value) ? value : [value]).map((x) => wildcardRegExp(stringArg(x, path, 'anything-but wildcard'), path));
        return (v) => typeof v === 'string' && res.some((re) => re.test(v));
      }
      default:
        throw new EventPatternError(path, `unsupported anything-but operator "${inner}"`);
    }
  }
  throw new EventPatternError(
    path,
    'anything-but takes a string, a number, a list of either, or { prefix | suffix | equals-ignore-case | wildcard }',
  );
}

function cidr(arg: unknown, path: string): ValueTest {
  const spec = stringArg(arg, path, 'cidr');
  const [address, bitsText] = spec.split('/');
  const parsed = address ? parseIp(address) : undefined;
  const bits = Number(bitsText);
  if (!parsed || !Number.isInteger(bits) || bits < 0 || bits > parsed.width)
    throw new EventPatternError(path, `"${spec}" is not a CIDR block`);
  const shift = BigInt(parsed.width - bits);
  const network = parsed.value >> shift;
  return (v) => {
    if (typeof v !== 'string') return false;
    const ip = parseIp(v);
    return ip !== undefined && ip.width === parsed.width && ip.value >> shift === network;
  };
}

function parseIp(text: string): { value: bigint; width: 32 | 128 } | undefined {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(text)) {
    const octets = text.split('.').map(Number);
    if (octets.some((o) => o > 255)) return undefined;
    return { value: octets.reduce((acc, o) => (acc << 8n) | BigInt(o), 0n), width: 32 };
  }
  if (!text.includes(':') || !/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string | undefined) => (h ? h.split(':') : []);
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  const missing = 8 - head.length - tail.length;
  if ((halves.length === 1 && missing !== 0) || missing < 0) return undefined;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (all.length !== 8 || all.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  return { value: all.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n), width: 128 };
}
