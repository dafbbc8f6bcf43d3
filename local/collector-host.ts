// One simulated collector host on a worker thread: runs a share of the fleet's gates and
// reports every change of allowed() to the main thread, with an absolute high-resolution time.
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { Agent } from 'node:http';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { KillSwitchGate } from '#collector/gate.ts';
import type { FleetHostInit, FleetHostMessage } from './collector-fleet.ts';

const init = workerData as FleetHostInit;
const port = parentPort!;
const post = (message: FleetHostMessage) => port.postMessage(message);
const now = () => performance.timeOrigin + performance.now();

// Each simulated host (an employee's machine) has its own client, hence its own state feed
// shared by the collectors it runs; the hosts of this thread share one connection pool.
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
let latencies: number[] = [];
const clients = new Map<number, DynamoDBClient>();
const clientOf = (host: number) => {
  let client = clients.get(host);
  if (!client) {
    client = new DynamoDBClient({
      endpoint: init.endpoint,
      region: init.region,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 2,
      requestHandler: new NodeHttpHandler({ httpAgent: agent }),
    });
    // Read latency as the collector sees it (for the fleet's figures and the benchmarks).
    client.middlewareStack.add(
      (next) => async (args) => {
        const started = performance.now();
        try {
          return await next(args);
        } finally {
          latencies.push(performance.now() - started);
        }
      },
      { step: 'initialize', name: 'fleetReadTimer' },
    );
    clients.set(host, client);
  }
  return client;
};
const gates = init.collectors.map(
  ({ host, scopes }) =>
    new KillSwitchGate({
      tableName: init.tableName,
      programId: init.programId,
      scopes,
      refreshIntervalMs: init.refreshIntervalMs,
      client: clientOf(host),
    }),
);

gates.forEach((gate, i) =>
  gate.onChange((state) => post({ type: 'change', index: init.firstIndex + i, allowed: state.allowed, at: now() })),
);

port.on('message', (message: 'status' | 'stop' | 'latencies') => {
  if (message === 'latencies') {
    post({ type: 'latencies', values: latencies });
    latencies = [];
  } else if (message === 'status') {
    // One feed per host: count each host's reads once.
    const hostReads = new Map<number, number>();
    init.collectors.forEach(({ host }, i) => hostReads.set(host, gates[i]!.reads));
    post({
      type: 'status',
      allowed: gates.filter((g) => g.allowed()).length,
      reads: [...hostReads.values()].reduce((n, r) => n + r, 0),
      errors: [...new Set(gates.map((g) => g.state().error).filter((e): e is string => !!e))],
    });
  } else {
    void Promise.all(gates.map((g) => g.stop())).then(() => {
      for (const client of clients.values()) client.destroy();
      agent.destroy();
      post({ type: 'stopped' });
    });
  }
});

await Promise.all(gates.map((g) => g.start()));
post({ type: 'started', allowed: gates.filter((g) => g.allowed()).length });
