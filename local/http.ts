import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HttpReply {
  status: number;
  headers?: Record<string, string>;
  body: string;
}
export type HttpHandler = (request: {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}) => Promise<HttpReply>;

const MAX_BODY = 6 * 1024 * 1024; // Lambda's synchronous payload limit

/** A loopback HTTP server for one local AWS endpoint. */
export async function serve(
  handler: HttpHandler,
  port = 0,
): Promise<{ endpoint: string; port: number; server: Server; stop(): Promise<void> }> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        res.writeHead(413).end();
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      handler({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
        .then((reply) => res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers }).end(reply.body))
        .catch((error: unknown) =>
          res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ message: String(error) })),
        );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${actual}`,
    port: actual,
    server,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
