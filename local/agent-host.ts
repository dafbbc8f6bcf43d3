// Simulated endpoint agents on a worker thread: real AgentGates polling the state feed through the
// local CDN and acknowledging to the local intake, each with its own enrolment secret; every change
// of allowed() is reported to the main thread with an absolute high-resolution time.
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { AgentGate, memorySeqStore } from '#agent/gate.ts';
import { deriveAgentSecret } from '#agent/ack.ts';
import type { AgentFleetInit, AgentHostMessage } from './agent-fleet.ts';

const init = workerData as AgentFleetInit & { firstIndex: number; count: number };
const port = parentPort!;
const post = (message: AgentHostMessage) => port.postMessage(message);
const now = () => performance.timeOrigin + performance.now();

const master = new TextEncoder().encode(init.enrolmentSecret);
const gates = await Promise.all(
  Array.from({ length: init.count }, async (_, i) => {
    const collectorId = `agent-${String(init.firstIndex + i).padStart(6, '0')}`;
    return new AgentGate({
      feedUrl: init.feedUrl,
      programId: init.programId,
      scopes: init.scopesOf[(init.firstIndex + i) % init.scopesOf.length]!,
      refreshIntervalMs: init.refreshIntervalMs,
      requestTimeoutMs: Math.max(init.refreshIntervalMs, 5000),
      seqStore: memorySeqStore(),
      ...(init.ackUrl
        ? { ack: { url: init.ackUrl, collectorId, secret: await deriveAgentSecret(master, collectorId), jitterMs: init.ackJitterMs } }
        : {}),
    });
  }),
);
gates.forEach((gate, i) =>
  gate.onChange((s) => post({ type: 'change', index: init.firstIndex + i, allowed: s.allowed, seq: s.seq, at: now() })),
);

port.on('message', (message: 'status' | 'stop') => {
  if (message === 'status') {
    post({
      type: 'status',
      allowed: gates.filter((g) => g.allowed()).length,
      fetches: gates.reduce((n, g) => n + g.fetches, 0),
      rejections: gates.reduce<Record<string, number>>((by, g) => {
        for (const [reason, n] of Object.entries(g.state().rejections)) if (n) by[reason] = (by[reason] ?? 0) + n;
        return by;
      }, {}),
      reasons: [...new Set(gates.filter((g) => !g.allowed()).map((g) => g.state().reason))].slice(0, 5),
    });
  } else void Promise.all(gates.map((g) => g.stop())).then(() => post({ type: 'stopped' }));
});

// Start in small groups, as a fleet's machines come online at different times.
for (let i = 0; i < gates.length; i += 50) await Promise.all(gates.slice(i, i + 50).map((g) => g.start()));
post({ type: 'started', allowed: gates.filter((g) => g.allowed()).length });
