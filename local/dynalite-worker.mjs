// Runs dynalite on its own thread: the same process, but its own event loop and core, so
// that collectors, functions and the emulator do not queue behind each other.
// Plain JavaScript: a worker thread does not inherit the TypeScript loader.
import { parentPort, workerData } from 'node:worker_threads';
import dynalite from 'dynalite';

const { path, port } = workerData;
const server = dynalite({ path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.listen(port ?? 0, '127.0.0.1', () => {
  parentPort.postMessage({ port: server.address().port });
});
parentPort.on('message', (message) => {
  if (message === 'stop') {
    server.closeAllConnections();
    server.close(() => parentPort.postMessage('stopped'));
  }
});
