import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listen } from '../src/http.ts';
import { KubeApiError, KubeClient, KubeInformer, KubeRequestError, fixedToken, httpStatusOf, isConflict, describeError } from '../src/kube/http/index.ts';
import type { InformerEvent, KubeObject } from '../src/kube/http/index.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

type Route = (req: Seen, res: ServerResponse) => void;

/** A tiny HTTP stand-in for the apiserver: each test routes by `METHOD path` (query excluded). */
class FakeApi {
  readonly seen: Seen[] = [];
  readonly routes = new Map<string, Route>();
  readonly server: Server;
  url = '';
  #close: (() => Promise<void>) | undefined;

  constructor() {
    this.server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => {
        body += chunk;
      });
      req.on('end', () => {
        const seen: Seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
        this.seen.push(seen);
        const route = this.routes.get(`${seen.method} ${seen.url.split('?')[0] ?? ''}`);
        if (route === undefined) json(res, 404, { kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404, message: `${seen.url} not found` });
        else route(seen, res);
      });
    });
  }

  async start(): Promise<void> {
    const bound = await listen(this.server, { port: 0, host: '127.0.0.1' });
    this.url = `http://127.0.0.1:${bound.port}`;
    this.#close = () => bound.close();
  }

  async stop(): Promise<void> {
    await this.#close?.();
  }

  query(index: number): URLSearchParams {
    return new URL(this.seen[index]?.url ?? '/', 'http://x').searchParams;
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function pod(name: string, rv: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', resourceVersion: rv } };
}

let api: FakeApi;
let client: KubeClient;

beforeEach(async () => {
  api = new FakeApi();
  await api.start();
  client = new KubeClient({ server: api.url, insecureSkipTlsVerify: false, token: fixedToken('t0k') });
});

afterEach(async () => {
  await client.close();
  await api.stop();
});

describe('KubeClient requests', () => {
  it('sends the bearer token and JSON, and reads the answer', async () => {
    api.routes.set('POST /api/v1/namespaces/default/pods', (req, res) => json(res, 201, JSON.parse(req.body)));
    const created = await client.create<KubeObject>('/api/v1/namespaces/default/pods', pod('a', ''));
    expect(created.metadata?.name).toBe('a');
    expect(api.seen[0]?.headers['authorization']).toBe('Bearer t0k');
    expect(api.seen[0]?.headers['content-type']).toBe('application/json');
    expect(client.stats).toEqual({ reads: 0, writes: 1, watches: 0 });
  });

  it('a failure carries the HTTP code and the Status body, as client-node ApiException does', async () => {
    api.routes.set('PUT /api/v1/namespaces/default/pods/a', (_req, res) =>
      json(res, 409, { kind: 'Status', reason: 'Conflict', code: 409, message: 'the object has been modified' }));
    const error = await client.replace('/api/v1/namespaces/default/pods/a', pod('a', '1')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeApiError);
    expect(httpStatusOf(error)).toBe(409);
    expect(isConflict(error)).toBe(true);
    expect((error as KubeApiError).reason).toBe('Conflict');
    expect(describeError(error)).toBe('HTTP 409: the object has been modified');
    const missing = await client.get('/api/v1/namespaces/default/pods/zz').catch((e: unknown) => e);
    expect(httpStatusOf(missing)).toBe(404);
  });

  it('patches with the content type of the strategy; deletes with preconditions', async () => {
    api.routes.set('PATCH /api/v1/namespaces/default/pods/a/status', (_req, res) => json(res, 200, pod('a', '2')));
    api.routes.set('DELETE /api/v1/namespaces/default/pods/a', (_req, res) => json(res, 200, { kind: 'Status', status: 'Success' }));
    await client.patch('/api/v1/namespaces/default/pods/a/status', { status: { podIP: '10.0.0.9' } }, 'strategic');
    await client.patch('/api/v1/namespaces/default/pods/a/status', { status: {} }, 'merge');
    await client.delete('/api/v1/namespaces/default/pods/a', { preconditions: { resourceVersion: '2', uid: 'u1' } });
    expect(api.seen.map((s) => s.headers['content-type'])).toEqual([
      'application/strategic-merge-patch+json',
      'application/merge-patch+json',
      'application/json',
    ]);
    expect(JSON.parse(api.seen[2]?.body ?? '')).toEqual({ apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { resourceVersion: '2', uid: 'u1' } });
  });

  it('lists every page with the selectors and keeps the snapshot version', async () => {
    api.routes.set('GET /api/v1/pods', (req, res) => {
      const q = new URL(req.url, 'http://x').searchParams;
      if (q.get('continue') === null) json(res, 200, { kind: 'PodList', metadata: { resourceVersion: '7', continue: 'next' }, items: [pod('a', '5')] });
      else json(res, 200, { kind: 'PodList', metadata: { resourceVersion: '7' }, items: [pod('b', '6')] });
    });
    const list = await client.listAll<KubeObject>('/api/v1/pods', { fieldSelector: 'spec.nodeName=n1', labelSelector: 'app=x', pageSize: 1 });
    expect(list.items.map((p) => p.metadata?.name)).toEqual(['a', 'b']);
    expect(list.metadata.resourceVersion).toBe('7');
    expect(api.seen).toHaveLength(2);
    expect(Object.fromEntries(api.query(1))).toEqual({ fieldSelector: 'spec.nodeName=n1', labelSelector: 'app=x', limit: '1', continue: 'next' });
  });

  it('a request without an answer in time is a KubeRequestError without a status', async () => {
    api.routes.set('GET /slow', () => undefined);
    const error = await client.get('/slow', { timeoutMs: 50 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeRequestError);
    expect(httpStatusOf(error)).toBeUndefined();
  });

  it('takes a token of the rate limit per request', async () => {
    const limited = new KubeClient({ server: api.url, insecureSkipTlsVerify: false, token: fixedToken(undefined) }, { rateLimit: { qps: 1000, burst: 2 } });
    api.routes.set('GET /x', (_req, res) => json(res, 200, {}));
    await Promise.all([limited.get('/x'), limited.get('/x'), limited.get('/x')]);
    await limited.close();
    expect(api.seen).toHaveLength(3);
    expect(api.seen[0]?.headers['authorization']).toBeUndefined();
  });
});

describe('KubeClient.watch', () => {
  it('yields the events of a chunked stream, with the version and bookmarks asked for', async () => {
    api.routes.set('GET /api/v1/pods', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const line = JSON.stringify({ type: 'ADDED', object: pod('a', '8') });
      res.write(line.slice(0, 10));
      res.write(`${line.slice(10)}\n{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"9"}}}\n`);
      res.end();
    });
    const events = [];
    for await (const event of client.watch<KubeObject>('/api/v1/pods', { resourceVersion: '7', fieldSelector: 'spec.nodeName=n1' })) events.push(event);
    expect(events.map((e) => [e.type, e.object.metadata?.resourceVersion])).toEqual([['ADDED', '8'], ['BOOKMARK', '9']]);
    const q = api.query(0);
    expect([q.get('watch'), q.get('resourceVersion'), q.get('allowWatchBookmarks'), q.get('fieldSelector')]).toEqual(['true', '7', 'true', 'spec.nodeName=n1']);
  });

  it('ends quietly when the signal aborts', async () => {
    api.routes.set('GET /api/v1/pods', (_req, res) => {
      res.writeHead(200).write(`${JSON.stringify({ type: 'ADDED', object: pod('a', '8') })}\n`);
    });
    const stop = new AbortController();
    const events = [];
    for await (const event of client.watch<KubeObject>('/api/v1/pods', { signal: stop.signal })) {
      events.push(event);
      stop.abort();
    }
    expect(events).toHaveLength(1);
  });
});

describe('KubeInformer', () => {
  it('lists, watches from the version, relists after 410 Gone, and stops', async () => {
    let lists = 0;
    const watches: Array<string | null> = [];
    api.routes.set('GET /api/v1/pods', (req, res) => {
      const q = new URL(req.url, 'http://x').searchParams;
      if (q.get('watch') !== 'true') {
        lists++;
        const items = lists === 1 ? [pod('a', '1'), pod('b', '2')] : [pod('b', '2'), pod('c', '11')];
        json(res, 200, { metadata: { resourceVersion: lists === 1 ? '5' : '12' }, items });
        return;
      }
      watches.push(q.get('resourceVersion'));
      res.writeHead(200);
      if (watches.length === 1) {
        res.write(`${JSON.stringify({ type: 'MODIFIED', object: pod('a', '6') })}\n`);
        res.end(`${JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '8' } } })}\n`);
      } else if (watches.length === 2) {
        res.end(`${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } })}\n`);
      } else {
        res.write(`${JSON.stringify({ type: 'DELETED', object: pod('b', '13') })}\n`); // held open until stop
      }
    });
    const informer = new KubeInformer<KubeObject>({ name: 'pods', client, path: '/api/v1/pods', resyncMs: 0, backoff: { baseMs: 1, maxMs: 2 } });
    const events: Array<InformerEvent<KubeObject>> = [];
    informer.onEvent((e) => events.push(e));
    informer.start();
    await informer.synced();
    await expect.poll(() => informer.get('b', 'default'), { timeout: 20_000 }).toBeUndefined();
    await informer.stop();
    expect(watches).toEqual(['5', '8', '12']);
    expect(informer.stats).toMatchObject({ lists: 2, expired: 1, errors: 0, watches: 3 });
    expect(events.map((e) => `${e.type} ${e.object.metadata?.name} ${e.object.metadata?.resourceVersion}`)).toEqual([
      'add a 1', 'add b 2', 'update a 6', 'add c 11', 'delete a 6', 'delete b 13',
    ]);
    expect(informer.list().map((p) => p.metadata?.name)).toEqual(['c']);
    await expect(informer.synced()).resolves.toBeUndefined();
  });

  it('restarts after a failed list and counts the error', async () => {
    let lists = 0;
    api.routes.set('GET /api/v1/pods', (req, res) => {
      if (new URL(req.url, 'http://x').searchParams.get('watch') === 'true') {
        res.writeHead(200);
        return;
      }
      lists++;
      if (lists === 1) json(res, 500, { kind: 'Status', code: 500, message: 'etcd is down' });
      else json(res, 200, { metadata: { resourceVersion: '3' }, items: [pod('a', '3'), { metadata: {} }] });
    });
    const informer = new KubeInformer<KubeObject>({ name: 'pods', client, path: '/api/v1/pods', resyncMs: 0, backoff: { baseMs: 1, maxMs: 2 } });
    informer.start();
    await informer.synced();
    expect(informer.stats).toMatchObject({ lists: 1, errors: 1, lastError: 'HTTP 500: etcd is down' });
    expect(informer.list()).toHaveLength(1); // the object without a name is skipped
    await informer.stop();
    await expect(new KubeInformer({ name: 'x', client, path: '/p' }).stop()).resolves.toBeUndefined();
  });
});
