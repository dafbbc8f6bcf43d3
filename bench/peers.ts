import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PerformanceObserver } from 'node:perf_hooks';
import * as ld from '@launchdarkly/node-server-sdk';
import { GrowthBook } from '@growthbook/growthbook';
import { InMemStorageProvider, Unleash } from 'unleash-client';
import { InMemoryProvider, OpenFeature } from '@openfeature/server-sdk';
import { KillSwitchProvider, COLLECTION_ALLOWED_FLAG } from '#collector/openfeature.ts';
import { AgentGate, memorySeqStore } from '#agent/gate.ts';
import { feedKey, scopesOf, signDocument } from '../test/support/state-feed.ts';
import { benchDb, openBenchGate, round } from './support.ts';

/**
 * peers (issue 20): the hot path of killswitch's gates beside the flag SDKs a platform team would
 * otherwise run, in one process and one run, each evaluating one boolean flag that is on, with no
 * network (every peer is fed in memory the way its own tests do: LaunchDarkly's TestData,
 * Unleash's bootstrap, GrowthBook's features, OpenFeature's InMemoryProvider). Per peer: ns per
 * call (best of three rounds), bytes allocated per call (heap growth over chunks of calls in which
 * no GC ran), and GCs during its loops. Async APIs (LaunchDarkly's variation, OpenFeature's
 * getBooleanValue) are awaited, as callers must.
 */
export async function peers({ quick }: { quick: boolean }) {
  const calls = quick ? 200_000 : 10_000_000;
  const db = await benchDb();
  const stops: (() => Promise<unknown> | unknown)[] = [() => db.stop()];
  try {
    // killswitch's collector gate, over DynamoDB (dynalite).
    const gate = await openBenchGate(db);
    stops.push(() => gate.stop());

    // killswitch's agent gate, over a signed state document served from memory.
    const key = await feedKey();
    const now = Math.floor(Date.now() / 1000);
    const token = await signDocument(key, { v: 1, programId: 'bench', seq: 1, iat: now, exp: now + 3600, scopes: scopesOf('ACTIVE', 1) });
    const agent = new AgentGate({
      feedUrl: 'https://feed.local/',
      programId: 'bench',
      refreshIntervalMs: 3_600_000,
      seqStore: memorySeqStore(),
      fetch: async (input) =>
        String(input).endsWith('keys.json')
          ? new Response(JSON.stringify({ keys: [key.jwk] }), {
              headers: { 'content-type': 'application/json', date: new Date().toUTCString() },
            })
          : new Response(token, { headers: { 'content-type': 'application/jose', date: new Date().toUTCString() } }),
    });
    await agent.start();
    stops.push(() => agent.stop());

    // LaunchDarkly's Node server SDK, its TestData source (no network, no events).
    const td = new ld.integrations.TestData();
    td.update(td.flag(COLLECTION_ALLOWED_FLAG).booleanFlag().variationForAll(true));
    const launchDarkly = ld.init('sdk-bench', {
      updateProcessor: td.getFactory(),
      sendEvents: false,
      diagnosticOptOut: true,
      logger: ld.basicLogger({ level: 'none' }),
    });
    await launchDarkly.waitForInitialization({ timeout: 10 });
    stops.push(() => launchDarkly.close());
    const ldContext = { kind: 'user', key: 'collector-1' };

    // Unleash's Node client, its features from a stand-in of the Unleash API on loopback (the same
    // definition it is bootstrapped with; it polls once an hour).
    const feature = { name: COLLECTION_ALLOWED_FLAG, enabled: true, strategies: [{ name: 'default', constraints: [], parameters: {} }] };
    const unleashApi = createServer((req, res) => {
      if (req.url?.startsWith('/api/client/features')) {
        res.writeHead(200, { 'content-type': 'application/json', etag: '"1"' }).end(JSON.stringify({ version: 1, features: [feature] }));
      } else res.writeHead(202).end();
    });
    await new Promise<void>((r) => unleashApi.listen(0, '127.0.0.1', r));
    stops.push(() => new Promise((r) => unleashApi.close(r)));
    const unleash = new Unleash({
      url: `http://127.0.0.1:${(unleashApi.address() as AddressInfo).port}/api/`,
      appName: 'killswitch-bench',
      disableMetrics: true,
      refreshInterval: 3_600_000,
      storageProvider: new InMemStorageProvider(),
      bootstrap: {
        data: [
          { name: COLLECTION_ALLOWED_FLAG, enabled: true, strategies: [{ name: 'default', constraints: [], parameters: {} }] },
        ] as never,
      },
    });
    unleash.on('error', () => {});
    unleash.on('warn', () => {});
    await new Promise<void>((resolve) => unleash.once('ready', () => resolve()));
    stops.push(() => unleash.destroy());

    // GrowthBook's JavaScript SDK, with its features given.
    const growthBook = new GrowthBook({ features: { [COLLECTION_ALLOWED_FLAG]: { defaultValue: true } } });
    stops.push(() => growthBook.destroy());

    // OpenFeature: its in-memory provider, and killswitch's provider over the collector gate.
    await OpenFeature.setProviderAndWait(
      'in-memory',
      new InMemoryProvider({ [COLLECTION_ALLOWED_FLAG]: { variants: { on: true, off: false }, defaultVariant: 'on', disabled: false } }),
    );
    await OpenFeature.setProviderAndWait('killswitch', new KillSwitchProvider(gate));
    stops.push(() => OpenFeature.close());
    const ofMemory = OpenFeature.getClient('in-memory');
    const ofKillswitch = OpenFeature.getClient('killswitch');

    const deadline = Date.now() + 3_600_000;
    const contenders: { name: string; sync?: () => boolean; async?: () => Promise<boolean> }[] = [
      // The floor of a flag that fails closed on staleness: one clock read (its double is the 16 bytes a call).
      { name: 'reference: Date.now() < deadline', sync: () => Date.now() < deadline },
      { name: 'killswitch KillSwitchGate.allowed()', sync: () => gate.allowed() },
      { name: 'killswitch AgentGate.allowed()', sync: () => agent.allowed() },
      { name: 'GrowthBook isOn()', sync: () => growthBook.isOn(COLLECTION_ALLOWED_FLAG) },
      { name: 'Unleash isEnabled()', sync: () => unleash.isEnabled(COLLECTION_ALLOWED_FLAG) },
      { name: 'LaunchDarkly variation()', async: () => launchDarkly.variation(COLLECTION_ALLOWED_FLAG, ldContext, false) },
      { name: 'OpenFeature getBooleanValue() (InMemoryProvider)', async: () => ofMemory.getBooleanValue(COLLECTION_ALLOWED_FLAG, false) },
      {
        name: 'OpenFeature getBooleanValue() (KillSwitchProvider)',
        async: () => ofKillswitch.getBooleanValue(COLLECTION_ALLOWED_FLAG, false),
      },
    ];
    for (const c of contenders) {
      const value = c.sync ? c.sync() : await c.async!();
      if (value !== true) throw new Error(`peers: ${c.name} does not say the flag is on`);
    }

    // What the measurement itself allocates per call (its clock and heap reads, per chunk): subtracted.
    const noop = { name: 'calibration', sync: () => true };
    const results: Record<string, { nsPerCall: number; bytesPerCall: number; gcs: number }> = {};
    let overhead = Infinity;
    for (let round_ = 0; round_ < 3; round_++) {
      overhead = Math.min(overhead, (await measure(noop, calls)).bytesPerCall);
      for (const c of contenders) {
        // The async APIs are 10–100 times slower: a tenth of the calls keeps the run short, the per-call figures unchanged.
        const n = c.sync ? calls : Math.max(10_000, Math.floor(calls / 10));
        const m = await measure(c, n);
        const best = results[c.name];
        results[c.name] = {
          nsPerCall: Math.min(best?.nsPerCall ?? Infinity, m.nsPerCall),
          bytesPerCall: Math.min(best?.bytesPerCall ?? Infinity, m.bytesPerCall),
          gcs: Math.max(best?.gcs ?? 0, m.gcs),
        };
      }
    }
    const rows = Object.entries(results)
      .map(([name, r]) => ({
        name,
        nsPerCall: round(r.nsPerCall),
        // null: a GC ran in every chunk of its calls (it allocates a lot; see its GCs).
        bytesPerCall: Number.isFinite(r.bytesPerCall) ? round(Math.max(0, r.bytesPerCall - overhead)) : null,
        gcsDuringLoops: r.gcs,
      }))
      .sort((a, b) => a.nsPerCall - b.nsPerCall);
    const ours = rows.find((r) => r.name === 'killswitch KillSwitchGate.allowed()')!;
    const fastestPeer = rows.find((r) => !r.name.startsWith('killswitch') && !r.name.startsWith('reference'))!;
    return {
      name: 'peers',
      calls,
      measurementBytesPerCall: round(overhead),
      peers: rows,
      fastest: rows[0]!.name,
      gateVsFastestPeer: round(ours.nsPerCall / fastestPeer.nsPerCall),
      versions: {
        launchDarkly: packageVersion('@launchdarkly/node-server-sdk'),
        unleash: packageVersion('unleash-client'),
        growthBook: packageVersion('@growthbook/growthbook'),
        openFeature: packageVersion('@openfeature/server-sdk'),
      },
      target: { gate: 'the fastest per call, with 0 bytes and 0 GCs' },
    };
  } finally {
    for (const stop of stops.reverse()) await Promise.resolve(stop()).catch(() => undefined);
  }
}

const CHUNK = 5_000;

/** ns per call over `n` calls; bytes per call from chunks of calls during which no GC ran; GCs seen. */
async function measure(c: { sync?: () => boolean; async?: () => Promise<boolean> }, n: number) {
  let gcs = 0;
  const chunk = { sawGc: false };
  const observer = new PerformanceObserver((list) => {
    gcs += list.getEntries().length;
    chunk.sawGc = true;
  });
  observer.observe({ entryTypes: ['gc'] });
  let hits = 0;
  let elapsed = 0;
  let bytes = 0;
  let measuredCalls = 0;
  try {
    for (let done = 0; done < n; done += CHUNK) {
      chunk.sawGc = false;
      const heapBefore = process.memoryUsage().heapUsed;
      const started = performance.now();
      if (c.sync) for (let i = 0; i < CHUNK; i++) hits += c.sync() ? 1 : 0;
      else for (let i = 0; i < CHUNK; i++) hits += (await c.async!()) ? 1 : 0;
      elapsed += performance.now() - started;
      const grown = process.memoryUsage().heapUsed - heapBefore;
      // The observer reports a GC after the loop that saw it: let it run before reading the flag.
      await new Promise((r) => setImmediate(r));
      if (!chunk.sawGc && grown >= 0) {
        bytes += grown;
        measuredCalls += CHUNK;
      }
    }
  } finally {
    observer.disconnect();
  }
  const total = Math.ceil(n / CHUNK) * CHUNK;
  if (hits !== total) throw new Error('peers: a flag turned off during the loop');
  return { nsPerCall: (elapsed * 1e6) / total, bytesPerCall: measuredCalls ? bytes / measuredCalls : NaN, gcs };
}

function packageVersion(name: string): string {
  return (JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), 'utf8')) as { version: string })
    .version;
}
