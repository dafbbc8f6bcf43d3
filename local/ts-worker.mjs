// Bootstrap for worker threads that run TypeScript modules: a worker does not inherit the
// tsx loader of its parent, so it registers it, then imports the module named in workerData.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
