import { Worker } from 'node:worker_threads';
import type { HttpHandler, HttpReply } from './http.ts';

interface Cached {
  status: number;
  body: string;
  headers: Record<string, string>;
  /** performance.now() when the origin answered (or revalidated). */
  fetchedAt: number;
  maxAgeMs: number;
}

/**
 * The local stand-in for CloudFront in front of the state feed's bucket: GET and HEAD only, the
 * cache key is the path alone (query strings, headers and cookies are not in it, as in the
 * distribution's cache policy), an object is fresh for its origin `Cache-Control: max-age`
 * (whole seconds, as CloudFront counts), concurrent misses of one path share one origin request,
 * a stale object is revalidated with `If-None-Match`, responses keep the origin's `Date` and say
 * how long they were held in `Age`, and `If-None-Match` from agents is answered with 304.
 * `originRequests` counts what reached the origin: the load that must not grow with the fleet.
 */
export class LocalFeedCdn {
  readonly #cache = new Map<string, Cached>();
  readonly #inflight = new Map<string, Promise<Cached>>();
  originRequests = 0;
  requests = 0;

  /** @param origin the bucket's URL, path-style: `http://127.0.0.1:port/<bucket>` */
  constructor(private readonly origin: string) {}

  async #fetch(path: string): Promise<Cached> {
    const cached = this.#cache.get(path);
    this.originRequests++;
    const res = await fetch(`${this.origin}${path}`, { headers: cached?.headers.etag ? { 'if-none-match': cached.headers.etag } : {} });
    const body = await res.text();
    const maxAge = /(?:^|,)\s*max-age=(\d+)/.exec(res.headers.get('cache-control') ?? '');
    const maxAgeMs = maxAge ? Number(maxAge[1]) * 1000 : 1000; // the cache policy's default TTL: 1 s
    if (res.status === 304 && cached) {
      const next = {
        ...cached,
        fetchedAt: performance.now(),
        headers: { ...cached.headers, date: res.headers.get('date') ?? cached.headers.date! },
      };
      this.#cache.set(path, next);
      return next;
    }
    const headers: Record<string, string> = { date: res.headers.get('date') ?? new Date().toUTCString() };
    for (const h of ['etag', 'content-type', 'cache-control', 'last-modified']) {
      const v = res.headers.get(h);
      if (v) headers[h] = v;
    }
    const entry = { status: res.status, body, headers, fetchedAt: performance.now(), maxAgeMs: res.ok ? maxAgeMs : 1000 };
    this.#cache.set(path, entry);
    return entry;
  }

  handler(): HttpHandler {
    return async ({ method, url, headers }) => {
      this.requests++;
      if (method !== 'GET' && method !== 'HEAD')
        return { status: 403, body: 'This distribution is not configured to allow the HTTP request method.' };
      const path = new URL(url, 'http://cdn').pathname;
      let entry = this.#cache.get(path);
      const hit = !!entry && performance.now() - entry.fetchedAt < entry.maxAgeMs;
      if (!hit) {
        let pending = this.#inflight.get(path);
        if (!pending) {
          pending = this.#fetch(path).finally(() => this.#inflight.delete(path));
          this.#inflight.set(path, pending);
        }
        entry = await pending;
      }
      entry = entry!;
      const age = String(Math.floor((performance.now() - entry.fetchedAt) / 1000));
      const reply: HttpReply = {
        status: entry.status,
        headers: { ...entry.headers, age, 'x-cache': hit ? 'Hit from local-cdn' : 'Miss from local-cdn' },
        body: entry.body,
      };
      if (entry.status === 200 && headers['if-none-match'] && headers['if-none-match'] === entry.headers.etag)
        return { status: 304, headers: reply.headers, body: '' };
      return method === 'HEAD' ? { ...reply, body: '' } : reply;
    };
  }
}

export type FeedCdnHostMessage =
  { type: 'started'; endpoint: string } | { type: 'counts'; originRequests: number; requests: number } | { type: 'stopped' };

/** The local CDN on its own thread (see feed-cdn-host.ts): its endpoint, what it served, and what reached the origin. */
export interface LocalFeedCdnServer {
  endpoint: string;
  counts(): Promise<{ originRequests: number; requests: number }>;
  stop(): Promise<void>;
}

export async function startLocalFeedCdn(origin: string): Promise<LocalFeedCdnServer> {
  const worker = new Worker(new URL('./ts-worker.mjs', import.meta.url), {
    workerData: { entry: new URL('./feed-cdn-host.ts', import.meta.url).href, origin },
  });
  const next = <T extends FeedCdnHostMessage['type']>(type: T, send?: string) =>
    new Promise<Extract<FeedCdnHostMessage, { type: T }>>((resolve, reject) => {
      const on = (m: FeedCdnHostMessage) => {
        if (m.type !== type) return;
        worker.off('message', on);
        worker.off('error', reject);
        resolve(m as Extract<FeedCdnHostMessage, { type: T }>);
      };
      worker.on('message', on);
      worker.once('error', reject);
      if (send) worker.postMessage(send);
    });
  const { endpoint } = await next('started');
  return {
    endpoint,
    counts: async () => {
      const { originRequests, requests } = await next('counts', 'counts');
      return { originRequests, requests };
    },
    stop: async () => {
      await next('stopped', 'stop');
      await worker.terminate();
    },
  };
}
