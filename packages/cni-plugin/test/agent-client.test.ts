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
} from '../src/agent-client.ts';

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
      switch (req.url) {
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
    const answer = await client().post('/echo', { a: 1 }, 2_000, (raw) => raw);
    expect(answer).toEqual({ method: 'POST', body: { a: 1 }, protocol: '1' });
    expect(await client().get('/echo', 2_000, (raw) => raw)).toMatchObject({ method: 'GET', body: null });
  });

  it('passes the CNI error of the agent on, code included', async () => {
    const e = await failure(client().post('/cni-error', {}, 2_000, (r) => r));
    expect(e).toBeInstanceOf(AgentAnswerError);
    expect(e).toMatchObject({ code: 3, message: 'no such container', details: 'abc', httpStatus: 409 });
    expect(agentUnavailable(e)).toBe(false);
  });

  it('treats 503 without a CNI error as try again later', async () => {
    const e = await failure(client().post('/unavailable', {}, 2_000, (r) => r));
    expect(e).toMatchObject({ code: 11, httpStatus: 503 });
    expect(agentUnavailable(e)).toBe(true);
  });

  it('calls anything else a protocol error', async () => {
    expect(await failure(client().post('/teapot', {}, 2_000, (r) => r))).toBeInstanceOf(AgentProtocolError);
    const garbage = await failure(client().post('/garbage', {}, 2_000, (r) => r));
    expect(garbage).toBeInstanceOf(AgentProtocolError);
    expect(garbage).toMatchObject({ code: 999 });
    const shape = await failure(
      client().post('/echo', {}, 2_000, () => {
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
    const started = performance.now();
    const e = await failure(client().post('/hang', {}, 300, (r) => r));
    expect(e).toBeInstanceOf(AgentNoAnswerError);
    expect((e as AgentNoAnswerError).timedOut).toBe(true);
    expect((e as AgentNoAnswerError).code).toBe(11);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('says the agent is not running when there is no socket', async () => {
    const e = await failure(client(join(dir, 'missing.sock')).post('/echo', {}, 2_000, (r) => r));
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
    const e = await failure(client(stale).post('/echo', {}, 2_000, (r) => r));
    expect(e).toMatchObject({ code: 11, reason: 'refused' });
  });
});
