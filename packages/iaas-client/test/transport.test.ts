import { createServer as createTcpServer } from 'node:net';
import type { Server as TcpServer, Socket } from 'node:net';
import { createServer } from 'node:http';
import type { Server, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { IaasTransportError } from '../src/index.ts';
import { BODY_INCOMPLETE, BODY_TIMEOUT, CONNECT_TIMEOUT, HEADERS_TIMEOUT, HttpTransport } from '../src/transport.ts';

const servers: (Server | TcpServer)[] = [];
const sockets = new Set<Socket>();
afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets.clear();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** An HTTP server on loopback answering with `reply`; resolves with its origin. */
async function serve(reply: (res: ServerResponse) => void): Promise<string> {
  const server = createServer((req, res) => {
    req.resume();
    reply(res);
  });
  server.on('connection', (s) => sockets.add(s));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return `http://127.0.0.1:${String(address.port)}`;
}

async function failure(transport: HttpTransport, method: 'GET' | 'POST' = 'GET'): Promise<IaasTransportError> {
  const err = await transport.send({ action: 'DescribeVxnets', method, path: '/iaas/', payload: 'a=1&signature=x' }).catch((e: unknown) => e);
  await transport.close();
  expect(err).toBeInstanceOf(IaasTransportError);
  return err as IaasTransportError;
}

describe('HttpTransport', () => {
  it('reads the status, content type and body; POSTs the payload as a form', async () => {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push(`${req.method ?? ''} ${req.url ?? ''} ${req.headers['content-type'] ?? ''} ${body}`);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ret_code":0}');
      });
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const transport = new HttpTransport({ origin: `http://127.0.0.1:${String(port)}`, connectTimeoutMs: 1_000, requestTimeoutMs: 1_000 });
    const got = await transport.send({ action: 'A', method: 'POST', path: '/iaas/', payload: 'b=2&signature=y' });
    const again = await transport.send({ action: 'A', method: 'GET', path: '/iaas/', payload: 'c=3' });
    await transport.close();
    expect(got).toEqual({ status: 200, contentType: 'application/json', body: '{"ret_code":0}' });
    expect(again.status).toBe(200);
    expect(seen).toEqual(['POST /iaas/ application/x-www-form-urlencoded b=2&signature=y', 'GET /iaas/?c=3  ']);
  });

  it('no response headers within requestTimeoutMs: maybe sent', async () => {
    const origin = await serve(() => undefined);
    const err = await failure(new HttpTransport({ origin, connectTimeoutMs: 1_000, requestTimeoutMs: 100 }));
    expect(err).toMatchObject({ code: HEADERS_TIMEOUT, delivery: 'maybe-sent' });
  });

  it('a body that stalls longer than requestTimeoutMs: maybe sent', async () => {
    const origin = await serve((res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"ret_code":');
    });
    const err = await failure(new HttpTransport({ origin, connectTimeoutMs: 1_000, requestTimeoutMs: 100 }));
    expect(err).toMatchObject({ code: BODY_TIMEOUT, delivery: 'maybe-sent' });
  });

  it('a body cut short by the server closing: maybe sent', async () => {
    const origin = await serve((res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"ret_code":', () => res.socket?.destroy());
    });
    const err = await failure(new HttpTransport({ origin, connectTimeoutMs: 1_000, requestTimeoutMs: 5_000 }));
    expect(err.delivery).toBe('maybe-sent');
    expect([BODY_INCOMPLETE, 'ECONNRESET']).toContain(err.code);
  });

  it('a TLS handshake that never completes is a connect timeout: not sent, so any action may be retried', async () => {
    const silent = createTcpServer((s) => sockets.add(s));
    servers.push(silent);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    const err = await failure(new HttpTransport({ origin: `https://127.0.0.1:${String(port)}`, connectTimeoutMs: 100, requestTimeoutMs: 5_000 }), 'POST');
    expect(err).toMatchObject({ code: CONNECT_TIMEOUT, delivery: 'not-sent' });
  });
});
