/**
 * The state document of docs/state-feed.md (version 1): a compact JWS (ES256) of a program's
 * scopes, numbered (`seq`) and short-lived (`exp`). This module is the TypeScript reference
 * verifier and the encoder the publisher signs with. It runs wherever WebCrypto does (Node.js 20,
 * browsers, Electron): signatures are checked by `jose`, on keys only ever taken from the key set.
 */
import { base64url, compactVerify, importJWK, type JWK } from 'jose';

export const STATE_DOCUMENT_TYPE = 'killswitch-state+jws';
/** The longest validity a document may claim (`exp − iat`), in seconds. */
export const MAX_VALIDITY_SECONDS = 3600;
export const DEFAULT_MAX_CLOCK_SKEW_SECONDS = 60;

export type ScopeStatus = 'ACTIVE' | 'PAUSED';
export interface ScopeState {
  scope: string;
  status: ScopeStatus;
  version: number;
}
export interface StateDocumentPayload {
  v: 1;
  programId: string;
  seq: number;
  iat: number;
  exp: number;
  scopes: ScopeState[];
}
export interface Jwks {
  keys: JWK[];
}

/** Why a document was rejected, in the order the checks run (docs/state-feed.md §3). */
export const REJECT_REASONS = [
  'MALFORMED',
  'UNSUPPORTED_ALG',
  'UNKNOWN_KID',
  'BAD_SIGNATURE',
  'BAD_PAYLOAD',
  'WRONG_PROGRAM',
  'NOT_YET_VALID',
  'EXPIRED',
  'ROLLBACK',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export interface VerifyOptions {
  /** The program this agent collects for. */
  programId: string;
  /** `D`: the `Date` of the response that carried the document, in seconds since the epoch. */
  serverTime: number;
  /** `H`: the highest `seq` this agent has accepted. @default 0 */
  highestSeq?: number;
  /** `S`. @default 60 */
  maxClockSkewSeconds?: number;
  /** The agent's scopes. @default [] */
  scopes?: readonly string[];
}

export interface Decision {
  allowed: boolean;
  status: ScopeStatus;
  /** The version of the scope that decided: the first paused one, else `"*"`. */
  version: number;
  pausedScope?: string;
}

export type VerifyResult =
  | ({
      valid: true;
      seq: number;
      iat: number;
      exp: number;
      kid: string;
      /** `L = min(exp − D, exp − iat)`: seconds of validity, counted from when the fetch was sent. */
      validForSeconds: number;
      payload: StateDocumentPayload;
    } & Decision)
  | { valid: false; error: RejectReason; detail: string };

const PROGRAM_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
const SCOPE = /^(\*|[a-z][a-z0-9-]{0,31}#[A-Za-z0-9._-]{1,64})$/;
const B64URL = /^[A-Za-z0-9_-]*$/;
const GLOBAL = '*';

class Rejection extends Error {
  constructor(
    readonly reason: RejectReason,
    detail: string,
  ) {
    super(detail);
  }
}
const reject = (reason: RejectReason, detail: string): never => {
  throw new Rejection(reason, detail);
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

function decodeJsonObject(part: string, what: string): { value: Record<string, unknown>; raw: string } {
  let raw: string;
  try {
    raw = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(base64url.decode(part));
  } catch {
    return reject('MALFORMED', `${what} is not base64url-encoded UTF-8`);
  }
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return reject('MALFORMED', `${what} is not JSON`);
  }
  if (!isObject(value)) reject('MALFORMED', `${what} is not a JSON object`);
  return { value: value as Record<string, unknown>, raw };
}

/** Whether the JSON text has a number with a fraction or an exponent anywhere outside strings (`1.0`, `1e0`). */
function hasNonIntegerNumber(raw: string): boolean {
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '-' || (c >= '0' && c <= '9')) {
      const token = /^-?[0-9]+([.eE][0-9eE.+-]*)?/.exec(raw.slice(i))![0];
      if (/[.eE]/.test(token)) return true;
      i += token.length - 1;
    }
  }
  return false;
}

type VerifyKey = Awaited<ReturnType<typeof importJWK>>;
const keyCache = new Map<string, Promise<VerifyKey>>();
function importKey(jwk: JWK): Promise<VerifyKey> {
  const id = `${jwk.x}.${jwk.y}`;
  let key = keyCache.get(id);
  if (!key) {
    key = importJWK({ kty: 'EC', crv: 'P-256', x: jwk.x!, y: jwk.y! }, 'ES256');
    key.catch(() => keyCache.delete(id));
    if (keyCache.size > 64) keyCache.clear();
    keyCache.set(id, key);
  }
  return key;
}

function selectKey(jwks: Jwks, kid: unknown): JWK {
  if (typeof kid !== 'string') return reject('UNKNOWN_KID', 'the header has no kid');
  const key = (isObject(jwks) && Array.isArray(jwks.keys) ? jwks.keys : []).find((k) => isObject(k) && k.kid === kid);
  if (!key) return reject('UNKNOWN_KID', `no key of the set has kid ${JSON.stringify(kid)}`);
  if (key.kty !== 'EC' || key.crv !== 'P-256' || typeof key.x !== 'string' || typeof key.y !== 'string')
    reject('UNKNOWN_KID', `key ${kid} is not an EC P-256 public key`);
  if ((key.use !== undefined && key.use !== 'sig') || (key.alg !== undefined && key.alg !== 'ES256'))
    reject('UNKNOWN_KID', `key ${kid} is not for ES256 signatures`);
  return key;
}

function checkPayload(payload: Record<string, unknown>, raw: string): StateDocumentPayload {
  const bad = (detail: string) => reject('BAD_PAYLOAD', detail);
  if (hasNonIntegerNumber(raw)) bad('numbers must be integers (no fraction, no exponent)');
  if (payload.v !== 1) bad('v must be 1');
  if (typeof payload.programId !== 'string' || !PROGRAM_ID.test(payload.programId)) bad('programId is not a program id');
  for (const name of ['seq', 'iat', 'exp'] as const) if (!isInt(payload[name])) bad(`${name} must be an integer`);
  const { seq, iat, exp } = payload as { seq: number; iat: number; exp: number };
  if (seq < 0) bad('seq must be 0 or more');
  if (exp <= iat) bad('exp must be after iat');
  if (exp > iat + MAX_VALIDITY_SECONDS) bad(`exp may be at most ${MAX_VALIDITY_SECONDS} s after iat`);
  if (!Array.isArray(payload.scopes)) return bad('scopes must be an array');
  const seen = new Set<string>();
  const scopes = (payload.scopes as unknown[]).map((entry, i) => {
    if (!isObject(entry)) return bad(`scopes[${i}] is not an object`);
    const { scope, status, version } = entry;
    if (typeof scope !== 'string' || !SCOPE.test(scope)) bad(`scopes[${i}].scope is not a scope`);
    if (status !== 'ACTIVE' && status !== 'PAUSED') bad(`scopes[${i}].status must be ACTIVE or PAUSED`);
    if (!isInt(version) || version < 1) bad(`scopes[${i}].version must be an integer of 1 or more`);
    if (seen.has(scope as string)) bad(`scope ${String(scope)} appears twice`);
    seen.add(scope as string);
    return { scope, status, version } as ScopeState;
  });
  if (!seen.has(GLOBAL)) bad('the "*" scope is missing');
  return { v: 1, programId: payload.programId as string, seq, iat, exp, scopes };
}

/**
 * The decision for an agent in `agentScopes` (docs/state-feed.md §3, the gate's rule): a paused
 * `"*"` stops everyone; a paused scope stops the agents in it; an agent without scopes is stopped
 * by any paused scope.
 */
export function decide(scopes: readonly ScopeState[], agentScopes: readonly string[]): Decision {
  const byScope = new Map(scopes.map((s) => [s.scope, s]));
  const global = byScope.get(GLOBAL)!;
  const order = [GLOBAL, ...(agentScopes.length ? agentScopes : [...byScope.keys()].filter((s) => s !== GLOBAL).sort())];
  for (const scope of order) {
    const s = byScope.get(scope);
    if (s?.status === 'PAUSED') return { allowed: false, status: 'PAUSED', version: s.version, pausedScope: scope };
  }
  return { allowed: true, status: 'ACTIVE', version: global.version };
}

/** Verify a state document (docs/state-feed.md §3). Never throws: a bad document is a result. */
export async function verifyStateDocument(token: string, jwks: Jwks, options: VerifyOptions): Promise<VerifyResult> {
  try {
    return await verifyOrThrow(token, jwks, options);
  } catch (error) {
    if (error instanceof Rejection) return { valid: false, error: error.reason, detail: error.message };
    return { valid: false, error: 'MALFORMED', detail: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Documents whose form, key and signature already verified (checks 1-5 depend only on the token
 * and the key, not on the time or the agent): a poll that brings the same document again runs only
 * checks 6-9. Keyed by the token and the key's coordinates, so a key set without that key misses.
 */
const verified = new Map<string, { kid: string; doc: StateDocumentPayload }>();
const MAX_VERIFIED = 16;

function decideOn(doc: StateDocumentPayload, kid: string, options: VerifyOptions): VerifyResult {
  if (doc.programId !== options.programId) reject('WRONG_PROGRAM', `the document is for ${doc.programId}`);
  const D = options.serverTime;
  const skew = options.maxClockSkewSeconds ?? DEFAULT_MAX_CLOCK_SKEW_SECONDS;
  if (doc.iat > D + skew) reject('NOT_YET_VALID', `signed at ${doc.iat}, ${doc.iat - D} s after the server's time`);
  if (D >= doc.exp) reject('EXPIRED', `expired at ${doc.exp}, ${D - doc.exp} s before the server's time`);
  const highest = options.highestSeq ?? 0;
  if (doc.seq < highest) reject('ROLLBACK', `seq ${doc.seq} is lower than ${highest}, already accepted`);
  return {
    valid: true,
    seq: doc.seq,
    iat: doc.iat,
    exp: doc.exp,
    kid,
    validForSeconds: Math.min(doc.exp - D, doc.exp - doc.iat),
    payload: doc,
    ...decide(doc.scopes, options.scopes ?? []),
  };
}

async function verifyOrThrow(token: string, jwks: Jwks, options: VerifyOptions): Promise<VerifyResult> {
  if (typeof token === 'string') {
    for (const k of isObject(jwks) && Array.isArray(jwks.keys) ? jwks.keys : []) {
      const hit = verified.get(`${k.x}.${k.y}.${token}`);
      if (hit && k.kid === hit.kid && k.kty === 'EC' && k.crv === 'P-256' && (k.use ?? 'sig') === 'sig' && (k.alg ?? 'ES256') === 'ES256')
        return decideOn(hit.doc, hit.kid, options);
    }
  }
  // 1. Form.
  if (typeof token !== 'string') reject('MALFORMED', 'the document is not a string');
  const parts = token.split('.');
  if (parts.length !== 3) reject('MALFORMED', 'a compact JWS has three parts');
  if (!parts.every((p) => B64URL.test(p))) reject('MALFORMED', 'a part is not base64url without padding');
  const [h, p, s] = parts as [string, string, string];
  const header = decodeJsonObject(h, 'the header').value;
  const payload = decodeJsonObject(p, 'the payload');
  let signature: Uint8Array;
  try {
    signature = base64url.decode(s);
  } catch {
    return reject('MALFORMED', 'the signature is not base64url');
  }
  // 2. Algorithm and type.
  if (header.alg !== 'ES256') reject('UNSUPPORTED_ALG', `alg ${JSON.stringify(header.alg ?? null)} is not ES256`);
  if (header.typ !== STATE_DOCUMENT_TYPE) reject('UNSUPPORTED_ALG', `typ is not ${STATE_DOCUMENT_TYPE}`);
  if ('crit' in header) reject('UNSUPPORTED_ALG', 'crit is not supported');
  // 3. Key.
  const jwk = selectKey(jwks, header.kid);
  let key: VerifyKey;
  try {
    key = await importKey(jwk);
  } catch {
    return reject('UNKNOWN_KID', `key ${String(header.kid)} is not a valid P-256 point`);
  }
  // 4. Signature.
  if (signature.length !== 64) reject('BAD_SIGNATURE', 'an ES256 signature is 64 bytes');
  try {
    await compactVerify(token, key, { algorithms: ['ES256'] });
  } catch {
    reject('BAD_SIGNATURE', 'the signature does not verify');
  }
  // 5. Payload.
  const doc = checkPayload(payload.value, payload.raw);
  if (verified.size >= MAX_VERIFIED) verified.clear();
  verified.set(`${jwk.x}.${jwk.y}.${token}`, { kid: header.kid as string, doc });
  // 6-9. Program, time, order.
  return decideOn(doc, header.kid as string, options);
}

const encoder = new TextEncoder();

/**
 * Sign a state document: `sign` receives the JWS signing input and returns the 64-byte R‖S
 * signature (a KMS key in AWS, a local key on the local stack).
 */
export async function encodeStateDocument(
  payload: StateDocumentPayload,
  kid: string,
  sign: (input: Uint8Array) => Promise<Uint8Array>,
): Promise<string> {
  const header = base64url.encode(JSON.stringify({ alg: 'ES256', typ: STATE_DOCUMENT_TYPE, kid }));
  const body = base64url.encode(JSON.stringify(payload));
  const signature = await sign(encoder.encode(`${header}.${body}`));
  if (signature.length !== 64) throw new Error(`an ES256 signature is 64 bytes, the signer returned ${signature.length}`);
  return `${header}.${body}.${base64url.encode(signature)}`;
}
