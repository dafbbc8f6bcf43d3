import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { pythonTools } from './python-tools.ts';

export interface MotoServer {
  /** http://127.0.0.1:<port>: every service moto emulates answers here. */
  endpoint: string;
  /** Forget every resource (moto's reset API). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * moto in server mode, pinned in tools/python/requirements.txt, on a loopback port of its own, for
 * the AWS services dynalite and fauxqs lack (S3 bucket policies, Lake Formation). Tests point the
 * real SDK clients at it with AWS_ENDPOINT_URL_<SERVICE>. Started by the test's set-up, stopped
 * after; its output is kept for the error if it does not come up.
 */
export async function startMoto(): Promise<MotoServer> {
  const { motoServer } = pythonTools();
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(motoServer, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += String(d)));
  child.stderr.on('data', (d) => (output += String(d)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited (${child.exitCode}) before answering:\n${output.slice(-2000)}`);
    try {
      if ((await fetch(`${endpoint}/moto-api/data.json`)).ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`moto_server did not answer on ${endpoint} within 60 s:\n${output.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    endpoint,
    reset: async () => {
      const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (!response.ok) throw new Error(`moto reset failed: ${response.status}`);
    },
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
