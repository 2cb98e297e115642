/**
 * `hostnic-agent diags` through the CLI, against a stand-in agent on a unix socket: the bundle lands where
 * --output says (relative to the working directory), holds the socket's answers, the effective config, the
 * given log's tail and the config with its secret redacted, and the secret appears nowhere. The kernel parts
 * depend on the machine (tools, privileges) and are only checked to be there as a file or an error file.
 */

import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.ts';
import { KERNEL_COMMANDS } from '../../src/diags/parts.ts';

const SECRET = 'SeCrEt-0123456789';
let dir: string;
let server: Server;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hostnic-cli-diags-'));
  await writeFile(join(dir, 'hostnic.json'), '{"pool":{"maxNic":60}}');
  await writeFile(join(dir, 'instance-id'), 'i-diag0001\n');
  await writeFile(join(dir, 'config.yaml'), `qy_access_key_id: "AKIDTEST"\nqy_secret_access_key: "${SECRET}"\nzone: "pek3a"\n`);
  await writeFile(join(dir, 'agent.log'), '{"level":"info","msg":"started"}\n');
  server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(req.url === '/v1/status' ? { ready: true } : { [String(req.url).slice(4)]: [] }));
  });
  await new Promise<void>((resolve) => server.listen(join(dir, 'agent.sock'), resolve));
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

describe('hostnic-agent diags', () => {
  it('writes the bundle where --output says and prints its path', async () => {
    let out = '';
    let err = '';
    const code = await runCli(
      ['diags', '--output', 'bundle.tar.gz', '--socket', 'agent.sock', '--config', 'hostnic.json', '--qingcloud-config', 'config.yaml', '--instance-id-file', 'instance-id', '--log-file', 'agent.log'],
      { stdout: (t) => (out += t), stderr: (t) => (err += t), env: { MY_NODE_NAME: 'node-x' }, cwd: dir },
    );
    const file = join(dir, 'bundle.tar.gz');
    expect(code, err).toBe(0);
    expect(out).toBe(`${file}\n`);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const names = execFileSync('tar', ['-tzf', file], { encoding: 'utf8' }).trim().split('\n');
    const text = (name: string): string => execFileSync('tar', ['-xzOf', file, name], { encoding: 'utf8' });
    expect(JSON.parse(text('agent/status.json'))).toEqual({ ready: true });
    expect(JSON.parse(text('agent/pools.json'))).toEqual({ pools: [] });
    expect(JSON.parse(text('config/effective.json'))).toMatchObject({ identity: { instanceId: 'i-diag0001', nodeName: 'node-x' }, iaas: { zone: 'pek3a' } });
    expect(text('config/qingcloud-config.yaml')).toBe('qy_access_key_id: "AKIDTEST"\nqy_secret_access_key: \'<redacted>\'\nzone: "pek3a"\n');
    expect(text('logs/0-agent.log')).toBe('{"level":"info","msg":"started"}\n');
    expect(JSON.parse(text('about.json'))).toMatchObject({ nodeName: 'node-x' });
    for (const part of [...Object.keys(KERNEL_COMMANDS), 'kernel/sysctls.txt']) {
      expect(names.filter((n) => n === part || n === `${part}.error`), part).toHaveLength(1);
    }
    // A warning on stderr for each part recorded as an error, and nothing else.
    expect(err.split('\n').filter((l) => l !== '' && !l.startsWith('warning: kernel/')).length).toBe(0);
    expect(gunzipSync(await readFile(file)).toString('latin1')).not.toContain(SECRET);
  });
});
