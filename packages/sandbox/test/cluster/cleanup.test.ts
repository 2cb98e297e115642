import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeQingCloud } from '@hostnic/iaas-client/fake';
import { createNamedNetns, deleteNamedNetns } from '@hostnic/netlink';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SandboxClosedError, createHostHook, randomPrefix, startSandboxNetwork, sweepOrphans, sweepStale } from '../../src/cluster/index.ts';
import { FAST_JOBS, entriesOf, netnsWithPrefix, rootLinksWithPrefix, tempBaseDir } from './helpers.ts';

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)('sandbox network cleanup', () => {
  let base: Awaited<ReturnType<typeof tempBaseDir>>;
  let prefix: string;
  const extraNetns: string[] = [];

  beforeEach(async () => {
    base = await tempBaseDir();
    prefix = randomPrefix();
  });

  afterEach(async () => {
    // A safety net for a failing assertion: nothing of this test may outlive it.
    await sweepStale(prefix, { baseDir: base.dir }).catch(() => undefined);
    for (const name of extraNetns.splice(0)) await deleteNamedNetns(name).catch(() => undefined);
    await base.remove();
  });

  async function expectNothingLeft(): Promise<void> {
    expect(await netnsWithPrefix(prefix)).toEqual([]);
    expect(await rootLinksWithPrefix(prefix)).toEqual([]);
    expect(await entriesOf(base.dir)).toEqual([]);
  }

  it('rejects an invalid vxnet CIDR before making anything', async () => {
    await expect(
      startSandboxNetwork({
        prefix,
        baseDir: base.dir,
        vxnets: [
          { id: 'vxnet-mgmt001', cidr: '10.100.0.0/24', management: true },
          { id: 'vxnet-pods001', cidr: '172.16.3.300/24' },
        ],
      }),
    ).rejects.toThrow(/vxnet-pods001.*invalid IPv4 CIDR/);
    await expectNothingLeft();
  });

  it('removes node 1, the vpc and the directory when node 2 fails', async () => {
    const hook = createHostHook();
    const fake = await startFakeQingCloud({ ...FAST_JOBS, hostHook: hook.handler });
    try {
      // The fake refuses a second instance with this id, after node 2's namespace and eth0 exist.
      fake.addInstance({ instance_id: 'i-taken002' });
      await expect(
        startSandboxNetwork({ prefix, baseDir: base.dir, qingcloud: fake, hostHook: hook, instanceIds: ['i-fresh001', 'i-taken002'] }),
      ).rejects.toThrow(/i-taken002/);
      await expectNothingLeft();
    } finally {
      await fake.close();
    }
  });

  it('refuses to start over a leftover directory and leaves it alone', async () => {
    const leftover = join(base.dir, `${prefix}-sandbox`);
    await mkdir(leftover);
    await expect(startSandboxNetwork({ prefix, baseDir: base.dir })).rejects.toThrow(/already exists.*sweepStale/);
    expect((await stat(leftover)).isDirectory()).toBe(true);
    expect(await netnsWithPrefix(prefix)).toEqual([]);
  });

  it('sweepOrphans removes the sandbox of a killed process and leaves a live one alone', async () => {
    const script = fileURLToPath(new URL('./fixtures/start-and-die.ts', import.meta.url));
    const child = spawnSync(process.execPath, ['--conditions=@hostnic/source', script, prefix, base.dir], { encoding: 'utf8', timeout: 60_000 });
    expect(child.stdout).toContain('started');
    expect(child.signal).toBe('SIGKILL');
    expect((await netnsWithPrefix(prefix)).length).toBeGreaterThan(0);
    const livePrefix = randomPrefix();
    const live = await startSandboxNetwork({ prefix: livePrefix, baseDir: base.dir, nodes: 1, fakeOptions: FAST_JOBS });
    try {
      // The dead run's dnsmasq (its VLAN vxnet's DHCP server) outlived it until the sweep.
      expect(spawnSync('pgrep', ['-f', `${prefix}-sandbox/dnsmasq`]).status).toBe(0);
      expect(await sweepOrphans({ baseDir: base.dir })).toEqual([prefix]);
      expect(await netnsWithPrefix(prefix)).toEqual([]);
      expect(spawnSync('pgrep', ['-f', `${prefix}-sandbox/dnsmasq`]).status).toBe(1);
      expect((await netnsWithPrefix(livePrefix)).length).toBeGreaterThan(0);
    } finally {
      await live.close();
    }
    await expectNothingLeft();
  });

  it('a pod namespace asked for after close is refused, not made and left behind', async () => {
    const sandbox = await startSandboxNetwork({ prefix, baseDir: base.dir, nodes: 1, fakeOptions: FAST_JOBS });
    await sandbox.close();
    // As a test's retry loop still running after its teardown would ask.
    await expect(sandbox.podNetns('node-1', 'late')).rejects.toThrow(SandboxClosedError);
    await expect(sandbox.podNetns('node-1', 'late')).rejects.toThrow(/sandbox is closed: "delete netns .*-node-1-late" would never run/);
    await expectNothingLeft();
  });

  it('sweepStale removes what a crashed run left, and nothing of another prefix', async () => {
    const crashed = await startSandboxNetwork({ prefix, baseDir: base.dir, nodes: 2, fakeOptions: FAST_JOBS });
    await crashed.podNetns('node-1', 'orphan');
    // A neighbour whose prefix starts like ours must survive.
    const neighbour = `${prefix}0-vpc`;
    await createNamedNetns(neighbour);
    extraNetns.push(neighbour);
    await crashed.qingcloud.close();

    const result = await sweepStale(prefix, { baseDir: base.dir });
    expect([...result.namespaces].sort()).toEqual(
      [`${prefix}-node-1`, `${prefix}-node-2`, `${prefix}-node-1-orphan`, `${prefix}-vpc`].sort(),
    );
    expect(result.directories).toEqual([join(base.dir, `${prefix}-sandbox`)]);
    await expectNothingLeft();
    expect((await netnsWithPrefix(`${prefix}0`))).toEqual([neighbour]);
    expect(await sweepStale(prefix, { baseDir: base.dir })).toEqual({ namespaces: [], directories: [] });
  });

  it('refuses to sweep with a prefix that could match foreign namespaces', async () => {
    await expect(sweepStale('')).rejects.toThrow(/invalid sandbox prefix/);
    await expect(sweepStale('a')).rejects.toThrow(/invalid sandbox prefix/);
  });
});
