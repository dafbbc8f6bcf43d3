// The local CDN on a thread of its own, as CloudFront is a system of its own: the agents' polls are
// answered here and never wait for the main thread's event loop (where the functions, the origin
// bucket and the emulators run); only the CDN's own misses and revalidations cross to the origin.
import { parentPort, workerData } from 'node:worker_threads';
import { LocalFeedCdn } from './feed-cdn.ts';
import { serve } from './http.ts';
import type { FeedCdnHostMessage } from './feed-cdn.ts';

const port = parentPort!;
const post = (message: FeedCdnHostMessage) => port.postMessage(message);
const cdn = new LocalFeedCdn((workerData as { origin: string }).origin);
const server = await serve(cdn.handler());
port.on('message', (message: 'counts' | 'stop') => {
  if (message === 'counts') post({ type: 'counts', originRequests: cdn.originRequests, requests: cdn.requests });
  else void server.stop().then(() => post({ type: 'stopped' }));
});
post({ type: 'started', endpoint: server.endpoint });
