/**
 * A container that is not a Kubernetes pod, run by podman (its CNI backend, runc, the cgroupfs manager) on a
 * sandbox node through the installed hostnic plugin: it gets an address of the vxnet, reaches the node and
 * the vxnet's gateway, and once it has exited nothing of it is left on the node or in the agent. The image is
 * made here from Debian's static busybox, so no registry is reached.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLUGIN, nodeLeftovers, run, socketGet, startHostnicStack } from '../../src/stack/index.ts';
import type { HostnicStack } from '../../src/stack/index.ts';

const isRoot = process.getuid?.() === 0;
const BUSYBOX = '/bin/busybox';
const hasPodman = spawnSync('podman', ['--version']).status === 0 && existsSync(BUSYBOX);
const PODS = { id: 'vxnet-pods001', cidr: '172.16.3.0/24', gateway: '172.16.3.1' } as const;
const IMAGE = 'localhost/hostnic-busybox:test';

/** The busybox applets the container uses. */
const APPLETS = ['sh', 'ip', 'ping', 'stat'];

/** A root filesystem of one static binary, as a tarball for `podman import`. */
async function busyboxImage(dir: string): Promise<string> {
  const root = join(dir, 'rootfs');
  await mkdir(join(root, 'bin'), { recursive: true });
  await copyFile(BUSYBOX, join(root, 'bin/busybox'));
  for (const a of APPLETS) await symlink('busybox', join(root, 'bin', a));
  const tar = join(dir, 'rootfs.tar');
  const r = spawnSync('tar', ['-C', root, '-cf', tar, '.']);
  if (r.status !== 0) throw new Error(`tar: ${r.stderr.toString()}`);
  return tar;
}

describe.skipIf(!isRoot || !hasPodman)('podman on a sandbox node (a container that is not a Kubernetes pod)', () => {
  let stack: HostnicStack | undefined;
  let dir = '';
  let podman: (args: readonly string[]) => ReturnType<typeof run>;
  const s = (): HostnicStack => {
    if (stack === undefined) throw new Error('no stack');
    return stack;
  };

  beforeAll(async () => {
    stack = await startHostnicStack({
      prefix: `pm${randomBytes(2).toString('hex')}`,
      nodes: 1,
      agentsOn: ['node-1'],
      vxnets: [
        { id: 'vxnet-mgmt001', cidr: '10.100.0.0/24', management: true },
        { id: PODS.id, cidr: PODS.cidr },
      ],
      ipam: { kind: 'direct', pools: [PODS.id], blockSize: 27, mapping: () => ({ Default: [PODS.id] }) },
    });
    const node = s().agent('node-1').node;
    dir = await mkdtemp(join(tmpdir(), 'hostnic-podman-'));
    // The plugin as the node's CNI bin dir holds it, its shebang naming this Node (as the install step names
    // the runtime it puts beside it).
    const bundle = (await readFile(PLUGIN, 'utf8')).replace(/^#!.*\n/, `#!${process.execPath}\n`);
    await writeFile(join(node.paths.cniBinDir, 'hostnic'), bundle, { mode: 0o755 });
    const conf = join(dir, 'containers.conf');
    await writeFile(
      conf,
      [
        '[containers]',
        // This machine withholds CAP_SYS_RESOURCE: limits above the current ones cannot be set.
        'default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]',
        '[engine]',
        'cgroup_manager = "cgroupfs"',
        'events_logger = "file"',
        'runtime = "runc"',
        '[network]',
        'network_backend = "cni"',
        `cni_plugin_dirs = ["${node.paths.cniBinDir}"]`,
        `network_config_dir = "${node.paths.cniConfDir}"`,
        '',
      ].join('\n'),
    );
    const global = ['--root', join(dir, 'storage'), '--runroot', join(dir, 'run'), '--storage-driver', 'vfs', '--tmpdir', join(dir, 'tmp')];
    // nsenter --net, not `ip netns exec`: podman's own mounts (the container's netns under /run/netns) must
    // be visible to the agent, which a private mount namespace would hide.
    podman = (args) =>
      run(['nsenter', `--net=/run/netns/${node.netnsName}`, 'podman', ...global, ...args], { ...process.env, CONTAINERS_CONF: conf }, '', dir);
    const imported = await podman(['import', await busyboxImage(dir), IMAGE]);
    expect(imported.code, imported.stderr).toBe(0);
  }, 240_000);

  afterAll(async () => {
    if (dir !== '') {
      await podman(['rm', '--all', '--force']).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    }
    await stack?.close();
  }, 60_000);

  it('gets an address of the vxnet, reaches the node and the gateway, and leaves nothing behind', async () => {
    const node = s().agent('node-1').node;
    const script = `echo netns=$(stat -L -c %i /proc/self/ns/net); ip -4 -o addr show dev eth0; ping -c 1 -W 3 ${node.ip} >/dev/null && echo node-ok; ping -c 1 -W 3 ${PODS.gateway} >/dev/null && echo gateway-ok`;
    const r = await podman(['run', '--rm', '--network', 'hostnic', IMAGE, 'sh', '-c', script]);
    expect(r.code, `${r.stdout}\n${r.stderr}\n${s().agent('node-1').child.output()}`).toBe(0);
    const ip = /inet (\d+\.\d+\.\d+\.\d+)\/32/.exec(r.stdout)?.[1];
    expect(ip, r.stdout).toBeDefined();
    expect(ip?.startsWith('172.16.3.')).toBe(true);
    expect(r.stdout).toContain('node-ok');
    expect(r.stdout).toContain('gateway-ok');

    // After --rm: no veth, rule 1535, ARP reply, IPAM handle or agent record of the container, and no
    // file under /run/netns holds its network namespace any more.
    expect(await nodeLeftovers(s().sandbox, 'node-1')).toEqual({ links: [], rules: [], arp: [] });
    expect(await s().handlesWhen(0)).toEqual([]);
    const records = await socketGet(node.paths.socket, '/v1/pods');
    expect(records?.body).toEqual({ pods: [] });
    const inode = Number(/netns=(\d+)/.exec(r.stdout)?.[1]);
    const held = [];
    for (const name of await readdir('/run/netns')) {
      const st = await stat(join('/run/netns', name)).catch(() => undefined);
      if (st?.ino === inode) held.push(name);
    }
    expect(held).toEqual([]);
  }, 120_000);
});
