/**
 * The signed state feed at fleet scale, side by side in one run: origin requests per second behind
 * the CDN with 1,000 and 10,000 agents polling at R (must stay flat: the CDN, not the fleet, sets
 * the origin's load), verification cost per poll (a new document: the signature; the same document
 * again: the time checks only), and halt p50/p99 of 10,000 agents after a PAUSED document is
 * written to the origin. The agents are real AgentGates in this process; their fetch goes to the
 * local CDN's handler (no sockets for 10,000 agents), the CDN's to a real HTTP origin (the local
 * S3 stand-in), so only what reaches the origin crosses the network.
 */
import { AgentGate, memorySeqStore } from '#agent/gate.ts';
import { verifyStateDocument, type StateDocumentPayload } from '#agent/document.ts';
import { LocalBucketPolicies } from '#local/bucket-policies.ts';
import { LocalFeedCdn } from '#local/feed-cdn.ts';
import { serve } from '#local/http.ts';
import { feedKey, scopesOf, signDocument } from '../test/support/state-feed.ts';
import { percentile, round } from './support.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function stateFeed(o: { quick: boolean }): Promise<Record<string, unknown>> {
  const R = 1000;
  const sizes = o.quick ? [100, 1000] : [1000, 10_000];
  const runMs = o.quick ? 3000 : 6000;
  const key = await feedKey();
  const s3 = new LocalBucketPolicies('111111111111');
  s3.createBucket('feed');
  const origin = await serve(s3.handler());
  const put = (path: string, body: string, cacheControl: string) =>
    fetch(`${origin.endpoint}/feed/${path}`, {
      method: 'PUT',
      body,
      headers: { 'cache-control': cacheControl, 'content-type': 'application/jose' },
    });
  const now = () => Math.floor(Date.now() / 1000);
  const doc = (seq: number, status: 'ACTIVE' | 'PAUSED'): StateDocumentPayload => ({
    v: 1,
    programId: 'mci',
    seq,
    iat: now(),
    exp: now() + 300,
    scopes: scopesOf(status, seq),
  });
  await put('keys.json', JSON.stringify({ keys: [key.jwk] }), 'max-age=300');

  // Verification cost per poll.
  const token = await signDocument(key, doc(1, 'ACTIVE'));
  const jwks = { keys: [key.jwk] };
  const opts = { programId: 'mci', serverTime: now() };
  const timeIt = async (n: number, f: (i: number) => Promise<unknown>) => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await f(i);
    return Number(process.hrtime.bigint() - start) / 1000 / n;
  };
  const fresh = await Promise.all(Array.from({ length: 200 }, (_, i) => signDocument(key, doc(i + 2, 'ACTIVE'))));
  const newDocumentUs = await timeIt(fresh.length, (i) => verifyStateDocument(fresh[i]!, jwks, opts));
  const sameDocumentUs = await timeIt(o.quick ? 2000 : 20_000, () => verifyStateDocument(token, jwks, opts));

  const fleets: Record<string, unknown>[] = [];
  let halt: Record<string, unknown> = {};
  for (const size of sizes) {
    const cdn = new LocalFeedCdn(`${origin.endpoint}/feed`);
    const handler = cdn.handler();
    const cdnFetch: typeof fetch = async (input, init) => {
      const url = new URL(String(input));
      const reply = await handler({
        method: 'GET',
        url: url.pathname,
        headers: Object.fromEntries(new Headers(init?.headers).entries()),
        body: '',
      });
      return new Response(reply.status === 304 ? null : reply.body, { status: reply.status, headers: reply.headers });
    };
    await put('state/mci.jws', await signDocument(key, doc(100, 'ACTIVE')), 'max-age=1');
    const gates = Array.from(
      { length: size },
      () =>
        new AgentGate({
          feedUrl: 'https://feed.local/',
          programId: 'mci',
          refreshIntervalMs: R,
          requestTimeoutMs: 10_000,
          seqStore: memorySeqStore(),
          fetch: cdnFetch,
        }),
    );
    for (let i = 0; i < gates.length; i += 500) await Promise.all(gates.slice(i, i + 500).map((g) => g.start()));
    await sleep(R * 2);
    const [o0, r0, f0, t0] = [cdn.originRequests, cdn.requests, gates.reduce((n, g) => n + g.fetches, 0), performance.now()];
    await sleep(runMs);
    const seconds = (performance.now() - t0) / 1000;
    const fetches = gates.reduce((n, g) => n + g.fetches, 0) - f0;
    fleets.push({
      agents: size,
      allowed: gates.filter((g) => g.allowed()).length,
      pollsPerSecond: round(fetches / seconds, 1),
      cdnRequestsPerSecond: round((cdn.requests - r0) / seconds, 1),
      originRequestsPerSecond: round((cdn.originRequests - o0) / seconds, 2),
    });
    if (size === sizes[sizes.length - 1]) {
      // Halt: a PAUSED document lands in the origin; when does each agent stop?
      const haltedAt: number[] = [];
      gates.forEach((g, i) => g.onChange((s) => void (!s.allowed && haltedAt[i] === undefined && (haltedAt[i] = performance.now()))));
      const flip = performance.now();
      await put('state/mci.jws', await signDocument(key, doc(101, 'PAUSED')), 'max-age=1');
      const until = flip + R * 5 + 3000;
      while (haltedAt.filter((t) => t !== undefined).length < size && performance.now() < until) await sleep(20);
      const ms = haltedAt.filter((t) => t !== undefined).map((t) => t - flip);
      halt = {
        agents: size,
        refreshIntervalMs: R,
        documentMaxAgeSeconds: 1,
        halted: ms.length,
        p50Ms: round(percentile(ms, 50), 0),
        p99Ms: round(percentile(ms, 99), 0),
        maxMs: round(Math.max(...ms), 0),
        boundMs: R + 1000,
      };
    }
    await Promise.all(gates.map((g) => g.stop()));
  }
  await origin.stop();
  const [small, large] = fleets as { originRequestsPerSecond: number; agents: number }[];
  return {
    benchmark: 'state-feed',
    fleets,
    originLoadRatio: round(large!.originRequestsPerSecond / small!.originRequestsPerSecond, 2),
    agentsRatio: large!.agents / small!.agents,
    verifyUsPerPoll: { newDocument: round(newDocumentUs, 1), sameDocument: round(sameDocumentUs, 2) },
    halt,
  };
}
