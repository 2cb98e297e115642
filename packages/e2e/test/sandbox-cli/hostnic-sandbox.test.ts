/**
 * `hostnic-sandbox` as a user runs it (the package's bin): `up --json` in the background, a pod added with
 * `pod add` that reaches its node, its gateway and is reached from the VPC router, then every `up` process
 * SIGKILLed, and `down` still removes every namespace, link, process and file.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listNamedNetns } from '@hostnic/netlink';
import { processesNaming } from '../../src/sandbox-cli/down.ts';
import type { SandboxState } from '../../src/sandbox-cli/state.ts';
import { exec, ping, sandboxCli } from './helpers.ts';

const NAME = `t${randomBytes(3).toString('hex')}`;
let root: string;

async function cli(...args: string[]): Promise<string> {
  return (await sandboxCli(root, ...args)).stdout;
}

let state: SandboxState;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'hostnic-sandbox-cli-'));
});
afterAll(async () => {
  // Whatever the test got to, nothing stays.
  await cli('down', '--all').catch(() => undefined);
  await rm(root, { recursive: true, force: true });
});

describe.skipIf(process.getuid?.() !== 0)('hostnic-sandbox (e2e)', () => {
  it('up --json starts a sandbox that outlives the command and describes every node', async () => {
    state = JSON.parse(await cli('up', '--nodes', '2', '--name', NAME, '--json')) as SandboxState;
    expect(state.name).toBe(NAME);
    expect(state.nodes.map((n) => n.name)).toEqual(['node-1', 'node-2']);
    const netns = await listNamedNetns();
    for (const node of state.nodes) {
      expect(netns).toContain(node.namespace);
      expect(node.instanceId).toMatch(/^i-[0-9a-f]{8}$/);
      // The agent's install-cni put the plugin with its runtime beside it, and the conflist.
      expect((await readdir(node.cniBinDir)).sort()).toEqual(['hostnic', 'hostnic-node']);
      expect(await readdir(node.cniConfDir)).toContain('10-hostnic.conflist');
    }
    expect(existsSync(state.kubeconfig)).toBe(true);
    const status = JSON.parse(await cli('status', '--name', NAME, '--json')) as { agentsReady: Record<string, boolean> }[];
    expect(status).toHaveLength(1);
    expect(status[0]?.agentsReady).toEqual({ 'node-1': true, 'node-2': true });
  }, 240_000);

  it('pod add runs the installed plugin as kubelet does, and the pod has traffic', async () => {
    const record = JSON.parse(await cli('pod', 'add', 'shop/web-1', '--node', 'node-1', '--name', NAME)) as { netns: string; result: { ips: { address: string }[] } };
    const ip = record.result.ips[0]?.address.split('/')[0] ?? '';
    const vxnet = state.vxnets.find((v) => v.id !== 'vxnet-mgmt001' && ip.startsWith(v.cidr.split('.').slice(0, 3).join('.')));
    expect(vxnet).toBeDefined();
    expect(await ping(record.netns, state.nodes[0]?.ip ?? '')).toBe(true);
    expect(await ping(record.netns, vxnet?.gateway ?? '')).toBe(true);
    expect(await ping(state.vpcNamespace, ip)).toBe(true);
    // The agent's own log, through `logs`, tells of this pod.
    expect(await cli('logs', 'node-1', '--name', NAME)).toContain(`"ip":"${ip}"`);
  }, 120_000);

  it('down removes everything after every up process was SIGKILLed', async () => {
    const pids = await processesNaming(state.dir);
    const kinds = new Map<string, number>();
    for (const pid of pids) {
      const argv = await readFile(`/proc/${pid}/cmdline`, 'utf8');
      const kind = pid === state.supervisor.pid ? 'supervisor' : (['agent/src/cli.ts', 'controller/src/cli.ts', 'relay-main.ts', 'dnsmasq'].find((k) => argv.includes(k)) ?? argv);
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
    // The supervisor, the controller, per node an agent and its relay, and the DHCP server of the VLAN vxnet.
    expect(Object.fromEntries(kinds)).toEqual({ supervisor: 1, 'controller/src/cli.ts': 1, 'agent/src/cli.ts': 2, 'relay-main.ts': 2, dnsmasq: 1 });
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    await cli('down', NAME);
    expect(await processesNaming(state.dir)).toEqual([]);
    expect((await listNamedNetns()).filter((n) => n.startsWith(`${state.prefix}-`))).toEqual([]);
    const { stdout: links } = await exec('ip', ['-o', 'link', 'show']);
    expect(links).not.toContain(state.prefix);
    expect(existsSync(state.dir)).toBe(false);
  }, 120_000);
});
