import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AgentAnswerError,
  AgentClient,
  AgentNoAnswerError,
  AgentProtocolError,
  AgentUnreachableError,
  agentUnavailable,
  AgentSkewError,
} from '../src/agent-client.ts';
import type { GcRequest } from '@hostnic/protocol';
import { decodeEmptyResponse } from '@hostnic/protocol';
import { v1Samples } from '@hostnic/protocol/testing';

/** Any request will do for the transport tests; GC is the same in every protocol version. */
const GC: GcRequest = v1Samples.gcRequest;
/** What each path received: its protocol header and body, in order. */
const received = new Map<string, { protocol: string | undefined; body: unknown }[]>();

let dir: string;
let server: Server;
let socketPath: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hn-client-'));
  socketPath = join(dir, 'agent.sock');
  server = createServer((req, res) => {
    const reply = (status: number, body: string): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(body);
    };
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      const protocol = req.headers['x-hostnic-protocol'] as string | undefined;
      const seen = received.get(req.url ?? '') ?? [];
      seen.push({ protocol, body: text === '' ? null : JSON.parse(text) });
      received.set(req.url ?? '', seen);
      const versioned = (status: number, version: string, body: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json', 'x-hostnic-protocol': version });
        res.end(JSON.stringify(body));
      };
      switch (req.url) {
        case '/agent-v4':
          return versioned(200, '4', {});
        case '/agent-v1-versioned':
          // An agent of a later release whose current version is 1: it refuses 2 in its own version.
          if (protocol !== '1') return versioned(400, '1', { code: 11, msg: `plugin ${protocol}, agent 1: finish the rollout` });
          return versioned(200, '1', {});
        case '/v1-agent-busy':
          return reply(400, JSON.stringify({ code: 11, msg: 'busy' }));
        case '/agent-refuses-all':
          return versioned(400, '1', { code: 11, msg: 'refused' });
        case '/bad-version':
          return versioned(200, 'two', {});
        case '/echo':
          return reply(200, JSON.stringify({ method: req.method, body: text === '' ? null : JSON.parse(text), protocol: req.headers['x-hostnic-protocol'] }));
        case '/cni-error':
          return reply(409, JSON.stringify({ code: 3, msg: 'no such container', details: 'abc' }));
        case '/unavailable':
          return reply(503, 'starting');
        case '/teapot':
          return reply(418, 'no');
        case '/garbage':
          return reply(200, '{nope');
        case '/hang':
          return;
        case '/truncated':
          // Half an answer, then the connection drops: an agent that crashed while answering.
          res.socket?.end('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{"result"');
          return;
        case '/answered-open':
          // A complete answer on a connection left open: the plugin must not wait for the close.
          res.socket?.write('HTTP/1.1 200 OK\r\nx-hostnic-protocol: 2\r\ncontent-length: 2\r\n\r\n{}');
          return;
        case '/status-503':
          return reply(503, JSON.stringify({ ready: false, code: 51, reason: 'syncing' }));
        default:
          return reply(404, JSON.stringify({ code: 999, msg: 'no such endpoint' }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('did not fail');
}

const client = (path = socketPath, connectTimeoutMs = 1_000) => new AgentClient({ socketPath: path, connectTimeoutMs });

describe('AgentClient', () => {
  it('posts JSON and parses the answer', async () => {
    const answer = await client().post('/echo', GC, 2_000, (raw) => raw);
    expect(answer).toEqual({ method: 'POST', body: GC, protocol: '2' });
    expect(await client().get('/echo', 2_000, (raw) => raw)).toMatchObject({ method: 'GET', body: null });
  });

  it('passes the CNI error of the agent on, code included', async () => {
    const e = await failure(client().post('/cni-error', GC, 2_000, (r) => r));
    expect(e).toBeInstanceOf(AgentAnswerError);
    expect(e).toMatchObject({ code: 3, message: 'no such container', details: 'abc', httpStatus: 409 });
    expect(agentUnavailable(e)).toBe(false);
  });

  it('treats 503 without a CNI error as try again later', async () => {
    const e = await failure(client().post('/unavailable', GC, 2_000, (r) => r));
    expect(e).toMatchObject({ code: 11, httpStatus: 503 });
    expect(agentUnavailable(e)).toBe(true);
  });

  it('calls anything else a protocol error', async () => {
    expect(await failure(client().post('/teapot', GC, 2_000, (r) => r))).toBeInstanceOf(AgentProtocolError);
    const garbage = await failure(client().post('/garbage', GC, 2_000, (r) => r));
    expect(garbage).toBeInstanceOf(AgentProtocolError);
    expect(garbage).toMatchObject({ code: 999 });
    const shape = await failure(
      client().post('/echo', GC, 2_000, () => {
        throw new Error('no result');
      }),
    );
    expect((shape as Error).message).toContain('is not the protocol: no result');
  });

  it('reads a non-2xx answer when the verb accepts it (STATUS)', async () => {
    const s = await client().get('/status-503', 2_000, (raw) => raw, true);
    expect(s).toEqual({ ready: false, code: 51, reason: 'syncing' });
  });

  it('gives up on a hanging agent at the deadline', async () => {
    const e = await failure(client().post('/hang', GC, 300, (r) => r));
    expect(e).toBeInstanceOf(AgentNoAnswerError);
    expect((e as AgentNoAnswerError).timedOut).toBe(true);
    expect((e as AgentNoAnswerError).code).toBe(11);
  });

  it('says an answer cut off by the agent is no answer (retryable), and takes a complete one on an open connection', async () => {
    const e = await failure(client().post('/truncated', GC, 2_000, (r) => r));
    expect(e).toBeInstanceOf(AgentNoAnswerError);
    expect((e as AgentNoAnswerError).timedOut).toBe(false);
    expect((e as Error).message).toContain('before the end of the response body');
    expect(await client().post('/answered-open', GC, 60_000, (raw) => raw)).toEqual({});
  });

  it('says the agent is not running when there is no socket', async () => {
    const e = await failure(client(join(dir, 'missing.sock')).post('/echo', GC, 2_000, (r) => r));
    expect(e).toBeInstanceOf(AgentUnreachableError);
    expect(e).toMatchObject({ code: 11, reason: 'no-socket' });
    expect((e as Error).message).toBe(`hostnic-agent is not reachable at ${join(dir, 'missing.sock')}: no socket (the agent is not running) (ENOENT)`);
  });

  it('says so too when the socket is stale (nobody listens)', async () => {
    // A listener killed without closing leaves its socket file behind, as a crashed agent does.
    const stale = join(dir, 'stale.sock');
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(stale)}, () => console.log('up'))`]);
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('close', resolve));
    expect(existsSync(stale)).toBe(true);
    const e = await failure(client(stale).post('/echo', GC, 2_000, (r) => r));
    expect(e).toMatchObject({ code: 11, reason: 'refused' });
  });
});

describe('AgentClient across protocol versions', () => {
  const add = { ...v1Samples.addRequest, attachment: { ...v1Samples.attachment, kubernetesPod: true } };

  it('current plugin -> agent answering v1 (no header): the answer is understood', async () => {
    expect(await client().post('/echo', GC, 2_000, (raw, version) => ({ raw, version }))).toMatchObject({ version: 1 });
    // Its errors are answers, never refusals of our version: passed on, not sent again.
    expect(await failure(client().post('/v1-agent-busy', GC, 2_000, decodeEmptyResponse))).toMatchObject({ code: 11, message: 'busy' });
    expect(received.get('/v1-agent-busy')).toHaveLength(1);
  });

  it('current plugin -> a versioned agent one behind: sent again in its version, the v1 shape', async () => {
    expect(await client().post('/agent-v1-versioned', add, 2_000, decodeEmptyResponse)).toEqual({});
    expect(received.get('/agent-v1-versioned')).toEqual([
      { protocol: '2', body: add },
      { protocol: '1', body: v1Samples.addRequest },
    ]);
    const refused = await failure(client().post('/agent-refuses-all', add, 2_000, decodeEmptyResponse));
    // Its answer to the version 1 request is its own error, passed on.
    expect(refused).toBeInstanceOf(AgentAnswerError);
    expect(refused).toMatchObject({ code: 11, message: 'refused' });
    expect(received.get('/agent-refuses-all')?.map((r) => r.protocol)).toEqual(['2', '1']);
  });

  it('two versions apart: code 11, "finish the rollout", and DEL treats the agent as down', async () => {
    const e = await failure(client().post('/agent-v4', add, 2_000, decodeEmptyResponse));
    expect(e).toBeInstanceOf(AgentSkewError);
    expect(e).toMatchObject({ code: 11, message: 'plugin 2, agent 4: finish the rollout', plugin: 2, agent: 4 });
    expect((e as AgentSkewError).details).toMatch(/rollout status ds\/hostnic-node/);
    expect(agentUnavailable(e)).toBe(true);
    expect(await failure(client().get('/agent-v4', 2_000, decodeEmptyResponse))).toBeInstanceOf(AgentSkewError);
  });

  it('a workload that is not a pod is never sent to a version 1 agent', async () => {
    const container = { ...add, attachment: { ...add.attachment, kubernetesPod: false } };
    const e = await failure(client().post('/agent-v1-versioned', container, 2_000, decodeEmptyResponse));
    expect(e).toBeInstanceOf(AgentSkewError);
    expect(received.get('/agent-v1-versioned')?.at(-1)?.protocol).toBe('2');
  });

  it('a version header that is not a number is a protocol error', async () => {
    const e = await failure(client().post('/bad-version', GC, 2_000, decodeEmptyResponse));
    expect(e).toBeInstanceOf(AgentProtocolError);
    expect((e as Error).message).toContain('header x-hostnic-protocol: expected a protocol version');
  });
});
