import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli-program.ts';
import { ACCESS_KEY, SECRET, startHarness, type Harness } from './helpers.ts';

let h: Harness;
let dir: string;
let configFile: string;
let out: string[];
let err: string[];
const io = () => ({ out: (t: string) => out.push(t), err: (t: string) => err.push(t), env: {} });

beforeEach(async () => {
  h = await startHarness();
  h.fake.addVxnet({ vxnet_id: 'vxnet-abc1234' });
  h.fake.addNic({ vxnet_id: 'vxnet-abc1234', nic_name: 'hostnic_i-abcdefgh' });
  dir = await mkdtemp(join(tmpdir(), 'hostnic-iaas-cli-'));
  configFile = join(dir, 'config.yaml');
  await writeFile(
    configFile,
    `qy_access_key_id: ${ACCESS_KEY}\nqy_secret_access_key: ${SECRET}\nzone: pek3a\nhost: ${h.fake.endpoint.host}\n` +
      `port: ${h.fake.endpoint.port}\nprotocol: http\nconnection_retries: 0\n`,
  );
  out = [];
  err = [];
});
afterEach(async () => {
  await h.close();
  await rm(dir, { recursive: true, force: true });
});

describe('hostnic-iaas', () => {
  it('whoami prints a table with the owner', async () => {
    expect(await runCli(['-c', configFile, 'whoami'], io())).toBe(0);
    expect(out.join('\n')).toMatch(/^ACCESS KEY\s+OWNER\s+ZONE\nQYACCESSKEYIDEXAMPLE\s+usr-\w+\s+pek3a$/);
  });

  it('describe-nics --name as JSON', async () => {
    expect(await runCli(['-c', configFile, '-o', 'json', 'describe-nics', '--name', 'hostnic_i-abcdefgh'], io())).toBe(0);
    const nics = JSON.parse(out.join('\n')) as { nicName: string; vxnetId: string }[];
    expect(nics).toHaveLength(1);
    expect(nics[0]).toMatchObject({ nicName: 'hostnic_i-abcdefgh', vxnetId: 'vxnet-abc1234' });
  });

  it('describe-vxnets reports ids it could not find on stderr', async () => {
    expect(await runCli(['-c', configFile, 'describe-vxnets', 'vxnet-abc1234', 'vxnet-zzzzzzz'], io())).toBe(0);
    expect(out.join('\n')).toContain('vxnet-abc1234');
    expect(err).toEqual(['not found: vxnet-zzzzzzz']);
  });

  it('an unreadable config is one clear line and exit code 1', async () => {
    expect(await runCli(['-c', join(dir, 'nope.yaml'), 'whoami'], io())).toBe(1);
    expect(err.join('\n')).toMatch(/^error: .*nope\.yaml: does not exist/);
  });

  it('bad usage exits 2', async () => {
    expect(await runCli(['-c', configFile, '-o', 'xml', 'whoami'], io())).toBe(2);
    expect(await runCli(['frobnicate'], io())).toBe(2);
  });

  it('runs as a program', async () => {
    // Asynchronous spawn: the fake answers from this process, so a synchronous one would deadlock.
    const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
    const child = spawn(process.execPath, ['--conditions=@hostnic/source', cli, '--config', configFile, 'describe-jobs', 'j-nothere0']);
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(status).toBe(1);
    expect(stderr).toMatch(/^error: QingCloud Error: Code \(2100\)/);
  });
});
