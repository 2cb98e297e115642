/**
 * End to end, as root: the real `hostnic-agent run` inside node-1's namespace, driven by the bundled CNI
 * plugin as kubelet would run it, against the fake kube-apiserver and the sandbox's fake QingCloud.
 *
 * The fakes listen on the root namespace's loopback, which a node namespace cannot reach, and the root
 * namespace must not be changed. Unix sockets are not namespaced, so a relay inside node-1 listens on the
 * fakes' own ports on node-1's loopback and carries each connection over a unix socket to a bridge in this
 * process; the agent's config.yaml and kubeconfig therefore name the fakes' real addresses, and the fake
 * QingCloud stays in this process with the sandbox's host hook bound as usual.
 */

import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { CLAIM_POD_HANDLE_KEY, Ipam, newIPPool, podRangeOfVxnet } from '@hostnic/ipam';
import { kubernetesIpamStoreFromKubeConfig } from '@hostnic/ipam/kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// Relative on purpose: the agent must not depend on the private sandbox package.
import { startSandboxNetwork } from '@hostnic/sandbox/cluster';
import type { PodNamespace, SandboxNetwork, SandboxNode } from '@hostnic/sandbox/cluster';
import { registerHostnicCrds, startFakeKubeApiServer } from '@hostnic/sandbox/kube';
import type { FakeKubeApiServer } from '@hostnic/sandbox/kube';
import { PLUGIN, RELAY_SCRIPT as RELAY, agentRunArgv, REPO, run, socketGet, startChild, unixBridge, until, writeAgentConfigs } from './harness.ts';
import type { Child, RunResult } from './harness.ts';

const isRoot = process.getuid?.() === 0;
const POD_VXNET = { id: 'vxnet-pods001', cidr: '172.16.3.0/24' } as const;
const METRICS_PORT = 19191;

function inPlaceIp(cidr: string, host: number): string {
  const [base] = cidr.split('/');
  const parts = (base ?? '').split('.');
  parts[3] = String(host);
  return parts.join('.');
}

describe.skipIf(!isRoot)('hostnic-agent run in a node namespace (e2e)', () => {
  let dir = '';
  let kube: FakeKubeApiServer | undefined;
  let sandbox: SandboxNetwork | undefined;
  let node: SandboxNode;
  const bridges: Server[] = [];
  const children: Child[] = [];
  let agent: Child | undefined;
  let pod: PodNamespace;
  let kc: KubeConfig;
  let socket = '';
  let spoolDir = '';
  const containerId = randomBytes(16).toString('hex');
  let podIp = '';

  beforeAll(async () => {
    if (!existsSync(PLUGIN)) {
      const built = await run(['npm', 'run', 'build'], process.env, '', dirname(PLUGIN));
      if (built.code !== 0) throw new Error(`building the plugin failed:\n${built.stderr}`);
    }
    dir = await mkdtemp(join(tmpdir(), 'hostnic-e2e-'));
    kube = await startFakeKubeApiServer();
    registerHostnicCrds(kube);
    kc = new KubeConfig();
    kc.loadFromString(kube.kubeconfig());
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'test' } } });
    await core.createNamespacedPod({
      namespace: 'test',
      body: { metadata: { name: 'web-1', namespace: 'test' }, spec: { containers: [{ name: 'web', image: 'nginx' }] } },
    });

    sandbox = await startSandboxNetwork({
      prefix: `he${randomBytes(2).toString('hex')}`,
      nodes: 2,
      vxnets: [
        { id: 'vxnet-mgmt001', cidr: '10.100.0.0/24', management: true },
        { id: POD_VXNET.id, cidr: POD_VXNET.cidr },
      ],
      fakeOptions: { jobDurations: { pendingMs: 5, workMs: 100 } },
    });
    node = sandbox.node('node-1');
    const vx = sandbox.vxnet(POD_VXNET.id);

    const ipamStore = kubernetesIpamStoreFromKubeConfig(kc);
    const range = podRangeOfVxnet({
      vxnetId: POD_VXNET.id,
      ipNetwork: vx.cidr,
      managerIp: vx.gateway,
      dynIpStart: inPlaceIp(vx.cidr, 2),
      dynIpEnd: inPlaceIp(vx.cidr, 254),
      tunnelType: 'vxlan',
    });
    await new Ipam(ipamStore).ensurePool(newIPPool(range, 26));
    await ipamStore.setIpamConfig({ 'subnet-auto-assign': 'off', ipam: JSON.stringify({ Default: [POD_VXNET.id] }) });

    // The relay: node-1's 127.0.0.1:<fake port> → unix socket → the fake on the root loopback.
    const qc = sandbox.qingcloud;
    const kubePort = Number(new URL(kube.url).port);
    const relayArgs: string[] = [];
    for (const [name, port] of [['qingcloud', qc.endpoint.port], ['kube', kubePort]] as const) {
      const path = join(dir, `${name}.sock`);
      bridges.push(await unixBridge(path, port));
      relayArgs.push(`${port}=${path}`);
    }
    const relay = startChild(['ip', 'netns', 'exec', node.netnsName, process.execPath, RELAY, ...relayArgs], process.env, REPO);
    children.push(relay);
    await relay.waitForOutput('ready', 10_000);

    const { qcConfig, kubeconfig, hostnicJson } = await writeAgentConfigs(join(dir, 'node-1'), qc, kube.kubeconfig());
    socket = node.paths.socket;
    spoolDir = join(node.paths.stateDir, 'spool');
    await writeFile(
      join(node.paths.cniConfDir, '10-hostnic.conflist'),
      JSON.stringify({ cniVersion: '1.0.0', name: 'hostnic', plugins: [pluginConf()] }),
    );

    agent = startChild(
      agentRunArgv(node, { hostnicJson, qcConfig, kubeconfig, socket, spoolDir, metricsPort: METRICS_PORT }),
      { ...process.env, MY_NODE_NAME: 'node-1', KUBECONFIG: '' },
      REPO,
    );
    children.push(agent);
    pod = await sandbox.podNetns('node-1', 'web-1');
  }, 120_000);

  afterAll(async () => {
    for (const c of children) c.kill();
    await Promise.all(children.map((c) => Promise.race([c.exited, new Promise((r) => setTimeout(r, 5000))])));
    for (const b of bridges) await new Promise((r) => b.close(r));
    try {
      await sandbox?.close();
    } finally {
      await kube?.close();
      if (dir !== '') await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  function pluginConf(): Record<string, unknown> {
    return { cniVersion: '1.0.0', name: 'hostnic', type: 'hostnic', serviceCIDR: '10.233.0.0/18', socketPath: socket, spoolDir };
  }

  function plugin(command: 'ADD' | 'DEL', prevResult?: unknown): Promise<RunResult> {
    const conf = prevResult === undefined ? pluginConf() : { ...pluginConf(), prevResult };
    return run(
      ['ip', 'netns', 'exec', node.netnsName, process.execPath, PLUGIN],
      {
        PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin',
        CNI_COMMAND: command,
        CNI_CONTAINERID: containerId,
        CNI_NETNS: pod.path,
        CNI_IFNAME: 'eth0',
        CNI_PATH: node.paths.cniBinDir,
        CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=test;K8S_POD_NAME=web-1;K8S_POD_INFRA_CONTAINER_ID=${containerId}`,
      },
      JSON.stringify(conf),
      REPO,
    );
  }

  /**
   * Whether the cluster records the pod's handle: its own IPAMHandle, or (the usual case) the pod as its node's
   * address claim publishes it in the block, in the background.
   */
  async function handleRecorded(): Promise<boolean> {
    const custom = kc.makeApiClient(CustomObjectsApi);
    const id = `test-web-1-${containerId}`;
    try {
      await custom.getClusterCustomObject({ group: 'network.qingcloud.com', version: 'v1alpha1', plural: 'ipamhandles', name: id });
      return true;
    } catch (e) {
      if ((e as { code?: unknown }).code !== 404) throw e;
    }
    const blocks = (await custom.listClusterCustomObject({ group: 'network.qingcloud.com', version: 'v1alpha1', plural: 'ipamblocks' })) as {
      items?: { spec?: { attributes?: { secondary?: Record<string, string> }[] } }[];
    };
    return (blocks.items ?? []).some((b) => (b.spec?.attributes ?? []).some((row) => row.secondary?.[CLAIM_POD_HANDLE_KEY] === id));
  }

  const recordedWhen = (want: boolean): Promise<boolean> =>
    until(`the pod handle ${want ? 'recorded' : 'gone'}`, 15_000, async () => ((await handleRecorded()) === want ? true : undefined));

  it('serves the socket early and becomes ready after the start-up reconcile', async () => {
    const status = await until('the agent to be ready', 60_000, async () => {
      const s = await socketGet(socket, '/v1/status');
      return s !== undefined && (s.body as { ready?: boolean }).ready === true ? s : undefined;
    }).catch((e: unknown) => {
      throw new Error(`${String(e)}\nagent output:\n${agent?.output() ?? ''}`);
    });
    expect(status.status).toBe(200);
    const log = agent?.output() ?? '';
    const early = log.indexOf('serving the CNI socket (not ready yet)');
    expect(early).toBeGreaterThanOrEqual(0);
    expect(log.indexOf('all setup done, agent ready')).toBeGreaterThan(early);
  }, 70_000);

  it('ADD through the bundled plugin wires a reachable pod and records the handle', async () => {
    const add = await plugin('ADD');
    expect(add.code, `${add.stdout}\n${add.stderr}\n${agent?.output() ?? ''}`).toBe(0);
    const result = JSON.parse(add.stdout) as { ips?: { address: string }[] };
    const address = result.ips?.[0]?.address ?? '';
    podIp = address.split('/')[0] ?? '';
    expect(podIp.startsWith('172.16.3.')).toBe(true);

    const s = sandbox as SandboxNetwork;
    expect(await s.ping(pod, node.ip, { attempts: 3 })).toBe(true);
    expect(await s.ping(pod, s.vxnet(POD_VXNET.id).gateway, { attempts: 3 })).toBe(true);
    expect(await s.vpcPing(podIp, { attempts: 3 })).toBe(true);
    expect(await recordedWhen(true)).toBe(true);
  }, 90_000);

  it('serves Prometheus text, /healthz and /readyz on the node\'s address (not every address), no pod names or IPs', async () => {
    const s = sandbox as SandboxNetwork;
    const fetchIn = (host: string, path: string) =>
      s.exec('node-1', [
        process.execPath,
        '-e',
        `fetch('http://${host}:${METRICS_PORT}${path}').then(async (r) => process.stdout.write(r.status + '\\n' + await r.text()), (e) => process.stdout.write('failed ' + e.cause?.code))`,
      ]);
    const metrics = await fetchIn(node.ip, '/metrics');
    expect(metrics.stdout.startsWith('200\n')).toBe(true);
    expect(metrics.stdout).toMatch(/hostnic_vxnet_count\{vxnet_name="vxnet-pods001",phase="[^"]+",mac="[0-9a-f:]+",node_name="node-1"\} 1/);
    expect(metrics.stdout).toMatch(/hostnic_vxnet_pod_count\{vxnet_name="vxnet-pods001",node_name="node-1"\} [1-9]/);
    expect(metrics.stdout).not.toContain(`"${podIp}"`);
    expect(metrics.stdout).toContain('hostnic_agent_ready{node_name="node-1"} 1');
    expect(metrics.stdout).toMatch(/hostnic_cni_requests_total\{verb="add",outcome="ok",node_name="node-1"\} [1-9]/);
    expect(metrics.stdout).toContain('hostnic_ipam_vxnet_total{vxnet_name="vxnet-pods001",node_name="node-1"}');
    expect(metrics.stdout).toMatch(/hostnic_iaas_requests_total\{action="\w+",result="ok",node_name="node-1"\} [1-9]/);
    expect(metrics.stdout).toMatch(/hostnic_iaas_request_duration_seconds_count\{node_name="node-1",action="\w+",result="ok"\} [1-9]/);
    expect(metrics.stdout).toMatch(/hostnic_build_info\{component="agent",version="[^"]+",node_version="v\d+/);
    expect(metrics.stdout).toContain('process_resident_memory_bytes');
    expect(metrics.stdout).not.toContain(s.qingcloud.accessKey.secretAccessKey);
    expect((await fetchIn(node.ip, '/healthz')).stdout).toBe('200\nok\n');
    expect((await fetchIn(node.ip, '/readyz')).stdout).toBe('200\nok\n');
    expect((await fetchIn(node.ip, '/')).stdout.startsWith('404\n')).toBe(true);
    expect((await fetchIn('127.0.0.1', '/metrics')).stdout).toBe('failed ECONNREFUSED');
  }, 30_000);

  it('DEL through the plugin releases the handle; a second DEL succeeds too', async () => {
    const del = await plugin('DEL');
    expect(del.code, `${del.stdout}\n${del.stderr}`).toBe(0);
    expect(await recordedWhen(false)).toBe(true);
    const again = await plugin('DEL');
    expect(again.code, `${again.stdout}\n${again.stderr}`).toBe(0);
  }, 60_000);

  it('SIGTERM stops the agent with 0 and leaves the NIC and its bridge in the node', async () => {
    const a = agent as Child;
    a.process.kill('SIGTERM');
    const code = await Promise.race([a.exited, new Promise((r) => setTimeout(() => r('timeout'), 20_000))]);
    expect(code, a.output()).toBe(0);
    const s = sandbox as SandboxNetwork;
    const links = await s.exec('node-1', ['ip', '-o', 'link', 'show']);
    expect(links.stdout).toContain('hostnic_pods001');
    expect(links.stdout).toMatch(/br_\d+/);
    expect(existsSync(socket)).toBe(false);
  }, 30_000);
});
