import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { askWorker, workerStarted } from './collector-fleet.ts';

export interface AgentFleetInit {
  feedUrl: string;
  ackUrl: string;
  enrolmentSecret: string;
  programId: string;
  refreshIntervalMs: number;
  ackJitterMs: number;
  /** Scopes of agent i: scopesOf[i % length]. */
  scopesOf: string[][];
}
export type AgentHostMessage =
  | { type: 'started'; allowed: number }
  | { type: 'change'; index: number; allowed: boolean; seq: number | undefined; at: number }
  | { type: 'status'; allowed: number; fetches: number; rejections: Record<string, number>; reasons: string[] }
  | { type: 'stopped' };

export interface AgentFleet {
  size: number;
  /** Absolute time (performance.timeOrigin + now) at which each agent's allowed() turned false. */
  haltedAt: (number | undefined)[];
  /** allowed: agents collecting now; rejections: documents or fetches refused since start, by reason. */
  status(): Promise<{ allowed: number; fetches: number; rejections: Record<string, number>; reasons: string[] }>;
  stop(): Promise<void>;
}

/** The threads a fleet of `count` agents gets: enough that polling does not queue, no more than the machine has. */
export const agentThreads = (count: number) => Math.max(1, Math.min(Math.ceil(count / 250), Math.max(1, availableParallelism() - 2)));

/** Simulated endpoint agents (AgentGate) on worker threads of this process: separate machines in production. */
export async function startAgentFleet(options: AgentFleetInit & { count: number; threads?: number }): Promise<AgentFleet> {
  const threads = Math.max(1, Math.min(options.threads ?? agentThreads(options.count), options.count));
  const haltedAt: (number | undefined)[] = Array.from({ length: options.count }, () => undefined);
  const per = Math.ceil(options.count / threads);
  const workers: Worker[] = [];
  const started: Promise<void>[] = [];
  for (let t = 0; t < threads; t++) {
    const firstIndex = t * per;
    const count = Math.max(0, Math.min(per, options.count - firstIndex));
    if (!count) break;
    const { count: _total, threads: _threads, ...init } = options;
    const worker = new Worker(new URL('./ts-worker.mjs', import.meta.url), {
      workerData: { entry: new URL('./agent-host.ts', import.meta.url).href, ...init, firstIndex, count },
    });
    worker.on('message', (m: AgentHostMessage) => {
      if (m.type === 'change') haltedAt[m.index] = m.allowed ? undefined : (haltedAt[m.index] ?? m.at);
    });
    started.push(workerStarted(worker));
    workers.push(worker);
  }
  await Promise.all(started);
  const ask = <T extends AgentHostMessage['type']>(worker: Worker, message: 'status' | 'stop', reply: T) =>
    askWorker<AgentHostMessage, T>(worker, message, reply);
  return {
    size: options.count,
    haltedAt,
    status: async () => {
      const all = await Promise.all(workers.map((w) => ask(w, 'status', 'status')));
      return {
        allowed: all.reduce((n, s) => n + s.allowed, 0),
        fetches: all.reduce((n, s) => n + s.fetches, 0),
        rejections: all.reduce<Record<string, number>>((by, s) => {
          for (const [reason, n] of Object.entries(s.rejections)) by[reason] = (by[reason] ?? 0) + n;
          return by;
        }, {}),
        reasons: [...new Set(all.flatMap((s) => s.reasons))],
      };
    },
    stop: async () => {
      await Promise.all(workers.map((w) => ask(w, 'stop', 'stopped')));
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
