/** `hostnic-controller run` as the Deployment runs it: kubeconfig and config.yaml files, stopped by a signal. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACCESS_KEY, SECRET, putVxNetPool, seedVxnets, startHarness, until, VXNET } from '../harness.ts';
import type { Harness } from '../harness.ts';
import { runCli } from '../../src/cli.ts';

let h: Harness;
let dir: string;
beforeEach(async () => {
  h = await startHarness();
  seedVxnets(h.fake);
  dir = await mkdtemp(join(tmpdir(), 'hostnic-controller-cli-'));
  await writeFile(join(dir, 'kubeconfig'), h.kubeconfig);
});
afterEach(async () => {
  await h.close();
  await rm(dir, { recursive: true, force: true });
});

async function iaasConfig(secret: string): Promise<string> {
  const file = join(dir, 'config.yaml');
  await writeFile(
    file,
    [`qy_access_key_id: '${ACCESS_KEY}'`, `qy_secret_access_key: '${secret}'`, 'zone: pek3a', `host: ${h.fake.endpoint.host}`, `port: ${h.fake.endpoint.port}`, 'protocol: http', ''].join('\n'),
  );
  return file;
}

describe('hostnic-controller run', () => {
  it('reconciles v-pool until SIGTERM, then exits 0 and logs JSON lines', async () => {
    putVxNetPool(h.kube, [VXNET], 27);
    const cluster = join(dir, 'qingcloud.yaml');
    await writeFile(cluster, 'zone: pek3a\nclusterID: ""\n');
    let stop: () => void = () => undefined;
    const stopSignal = new Promise<void>((resolve) => (stop = resolve));
    const err: string[] = [];
    const exit = runCli(
      ['--kubeconfig', join(dir, 'kubeconfig'), '--iaas-config', await iaasConfig(SECRET), '--cluster-config', cluster, '--metrics-port', '0', '--identity', 'cli-test', '--retry-period', '100ms'],
      { stdout: () => undefined, stderr: (t) => err.push(t), env: {}, stopSignal },
    );
    await until('v-pool ready', () => (h.kube.get('vxnetpools', 'v-pool')?.['status'] as { ready?: boolean } | undefined)?.ready);
    stop();
    expect(await exit).toBe(0);
    const lines = err.join('').trim().split('\n').map((l) => JSON.parse(l) as { msg: string; level: string });
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['IaaS credentials work', 'hostnic-controller started', 'stopping']));
    expect(h.kube.get('leases', 'hostnic-controller', 'kube-system')).toBeDefined();
  });

  it('refuses a HOSTNIC_FAILPOINT that names no step before it writes anything', async () => {
    const err: string[] = [];
    const code = await runCli(['--kubeconfig', join(dir, 'kubeconfig'), '--iaas-config', await iaasConfig(SECRET), '--metrics-port', '0'], {
      stdout: () => undefined,
      stderr: (t) => err.push(t),
      env: { HOSTNIC_FAILPOINT: 'vips:submited' },
      stopSignal: new Promise(() => undefined),
    });
    expect(code).toBe(1);
    expect(err.join('')).toContain('HOSTNIC_FAILPOINT=vips:submited names no step; known: vips:submitted,');
    expect(h.fake.requests()).toHaveLength(0);
    expect(h.kube.get('leases', 'hostnic-controller', 'kube-system')).toBeUndefined();
  });

  it('refuses to start with credentials the API rejects, naming the Secret to check', async () => {
    const err: string[] = [];
    const code = await runCli(['--kubeconfig', join(dir, 'kubeconfig'), '--iaas-config', await iaasConfig('WRONG'), '--metrics-port', '0'], {
      stdout: () => undefined,
      stderr: (t) => err.push(t),
      env: {},
      stopSignal: new Promise(() => undefined),
    });
    expect(code).toBe(1);
    expect(err.join('')).toMatch(/refused the credentials in .*config\.yaml.*qcsecret/);
  });

  it('names the option of a bad duration', async () => {
    const err: string[] = [];
    const code = await runCli(['run', '--ipam-leak-grace', 'soon'], { stdout: () => undefined, stderr: (t) => err.push(t), env: {} });
    expect(code).toBe(2);
    expect(err.join('')).toContain('--ipam-leak-grace "soon" is not a duration');
  });

  it('refuses an interval Node would run after 1 ms (above 2^31-1 ms)', async () => {
    const err: string[] = [];
    const code = await runCli(['run', '--nic-gc-interval', '720h'], { stdout: () => undefined, stderr: (t) => err.push(t), env: {} });
    expect(code).toBe(2);
    expect(err.join('')).toContain('--nic-gc-interval: must be at most 2147483647 ms');
  });

  it('answers --version', async () => {
    const out: string[] = [];
    expect(await runCli(['--version'], { stdout: (t) => out.push(t), stderr: () => undefined, env: {} })).toBe(0);
    expect(out.join('')).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});
