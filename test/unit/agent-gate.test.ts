import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AgentGate, memorySeqStore } from '#agent/gate.ts';
import { fileSeqStore } from '#agent/node.ts';
import { AgentGateProvider, COLLECTION_ALLOWED_FLAG } from '#agent/openfeature.ts';
import { OpenFeature, ProviderEvents } from '@openfeature/server-sdk';
import type { StateDocumentPayload } from '#agent/document.ts';
import { FakeFeed, feedKey, scopesOf, signDocument } from '../support/state-feed.ts';

type Key = Awaited<ReturnType<typeof feedKey>>;
let key: Key;
let stranger: Key;
beforeAll(async () => {
  [key, stranger] = await Promise.all([feedKey(), feedKey()]);
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const doc = (seq: number, status: 'ACTIVE' | 'PAUSED', iat: number, validity = 300, programId = 'mci'): StateDocumentPayload => ({
  v: 1,
  programId,
  seq,
  iat,
  exp: iat + validity,
  scopes: scopesOf(status, seq),
});

function gateOn(feed: FakeFeed, seqStore = memorySeqStore()) {
  return new AgentGate({ feedUrl: 'https://feed.example/', programId: 'mci', seqStore, fetch: feed.fetch, refreshIntervalMs: 3_600_000 });
}
async function feedWith(payload: StateDocumentPayload, by: Key = key): Promise<FakeFeed> {
  const feed = new FakeFeed();
  feed.jwks = { keys: [key.jwk] };
  feed.serverTime = payload.iat;
  feed.document = await signDocument(by, payload);
  return feed;
}

describe('AgentGate: fails closed on the signed state feed', () => {
  it('is closed before its first document and collects on a fresh ACTIVE one', async () => {
    const feed = await feedWith(doc(1, 'ACTIVE', 1_800_000_000));
    const gate = gateOn(feed);
    expect(gate.allowed()).toBe(false);
    expect((await gate.start()).allowed).toBe(true);
    expect(gate.allowed()).toBe(true);
    expect(gate.state()).toMatchObject({ status: 'ACTIVE', seq: 1 });
    await gate.stop();
  });

  it('stops on a PAUSED document and stays stopped when an older ACTIVE document is replayed, also after a restart', async () => {
    const T = 1_800_000_000;
    const feed = await feedWith(doc(1, 'ACTIVE', T));
    const active = feed.document;
    const store = fileSeqStore(join(mkdtempSync(join(tmpdir(), 'ks-agent-')), 'mci.seq'));
    const gate = gateOn(feed, store);
    await gate.start();
    expect(gate.allowed()).toBe(true);
    feed.document = await signDocument(key, doc(2, 'PAUSED', T + 10));
    feed.serverTime = T + 11;
    await gate.refresh();
    expect(gate.allowed()).toBe(false);
    expect(gate.state().status).toBe('PAUSED');
    // The attacker (or a stale cache) serves the older ACTIVE document, still unexpired, with a plausible Date.
    feed.document = active;
    feed.serverTime = T + 12;
    await gate.refresh();
    expect(gate.allowed()).toBe(false);
    expect(gate.state().rejections.ROLLBACK).toBe(1);
    expect(gate.state().reason).toMatch(/ROLLBACK/);
    await gate.stop();
    // A restarted agent remembers seq 2 and rejects the replay from its first fetch.
    const restarted = gateOn(feed, store);
    expect((await restarted.start()).allowed).toBe(false);
    expect(restarted.state().rejections.ROLLBACK).toBe(1);
    await restarted.stop();
  });

  it('stops when cut off from the feed past its document’s validity, counted on the monotonic clock from the fetch', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
    vi.spyOn(Math, 'random').mockReturnValue(0.99); // the background poll's phase: not within the test's hour
    const T = Math.floor(Date.now() / 1000);
    const feed = await feedWith(doc(1, 'ACTIVE', T, 60));
    const gate = gateOn(feed);
    await gate.start();
    expect(gate.state().validForMs).toBeGreaterThan(59_000);
    feed.down = true;
    await vi.advanceTimersByTimeAsync(30_000);
    await gate.refresh(); // fails: the document still counts
    expect(gate.allowed()).toBe(true);
    await vi.advanceTimersByTimeAsync(31_000);
    expect(gate.allowed()).toBe(false);
    expect(gate.state()).toMatchObject({ allowed: false, reason: 'the accepted document has expired' });
    expect(gate.state().rejections.FETCH_FAILED).toBe(1);
    await gate.stop();
  });

  it('needs no correct wall clock: an agent hours off accepts a fresh document and stops when it is stale by the server’s Date', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
    vi.spyOn(Math, 'random').mockReturnValue(0.99); // the background poll's phase: not within the test's hour
    const T = Math.floor(Date.now() / 1000);
    vi.setSystemTime(Date.now() - 7 * 3_600_000); // the laptop is 7 hours behind
    const feed = await feedWith(doc(1, 'ACTIVE', T, 300));
    const gate = gateOn(feed);
    expect((await gate.start()).allowed).toBe(true);
    // The same document, fetched when the server says it has 20 s left: valid for 20 s, not 300.
    feed.serverTime = T + 280;
    await gate.refresh();
    expect(gate.state().validForMs).toBeLessThanOrEqual(20_000);
    await vi.advanceTimersByTimeAsync(21_000);
    expect(gate.allowed()).toBe(false);
    // And a document the server's clock says has expired is rejected, whatever the laptop's clock says.
    feed.serverTime = T + 300;
    await gate.refresh();
    expect(gate.state().rejections.EXPIRED).toBe(1);
    await gate.stop();
  });

  it('stops on a forged, tampered, unsigned or mis-addressed document and counts why', async () => {
    const T = 1_800_000_000;
    const feed = await feedWith(doc(1, 'ACTIVE', T));
    const gate = gateOn(feed);
    await gate.start();
    const cases: [string, () => Promise<string>][] = [
      [
        'BAD_SIGNATURE',
        async () => signDocument(stranger, doc(1, 'ACTIVE', T)).then((t) => t.replace(/^[^.]+/, feed.document.split('.')[0]!)),
      ],
      ['UNKNOWN_KID', async () => signDocument(stranger, doc(1, 'ACTIVE', T))],
      [
        'UNSUPPORTED_ALG',
        async () => `${Buffer.from('{"alg":"none","typ":"killswitch-state+jws"}').toString('base64url')}.${feed.document.split('.')[1]}.`,
      ],
      ['WRONG_PROGRAM', async () => signDocument(key, doc(1, 'ACTIVE', T, 300, 'other'))],
      ['MALFORMED', async () => 'not a document'],
    ];
    for (const [reason, make] of cases) {
      const good = await signDocument(key, doc(1, 'ACTIVE', T));
      feed.document = good;
      await gate.refresh();
      expect(gate.allowed(), `recovered before ${reason}`).toBe(true);
      feed.document = await make();
      await gate.refresh();
      expect(gate.allowed(), reason).toBe(false);
      expect(gate.state().rejections[reason as keyof ReturnType<AgentGate['state']>['rejections']], reason).toBe(1);
    }
    await gate.stop();
  });

  it('never allows collection under a document older than one it has seen, nor under PAUSED, forged or expired ones (model-based, random feeds)', async () => {
    const T = 1_800_000_000;
    type Step =
      | { kind: 'publish'; status: 'ACTIVE' | 'PAUSED' }
      | { kind: 'replay'; back: number }
      | { kind: 'forge' }
      | { kind: 'outage' }
      | { kind: 'time'; seconds: number };
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.record({ kind: fc.constant('publish' as const), status: fc.constantFrom('ACTIVE' as const, 'PAUSED' as const) }),
      fc.record({ kind: fc.constant('replay' as const), back: fc.integer({ min: 1, max: 5 }) }),
      fc.record({ kind: fc.constant('forge' as const) }),
      fc.record({ kind: fc.constant('outage' as const) }),
      fc.record({ kind: fc.constant('time' as const), seconds: fc.integer({ min: 1, max: 400 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
        const published: { seq: number; status: 'ACTIVE' | 'PAUSED'; token: string; exp: number }[] = [];
        const feed = new FakeFeed();
        feed.jwks = { keys: [key.jwk] };
        feed.serverTime = T;
        const publish = async (status: 'ACTIVE' | 'PAUSED') => {
          const seq = published.length + 1;
          const token = await signDocument(key, doc(seq, status, feed.serverTime));
          published.push({ seq, status, token, exp: feed.serverTime + 300 });
          feed.document = token;
        };
        await publish('ACTIVE');
        const gate = gateOn(feed);
        await gate.start();
        let highestSeen = 1;
        for (const s of steps) {
          feed.down = false;
          if (s.kind === 'publish') await publish(s.status);
          else if (s.kind === 'replay') feed.document = published[Math.max(0, published.length - 1 - s.back)]!.token;
          else if (s.kind === 'forge') feed.document = await signDocument(stranger, doc(published.length + 5, 'ACTIVE', feed.serverTime));
          else if (s.kind === 'outage') feed.down = true;
          else feed.serverTime += s.seconds;
          await gate.refresh();
          const served = published.find((p) => p.token === feed.document);
          if (!feed.down && served && served.exp > feed.serverTime) highestSeen = Math.max(highestSeen, served.seq);
          const state = gate.state();
          if (gate.allowed()) {
            // Collecting only under the newest document it ever saw, ACTIVE, and on the latest fetch, if it answered, a document that verified.
            const accepted = published.find((p) => p.seq === state.seq)!;
            expect(accepted.status).toBe('ACTIVE');
            expect(state.seq).toBe(highestSeen);
            if (!feed.down) expect(served?.seq).toBe(state.seq);
          }
        }
        await gate.stop();
      }),
      { numRuns: Number(process.env.KILLSWITCH_CONTRACT_RUNS ?? 60) },
    );
  });

  it('serves collection-allowed through OpenFeature: true on ACTIVE, false as a value (never the caller’s default) when paused or unverified', async () => {
    const T = 1_800_000_000;
    const feed = await feedWith(doc(1, 'ACTIVE', T));
    const provider = new AgentGateProvider(gateOn(feed));
    await OpenFeature.setProviderAndWait('agent-of', provider);
    const client = OpenFeature.getClient('agent-of');
    expect(await client.getBooleanValue(COLLECTION_ALLOWED_FLAG, false)).toBe(true);
    const changed = new Promise((resolve) => provider.events.addHandler(ProviderEvents.ConfigurationChanged, resolve));
    feed.document = await signDocument(key, doc(2, 'PAUSED', T + 10));
    feed.serverTime = T + 11;
    await provider.gate.refresh();
    await changed;
    expect(await client.getBooleanDetails(COLLECTION_ALLOWED_FLAG, true)).toMatchObject({
      value: false,
      variant: 'halted',
      reason: 'DISABLED',
      flagMetadata: { status: 'PAUSED', seq: 2 },
    });
    // A document from a key nobody published: false, not the default true.
    const forged = await feedWith(doc(1, 'ACTIVE', T), stranger);
    await OpenFeature.setProviderAndWait('agent-forged', new AgentGateProvider(gateOn(forged)));
    expect(await OpenFeature.getClient('agent-forged').getBooleanDetails(COLLECTION_ALLOWED_FLAG, true)).toMatchObject({
      value: false,
      reason: 'STALE',
    });
    expect((await client.getBooleanDetails('other-flag', true)).errorCode).toBe('FLAG_NOT_FOUND');
    await OpenFeature.close();
  });
});
