import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';

export interface FleetHostInit {
  endpoint: string;
  region: string;
  tableName: string;
  programId: string;
  refreshIntervalMs: number;
  firstIndex: number;
  collectors: { host: number; scopes: string[] }[];
}
export type FleetHostMessage =
  | { type: 'started'; allowed: number }
  | { type: 'change'; index: number; allowed: boolean; at: number }
  | { type: 'status'; allowed: number; reads: number; errors: string[] }
  | { type: 'latencies'; values: number[] }
  | { type: 'stopped' };

export interface CollectorFleet {
  size: number;
  /** Absolute time (performance.timeOrigin + now) at which each collector's allowed() turned false. */
  haltedAt: (number | undefined)[];
  status(): Promise<{ allowed: number; reads: number; errors: string[] }>;
  /** Read latencies (ms) the collectors saw since the last call. */
  latencies(): Promise<number[]>;
  stop(): Promise<void>;
}

const CATEGORIES = ['keystrokes', 'mouse', 'transcripts'];
const REGIONS = ['eu-west-1', 'us-east-1'];

/**
 * The i-th simulated collector: it runs on host ⌊i / perHost⌋ (an employee's machine, in one
 * region) and collects one category.
 */
export const collectorOf = (i: number, perHost: number): { host: number; scopes: string[] } => {
  const host = Math.floor(i / perHost);
  return { host, scopes: [`category#${CATEGORIES[i % CATEGORIES.length]}`, `region#${REGIONS[host % REGIONS.length]}`] };
};

/** The current time on the same clock as {@link CollectorFleet.haltedAt}. */
export const fleetNow = (): number => performance.timeOrigin + performance.now();

/**
 * Simulated collectors: real KillSwitchGates, spread over worker threads of this process (each
 * a "host"), so that their reads do not queue behind the functions on the main thread —
 * collectors are separate processes in production.
 */
export async function startCollectorFleet(options: {
  count: number;
  threads?: number;
  endpoint: string;
  region: string;
  tableName: string;
  programId: string;
  refreshIntervalMs: number;
  /** Collectors per simulated host; the collectors of a host share one read per interval. @default 4 */
  collectorsPerHost?: number;
}): Promise<CollectorFleet> {
  const perHost = options.collectorsPerHost ?? 4;
  const threads = Math.max(1, Math.min(options.threads ?? 1, options.count));
  const haltedAt: (number | undefined)[] = Array.from({ length: options.count }, () => undefined);
  const hosts: Worker[] = [];
  // Whole hosts per thread, so that no host's collectors are split across threads.
  const per = Math.ceil(Math.ceil(options.count / perHost) / threads) * perHost;
  const started: Promise<void>[] = [];
  for (let t = 0; t < threads; t++) {
    const firstIndex = t * per;
    const collectors = Array.from({ length: Math.max(0, Math.min(per, options.count - firstIndex)) }, (_, i) =>
      collectorOf(firstIndex + i, perHost),
    );
    const init: FleetHostInit = {
      endpoint: options.endpoint,
      region: options.region,
      tableName: options.tableName,
      programId: options.programId,
      refreshIntervalMs: options.refreshIntervalMs,
      firstIndex,
      collectors,
    };
    const worker = new Worker(new URL('./ts-worker.mjs', import.meta.url), {
      workerData: { entry: new URL('./collector-host.ts', import.meta.url).href, ...init },
    });
    worker.on('message', (m: FleetHostMessage) => {
      if (m.type === 'change') haltedAt[m.index] = m.allowed ? undefined : (haltedAt[m.index] ?? m.at);
    });
    started.push(workerStarted(worker));
    hosts.push(worker);
  }
  await Promise.all(started);

  const ask = <T extends FleetHostMessage['type']>(worker: Worker, message: 'status' | 'stop' | 'latencies', reply: T) =>
    askWorker<FleetHostMessage, T>(worker, message, reply);

  return {
    size: options.count,
    haltedAt,
    status: async () => {
      const all = await Promise.all(hosts.map((h) => ask(h, 'status', 'status')));
      return {
        allowed: all.reduce((n, s) => n + s.allowed, 0),
        reads: all.reduce((n, s) => n + s.reads, 0),
        errors: [...new Set(all.flatMap((s) => s.errors))],
      };
    },
    latencies: async () => (await Promise.all(hosts.map((h) => ask(h, 'latencies', 'latencies')))).flatMap((m) => m.values),
    stop: async () => {
      await Promise.all(hosts.map((h) => ask(h, 'stop', 'stopped')));
      await Promise.all(hosts.map((h) => h.terminate()));
    },
  };
}

/** Post `message` to a worker and resolve with its first reply of type `reply`. */
export function askWorker<M extends { type: string }, T extends M['type']>(
  worker: Worker,
  message: unknown,
  reply: T,
): Promise<Extract<M, { type: T }>> {
  return new Promise((resolve) => {
    const on = (m: M) => {
      if (m.type === reply) {
        worker.off('message', on);
        resolve(m as Extract<M, { type: T }>);
      }
    };
    worker.on('message', on);
    worker.postMessage(message);
  });
}

/** Resolves when the worker says `started`; rejects if it fails first. */
export function workerStarted(worker: Worker): Promise<void> {
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    const on = (m: { type: string }) => {
      if (m.type === 'started') {
        worker.off('message', on);
        resolve();
      }
    };
    worker.on('message', on);
  });
}

export function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
