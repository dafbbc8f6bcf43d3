// Writes the state feed's test vectors (docs/state-feed/vectors/*.json, docs/state-feed.md §8).
//   npx tsx scripts/state-feed-vectors.ts
// The keys are made for this run and their private halves are not kept; ECDSA signatures are
// randomised, so every run writes different tokens for the same cases. Commit the result.
import { createPublicKey, generateKeyPairSync, sign as ecSign, type KeyObject } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { STATE_DOCUMENT_TYPE, type StateDocumentPayload } from '#agent/document.ts';

const DIR = fileURLToPath(new URL('../docs/state-feed/vectors/', import.meta.url));
const T = 1_764_700_000; // iat of most vectors: 2025-12-02T18:26:40Z
const b64 = (v: string | Uint8Array) => Buffer.from(v).toString('base64url');

interface Key {
  privateKey: KeyObject;
  jwk: JWK;
}
async function newKey(): Promise<Key> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pub = createPublicKey(privateKey).export({ format: 'jwk' }) as JWK;
  const jwk: JWK = { kty: 'EC', crv: 'P-256', x: pub.x!, y: pub.y! };
  return { privateKey, jwk: { ...jwk, kid: await calculateJwkThumbprint(jwk), use: 'sig', alg: 'ES256' } };
}

const signRaw = (key: Key, input: string, encoding: 'ieee-p1363' | 'der' = 'ieee-p1363') =>
  ecSign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: encoding });

function token(key: Key, payload: unknown, header: Record<string, unknown> = {}, opts: { payloadText?: string; der?: boolean } = {}) {
  const h = b64(JSON.stringify({ alg: 'ES256', typ: STATE_DOCUMENT_TYPE, kid: key.jwk.kid, ...header }));
  const p = b64(opts.payloadText ?? JSON.stringify(payload));
  return `${h}.${p}.${b64(signRaw(key, `${h}.${p}`, opts.der ? 'der' : 'ieee-p1363'))}`;
}

const doc = (over: Partial<StateDocumentPayload> & Record<string, unknown> = {}): StateDocumentPayload => ({
  v: 1,
  programId: 'mci',
  seq: 7,
  iat: T,
  exp: T + 300,
  scopes: [
    { scope: '*', status: 'ACTIVE', version: 5 },
    { scope: 'category#keystrokes', status: 'ACTIVE', version: 1 },
    { scope: 'category#mouse', status: 'ACTIVE', version: 1 },
  ],
  ...over,
});
const paused = (scope: string, version: number) => (s: { scope: string }) =>
  s.scope === scope ? { scope, status: 'PAUSED' as const, version } : s;

const key = await newKey();
const next = await newKey(); // the key a rotation brings in
const other = await newKey(); // a key nobody trusts
const jwks = { keys: [key.jwk] };
const agentScopes = ['category#keystrokes', 'region#eu-west-1'];

type Expect =
  | { valid: true; seq: number; allowed: boolean; status: 'ACTIVE' | 'PAUSED'; version: number; validForSeconds: number }
  | { valid: false; error: string };
interface Vector {
  name: string;
  description: string;
  jwks: { keys: JWK[] };
  token: string;
  programId: string;
  serverTime: number;
  highestSeq: number;
  maxClockSkewSeconds: number;
  scopes: string[];
  expect: Expect;
}
const vectors: Vector[] = [];
const add = (v: Partial<Vector> & Pick<Vector, 'name' | 'description' | 'token' | 'expect'>) =>
  vectors.push({ jwks, programId: 'mci', serverTime: T + 100, highestSeq: 0, maxClockSkewSeconds: 60, scopes: agentScopes, ...v });
const ok = (over: Partial<Extract<Expect, { valid: true }>> = {}): Expect => ({
  valid: true,
  seq: 7,
  allowed: true,
  status: 'ACTIVE',
  version: 5,
  validForSeconds: 200,
  ...over,
});
const no = (error: string): Expect => ({ valid: false, error });

add({
  name: 'valid-active',
  description: 'A fresh ACTIVE document: collect, for exp − D = 200 s.',
  token: token(key, doc()),
  expect: ok(),
});
add({
  name: 'valid-paused-global',
  description: 'The whole program paused ("*" version 6): every agent stops.',
  token: token(key, doc({ seq: 8, scopes: doc().scopes.map(paused('*', 6)) })),
  expect: ok({ seq: 8, allowed: false, status: 'PAUSED', version: 6 }),
});
add({
  name: 'scope-paused-own',
  description: "The agent's own category is paused: it stops, and the paused scope's version decides.",
  token: token(key, doc({ seq: 8, scopes: doc().scopes.map(paused('category#keystrokes', 2)) })),
  expect: ok({ seq: 8, allowed: false, status: 'PAUSED', version: 2 }),
});
add({
  name: 'scope-paused-other',
  description: "Another category is paused: this agent (keystrokes) goes on, with the version of '*'.",
  token: token(key, doc({ seq: 8, scopes: doc().scopes.map(paused('category#mouse', 2)) })),
  expect: ok({ seq: 8 }),
});
add({
  name: 'scope-none-declared',
  description: 'An agent that declares no scopes cannot show it is outside a paused scope: any paused scope stops it.',
  token: token(key, doc({ seq: 8, scopes: doc().scopes.map(paused('category#mouse', 2)) })),
  scopes: [],
  expect: ok({ seq: 8, allowed: false, status: 'PAUSED', version: 2 }),
});
add({
  name: 'scope-order-global-first',
  description: "'*' and the agent's scope both paused: '*' is reported.",
  token: token(key, doc({ seq: 9, scopes: doc().scopes.map(paused('*', 6)).map(paused('category#keystrokes', 2)) })),
  expect: ok({ seq: 9, allowed: false, status: 'PAUSED', version: 6 }),
});
add({
  name: 'expired',
  description: "The server's Date is exp: expired (a freeze attack, or a publisher that stopped).",
  token: token(key, doc()),
  serverTime: T + 300,
  expect: no('EXPIRED'),
});
add({
  name: 'expired-long-ago',
  description: 'A day-old document.',
  token: token(key, doc()),
  serverTime: T + 86_400,
  expect: no('EXPIRED'),
});
add({
  name: 'not-yet-valid',
  description: "Signed 61 s after the server's Date, beyond the 60 s skew.",
  token: token(key, doc()),
  serverTime: T - 61,
  expect: no('NOT_YET_VALID'),
});
add({
  name: 'clock-skew-within',
  description: "Signed 60 s after the server's Date (within the skew): valid for exp − iat = 300 s, never more.",
  token: token(key, doc()),
  serverTime: T - 60,
  expect: ok({ validForSeconds: 300 }),
});
add({
  name: 'clock-skew-custom',
  description: 'A verifier configured with a 5 s skew rejects a document signed 6 s ahead of the Date.',
  token: token(key, doc()),
  serverTime: T - 6,
  maxClockSkewSeconds: 5,
  expect: no('NOT_YET_VALID'),
});
add({
  name: 'last-second',
  description: 'One second before exp: valid for 1 s.',
  token: token(key, doc()),
  serverTime: T + 299,
  expect: ok({ validForSeconds: 1 }),
});
add({
  name: 'wrong-key',
  description: "Signed by a key nobody trusts, under the trusted key's kid.",
  token: token(other, doc(), { kid: key.jwk.kid }),
  expect: no('BAD_SIGNATURE'),
});
add({
  name: 'unknown-kid',
  description: 'Signed by a key that is not in the set.',
  token: token(other, doc()),
  expect: no('UNKNOWN_KID'),
});
add({
  name: 'embedded-jwk',
  description: 'The header carries its own key (jwk): never used; its kid is unknown.',
  token: token(other, doc(), { jwk: other.jwk }),
  expect: no('UNKNOWN_KID'),
});
add({
  name: 'key-not-for-signing',
  description: "The set's key is marked use: enc.",
  token: token(key, doc()),
  jwks: { keys: [{ ...key.jwk, use: 'enc' }] },
  expect: no('UNKNOWN_KID'),
});
add({
  name: 'rotation-new-key',
  description: 'During a rotation the set holds two keys; a document signed by the new one verifies.',
  token: token(next, doc()),
  jwks: { keys: [key.jwk, next.jwk] },
  expect: ok(),
});
add({
  name: 'rotation-old-key',
  description: 'During a rotation a document signed by the old key still verifies.',
  token: token(key, doc()),
  jwks: { keys: [key.jwk, next.jwk] },
  expect: ok(),
});
{
  const signed = token(key, doc({ seq: 8, scopes: doc().scopes.map(paused('*', 6)) }));
  const [h, , s] = signed.split('.');
  add({
    name: 'tampered-payload',
    description: 'A signed PAUSED document whose payload was replaced by ACTIVE, signature kept.',
    token: `${h}.${b64(JSON.stringify(doc({ seq: 8 })))}.${s}`,
    expect: no('BAD_SIGNATURE'),
  });
}
{
  const h = b64(JSON.stringify({ alg: 'none', typ: STATE_DOCUMENT_TYPE, kid: key.jwk.kid }));
  add({
    name: 'alg-none',
    description: 'alg: none, no signature.',
    token: `${h}.${b64(JSON.stringify(doc()))}.`,
    expect: no('UNSUPPORTED_ALG'),
  });
}
{
  const h = b64(JSON.stringify({ alg: 'HS256', typ: STATE_DOCUMENT_TYPE, kid: key.jwk.kid }));
  add({
    name: 'alg-hs256',
    description: 'HS256 (an HMAC keyed with the public key, the classic confusion attack).',
    token: `${h}.${b64(JSON.stringify(doc()))}.${b64(new Uint8Array(32))}`,
    expect: no('UNSUPPORTED_ALG'),
  });
}
add({ name: 'wrong-typ', description: 'typ is JWT.', token: token(key, doc(), { typ: 'JWT' }), expect: no('UNSUPPORTED_ALG') });
add({
  name: 'crit-header',
  description: 'A crit header this version does not define.',
  token: token(key, doc(), { crit: ['b64'], b64: false }),
  expect: no('UNSUPPORTED_ALG'),
});
add({
  name: 'der-signature',
  description: 'The signature in DER (as KMS returns it) instead of R‖S.',
  token: token(key, doc(), {}, { der: true }),
  expect: no('BAD_SIGNATURE'),
});
add({
  name: 'wrong-program',
  description: 'A valid document of another program.',
  token: token(key, doc({ programId: 'other' })),
  expect: no('WRONG_PROGRAM'),
});
add({
  name: 'rollback',
  description: 'An older ACTIVE document (seq 7) replayed after the agent accepted a PAUSED one (seq 8).',
  token: token(key, doc()),
  highestSeq: 8,
  expect: no('ROLLBACK'),
});
add({
  name: 'same-seq',
  description: 'A re-signed document of the state already accepted (same seq).',
  token: token(key, doc()),
  highestSeq: 7,
  expect: ok(),
});
add({
  name: 'unknown-member',
  description: 'Members this version does not define are ignored.',
  token: token(key, { ...doc(), note: 'ignored', extra: { nested: [1, 2] } }),
  expect: ok(),
});
add({
  name: 'malformed-two-parts',
  description: 'Not three parts.',
  token: token(key, doc()).split('.').slice(0, 2).join('.'),
  expect: no('MALFORMED'),
});
{
  const [h, p, s] = token(key, doc()).split('.');
  add({ name: 'malformed-padding', description: 'Base64 padding is not base64url.', token: `${h}=.${p}.${s}`, expect: no('MALFORMED') });
  add({
    name: 'malformed-alphabet',
    description: "A '+' (standard base64) in the payload.",
    token: `${h}.${p}+.${s}`,
    expect: no('MALFORMED'),
  });
}
add({
  name: 'malformed-payload-not-object',
  description: 'The payload is a JSON array.',
  token: token(key, null, {}, { payloadText: '[1,2,3]' }),
  expect: no('MALFORMED'),
});
add({
  name: 'payload-no-global-scope',
  description: 'No "*" scope.',
  token: token(key, doc({ scopes: [{ scope: 'category#keystrokes', status: 'ACTIVE', version: 1 }] })),
  expect: no('BAD_PAYLOAD'),
});
add({
  name: 'payload-duplicate-scope',
  description: 'A scope listed twice (once ACTIVE, once PAUSED).',
  token: token(key, doc({ scopes: [...doc().scopes, { scope: 'category#keystrokes', status: 'PAUSED', version: 2 }] })),
  expect: no('BAD_PAYLOAD'),
});
add({
  name: 'payload-float-seq',
  description: 'seq written as 7.0.',
  token: token(key, null, {}, { payloadText: JSON.stringify(doc()).replace('"seq":7', '"seq":7.0') }),
  expect: no('BAD_PAYLOAD'),
});
add({
  name: 'payload-exponent-version',
  description: 'A scope version written as 5e0.',
  token: token(key, null, {}, { payloadText: JSON.stringify(doc()).replace('"version":5', '"version":5e0') }),
  expect: no('BAD_PAYLOAD'),
});
add({
  name: 'payload-validity-too-long',
  description: 'exp − iat over 3600 s.',
  token: token(key, doc({ exp: T + 3601 })),
  expect: no('BAD_PAYLOAD'),
});
add({
  name: 'payload-bad-status',
  description: 'A status that is neither ACTIVE nor PAUSED.',
  token: token(key, doc({ scopes: [{ scope: '*', status: 'STOPPED' as never, version: 5 }] })),
  expect: no('BAD_PAYLOAD'),
});
add({
  name: 'payload-version-2',
  description: 'A payload of a future version (v: 2).',
  token: token(key, doc({ v: 2 as never })),
  expect: no('BAD_PAYLOAD'),
});
add({ name: 'payload-negative-seq', description: 'seq −1.', token: token(key, doc({ seq: -1 })), expect: no('BAD_PAYLOAD') });

{
  const [h, p, sig] = token(key, doc()).split('.');
  const bom = b64(
    Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from(JSON.stringify({ alg: 'ES256', typ: STATE_DOCUMENT_TYPE, kid: key.jwk.kid })),
    ]),
  );
  add({
    name: 'malformed-bom',
    description: 'The header starts with a UTF-8 byte-order mark: not a JSON object as sent.',
    token: `${bom}.${p}.${sig}`,
    expect: no('MALFORMED'),
  });
  add({
    name: 'malformed-signature-length',
    description: 'A signature part of 1 mod 4 characters cannot be base64url, whatever else is wrong.',
    token: `${h}.${p}.${sig!.slice(0, 85)}`,
    jwks: { keys: [] },
    expect: no('MALFORMED'),
  });
  add({
    name: 'bad-point-short-signature',
    description: "The set's key is not a point of P-256 (y altered) and the signature is short: the key is checked first.",
    token: `${h}.${p}.${b64(new Uint8Array(32))}`,
    jwks: { keys: [{ ...key.jwk, y: b64(new Uint8Array(32).fill(7)) }] },
    expect: no('UNKNOWN_KID'),
  });
}
add({
  name: 'scope-none-declared-sorted',
  description:
    'No scopes declared, two paused (category#mouse v3, category#keystrokes v2): the first in sorted order decides (category#keystrokes).',
  token: token(key, doc({ seq: 10, scopes: doc().scopes.map(paused('category#mouse', 3)).map(paused('category#keystrokes', 2)) })),
  scopes: [],
  expect: ok({ seq: 10, allowed: false, status: 'PAUSED', version: 2 }),
});
add({
  name: 'scope-order-as-given',
  description: "Both of the agent's scopes paused: the first in the agent's order decides (region#eu-west-1 v4 when it is listed first).",
  token: token(
    key,
    doc({
      seq: 10,
      scopes: [...doc().scopes.map(paused('category#keystrokes', 2)), { scope: 'region#eu-west-1', status: 'PAUSED', version: 4 }],
    }),
  ),
  scopes: ['region#eu-west-1', 'category#keystrokes'],
  expect: ok({ seq: 10, allowed: false, status: 'PAUSED', version: 4 }),
});
mkdirSync(DIR, { recursive: true });
for (const f of readdirSync(DIR)) if (f.endsWith('.json')) rmSync(`${DIR}${f}`);
vectors.forEach((v, i) => writeFileSync(`${DIR}${String(i + 1).padStart(2, '0')}-${v.name}.json`, `${JSON.stringify(v, null, 2)}\n`));
console.log(`wrote ${vectors.length} vectors to ${DIR}`);
