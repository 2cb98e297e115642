/**
 * `hostnic-sandbox up --install-as-documented`: an empty cluster gets hostnic by the root README's install
 * steps, run with kubectl as written and printed as they run; the agents read the files the DaemonSet
 * mounts from what kubectl created; a pod then gets an address and has traffic; `down` removes everything.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listNamedNetns } from '@hostnic/netlink';
import { readmeInstallSteps } from '@hostnic/sandbox/install';
import { REPO } from '../../src/stack/index.ts';
import type { SandboxState } from '../../src/sandbox-cli/state.ts';
import { exec, ping, sandboxCli } from './helpers.ts';

const NAME = `d${randomBytes(3).toString('hex')}`;
let root: string;
let state: SandboxState;

async function kubectl(...args: string[]): Promise<string> {
  const { stdout } = await exec('kubectl', [`--kubeconfig=${state.kubeconfig}`, `--cache-dir=${join(root, 'kubectl-cache')}`, ...args], { env: { ...process.env, KUBECONFIG: '' } });
  return stdout;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'hostnic-sandbox-documented-'));
});
afterAll(async () => {
  await sandboxCli(root, 'down', '--all').catch(() => undefined);
  await rm(root, { recursive: true, force: true });
});

describe.skipIf(process.getuid?.() !== 0)('hostnic-sandbox up --install-as-documented (e2e)', () => {
  it('runs the README install steps with kubectl, as written and in order, printing each', async () => {
    const up = await sandboxCli(root, 'up', '--install-as-documented', '--nodes', '2', '--name', NAME, '--json');
    state = JSON.parse(up.stdout) as SandboxState;
    const readme = readmeInstallSteps(await readFile(join(REPO, 'README.md'), 'utf8'));
    expect(readme).toHaveLength(6);
    expect(state.install?.steps.map((s) => s.command)).toEqual(readme.map((s) => s.command));
    for (const [i, step] of readme.entries()) {
      expect(up.stderr).toContain(`[${i + 1}/6] ${step.title}\n      $ ${step.command}\n`);
    }
    // What kubectl created is what runs: the manifest's CRDs, and v-pool made ready by the controller.
    expect((await kubectl('get', 'crd', '-o', 'name')).trim().split('\n')).toHaveLength(4);
    expect(await kubectl('get', 'vxnetpool', 'v-pool', '-o', 'jsonpath={.status.ready}')).toBe('true');
  }, 240_000);

  it('lays out each agent\'s files as the DaemonSet mounts them, from the ConfigMap and Secret kubectl created', async () => {
    const cm = JSON.parse(await kubectl('get', 'configmap', 'hostnic-cfg-cm', '-n', 'kube-system', '-o', 'json')) as { data: Record<string, string> };
    const secret = JSON.parse(await kubectl('get', 'secret', 'qcsecret', '-n', 'kube-system', '-o', 'json')) as { data: Record<string, string> };
    for (const node of state.nodes) {
      // The node's root directory (its `/`) holds its CNI conf dir at etc/cni/net.d.
      const nodeRoot = join(node.cniConfDir, '../../..');
      expect(await readFile(join(nodeRoot, 'etc/hostnic/hostnic.json'), 'utf8')).toBe(cm.data['hostnic']);
      expect(await readFile(join(nodeRoot, 'etc/hostnic/10-hostnic.conf'), 'utf8')).toBe(cm.data['hostnic-cni']);
      expect(await readFile(join(nodeRoot, 'root/.qingcloud/config.yaml'), 'utf8')).toBe(Buffer.from(secret.data['config.yaml'] ?? '', 'base64').toString('utf8'));
      // install-cni made the conflist from the mounted key, pointed at this node's agent.
      const conflist = JSON.parse(await readFile(join(node.cniConfDir, '10-hostnic.conflist'), 'utf8')) as { plugins: { serviceCIDR?: string; socketPath?: string }[] };
      expect(conflist.plugins[0]).toMatchObject({ serviceCIDR: '10.233.0.0/18', socketPath: node.socket });
    }
  }, 60_000);

  it('pod add gets a VPC address with traffic to the node, the gateway and from the VPC; down removes everything', async () => {
    const { stdout } = await sandboxCli(root, 'pod', 'add', 'shop/web-1', '--node', 'node-2', '--name', NAME);
    const record = JSON.parse(stdout) as { netns: string; result: { ips: { address: string }[] } };
    const ip = record.result.ips[0]?.address.split('/')[0] ?? '';
    const vxnet = state.vxnets.find((v) => v.id !== 'vxnet-mgmt001' && ip.startsWith(v.cidr.split('.').slice(0, 3).join('.')));
    expect(vxnet).toBeDefined();
    expect(await ping(record.netns, state.nodes[1]?.ip ?? '')).toBe(true);
    expect(await ping(record.netns, vxnet?.gateway ?? '')).toBe(true);
    expect(await ping(state.vpcNamespace, ip)).toBe(true);

    await sandboxCli(root, 'down', NAME);
    expect((await listNamedNetns()).filter((n) => n.startsWith(`${state.prefix}-`))).toEqual([]);
    expect(existsSync(state.dir)).toBe(false);
  }, 120_000);
});
