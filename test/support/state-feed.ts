import { generateKeyPairSync, createPublicKey, sign as ecSign, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { encodeStateDocument, type StateDocumentPayload, type ScopeState } from '#agent/document.ts';

/** A signing key as the publisher has it (the private half in this process, like the local KMS). */
export async function feedKey(): Promise<{ privateKey: KeyObject; jwk: JWK & { kid: string } }> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { x, y } = createPublicKey(privateKey).export({ format: 'jwk' });
  const jwk: JWK = { kty: 'EC', crv: 'P-256', x: x!, y: y! };
  return { privateKey, jwk: { ...jwk, kid: await calculateJwkThumbprint(jwk), use: 'sig', alg: 'ES256' } };
}

export const signDocument = (key: Awaited<ReturnType<typeof feedKey>>, payload: StateDocumentPayload) =>
  encodeStateDocument(payload, key.jwk.kid, async (input) => ecSign('sha256', input, { key: key.privateKey, dsaEncoding: 'ieee-p1363' }));

export const scopesOf = (status: ScopeState['status'], version: number): ScopeState[] => [{ scope: '*', status, version }];

/**
 * A state feed in memory, as `fetch` sees it: what the CDN serves (a document, the key set, an
 * outage) and the server's clock (the `Date` of each response), set by the test.
 */
export class FakeFeed {
  document = '';
  jwks: { keys: JWK[] } = { keys: [] };
  serverTime = Math.floor(Date.now() / 1000);
  down = false;
  fetches = 0;

  readonly fetch: typeof fetch = async (input) => {
    this.fetches++;
    const url = String(input instanceof Request ? input.url : input);
    if (this.down) throw new TypeError('fetch failed (network unreachable)');
    const headers = { date: new Date(this.serverTime * 1000).toUTCString(), 'cache-control': 'max-age=1' };
    if (url.endsWith('/keys.json')) return new Response(JSON.stringify(this.jwks), { status: 200, headers });
    if (url.includes('/state/'))
      return new Response(this.document, { status: 200, headers: { ...headers, 'content-type': 'application/jose' } });
    return new Response('not found', { status: 404, headers });
  };
}
