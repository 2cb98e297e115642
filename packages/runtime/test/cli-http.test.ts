import { createServer, get } from 'node:http';
import { describe, expect, it } from 'vitest';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, isMainModule, listen, newProgram, probeReply, readOnlyHandler, runProgram, versionText } from '../src/index.ts';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t) } };
}

function build(output: ReturnType<typeof io>['io']) {
  return (setCode: (code: number) => void) => {
    const program = newProgram('hostnic-demo', 'a demo', '9.8.7', output);
    program.command('ok').action(() => setCode(EXIT_OK));
    program.command('three').action(() => setCode(3));
    program.command('fail').action(() => {
      throw new Error('config file /etc/x is not JSON');
    });
    return program;
  };
}

describe('runProgram', () => {
  it('answers --version with the version and exit 0', async () => {
    const o = io();
    expect(await runProgram(build(o.io), ['--version'], o.io)).toBe(EXIT_OK);
    expect(o.out.join('')).toBe('9.8.7\n');
  });

  it('adds the revision a bundle recorded to the version (run from sources there is none)', () => {
    expect(versionText('9.8.7')).toBe('9.8.7');
    expect(versionText('9.8.7', '1a2b3c4d5e6f-dirty')).toBe('9.8.7 (revision 1a2b3c4d5e6f-dirty)');
  });

  it('returns the code the action set, 2 on usage errors, 1 with the message on a throw', async () => {
    const o = io();
    expect(await runProgram(build(o.io), ['three'], o.io)).toBe(3);
    expect(await runProgram(build(o.io), ['--no-such-flag'], o.io)).toBe(EXIT_USAGE);
    expect(await runProgram(build(o.io), ['fail'], o.io)).toBe(EXIT_FAILURE);
    expect(o.err.at(-1)).toBe('hostnic-demo: config file /etc/x is not JSON\n');
  });

  it('isMainModule compares real paths', () => {
    expect(isMainModule(import.meta.url, new URL(import.meta.url).pathname)).toBe(true);
    expect(isMainModule(import.meta.url, '/nonexistent/script.js')).toBe(false);
    expect(isMainModule(import.meta.url, undefined)).toBe(false);
  });
});

describe('listen', () => {
  it('binds, reports the real port, closes with open keep-alive connections, and rejects a taken port', async () => {
    const server = createServer((_req, res) => res.end('pong'));
    const l = await listen(server, { port: 0, host: '127.0.0.1' });
    expect(l.port).toBeGreaterThan(0);
    const body = await new Promise<string>((resolve, reject) => {
      get({ host: '127.0.0.1', port: l.port, path: '/', agent: false, headers: { connection: 'keep-alive' } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve(text));
      }).on('error', reject);
    });
    expect(body).toBe('pong');
    const second = createServer();
    await expect(listen(second, { port: l.port!, host: '127.0.0.1' })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await l.close();
    expect(server.listening).toBe(false);
  });
});

describe('readOnlyHandler', () => {
  it('answers GET/HEAD of its routes, 405 other methods, 404 other paths, 500 with the message on a throw', async () => {
    let problem: string | undefined = 'datastore closed';
    const server = createServer(readOnlyHandler({
      '/healthz': () => probeReply(problem),
      '/boom': () => Promise.reject(new Error('render failed')),
    }));
    const l = await listen(server, { port: 0, host: '127.0.0.1' });
    const at = (path: string, method = 'GET') => fetch(`http://127.0.0.1:${l.port}${path}`, { method });
    try {
      const sick = await at('/healthz');
      expect([sick.status, await sick.text()]).toEqual([503, 'datastore closed\n']);
      problem = undefined;
      const well = await at('/healthz?verbose=1');
      expect([well.status, await well.text()]).toEqual([200, 'ok\n']);
      expect((await at('/healthz', 'HEAD')).status).toBe(200);
      expect((await at('/healthz', 'POST')).status).toBe(405);
      expect((await at('/nothing')).status).toBe(404);
      const boom = await at('/boom');
      expect([boom.status, await boom.text()]).toEqual([500, 'render failed\n']);
    } finally {
      await l.close();
    }
  });
});
