import { createServer, request } from 'node:http';
import type { Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiRequestMeter, requestOf } from '../../src/daemon/api-requests.ts';

const servers: Server[] = [];
const meters: ApiRequestMeter[] = [];
afterEach(async () => {
  for (const m of meters.splice(0)) m.close();
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

/** A server answering every request with 200 and an empty JSON object. */
async function server(): Promise<string> {
  const s = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const address = s.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return `http://127.0.0.1:${address.port}`;
}

function meter(apiserver: string): ApiRequestMeter {
  const m = new ApiRequestMeter(apiserver);
  meters.push(m);
  return m;
}

/** A request through node:http (the other channel). */
function httpPost(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST' }, (res) => res.resume().on('end', resolve));
    req.on('error', reject);
    req.end();
  });
}

describe('the apiserver requests of one pod operation', () => {
  it('counts the GETs and the writes the operation starts to the apiserver, through fetch and node:http', async () => {
    const api = await server();
    const m = meter(api);
    let inside: ReturnType<ApiRequestMeter['current']>;
    await m.measure(async () => {
      await fetch(`${api}/api/v1/namespaces/a/pods/b`);
      await fetch(`${api}/api/v1/namespaces/a/pods/b`, { method: 'PATCH', body: '{}' });
      await httpPost(`${api}/apis/x`);
      inside = m.current();
    });
    expect(inside).toEqual({ reads: 1, writes: 2 });
    expect(m.current()).toBeUndefined();
  });

  it('leaves out other servers, requests outside the operation, detached ones and those after it ended', async () => {
    const api = await server();
    const iaas = await server();
    const m = meter(api);
    await fetch(`${api}/outside`);
    let late: Promise<ReturnType<ApiRequestMeter['current']>> | undefined;
    let count: ReturnType<ApiRequestMeter['current']>;
    await m.measure(async () => {
      await fetch(`${iaas}/iaas/?action=DescribeNics`);
      await m.detached(() => fetch(`${api}/background`));
      // Started by the operation but sent after it returned: a straggler, not the operation's round trip.
      late = new Promise((r) => setTimeout(r, 20)).then(() => fetch(`${api}/later`)).then(() => m.current());
      count = m.current();
    });
    expect(count).toEqual({ reads: 0, writes: 0 });
    // Still in the operation's context, whose count closed when it returned.
    expect(await late).toEqual({ reads: 0, writes: 0 });
  });

  it('keeps concurrent operations apart', async () => {
    const api = await server();
    const m = meter(api);
    const op = (n: number): Promise<ReturnType<ApiRequestMeter['current']>> =>
      m.measure(async () => {
        for (let i = 0; i < n; i++) await fetch(`${api}/r${i}`);
        return m.current();
      });
    expect(await Promise.all([op(1), op(3), op(0)])).toEqual([{ reads: 1, writes: 0 }, { reads: 3, writes: 0 }, { reads: 0, writes: 0 }]);
  });

  it('reads the origin and method of both channels\' messages and nothing from other shapes', () => {
    expect(requestOf('undici:request:create', { request: { origin: 'https://10.0.0.1:6443', method: 'GET' } })).toEqual({ origin: 'https://10.0.0.1:6443', method: 'GET' });
    const headers: Record<string, string> = { host: '10.0.0.1:6443' };
    const clientRequest = { protocol: 'https:', method: 'PUT', getHeader: (n: string) => headers[n] };
    expect(requestOf('http.client.request.start', { request: clientRequest })).toEqual({ origin: 'https://10.0.0.1:6443', method: 'PUT' });
    expect(requestOf('undici:request:create', { request: { method: 'GET' } })).toBeUndefined();
    expect(requestOf('http.client.request.start', null)).toBeUndefined();
  });
});
