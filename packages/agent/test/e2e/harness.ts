/** Helpers of the end-to-end test: unix-socket bridges to the fakes, child processes, the socket's status. */

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { connect, createServer } from 'node:net';
import type { Server } from 'node:net';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { Ipam, newIPPool, podRangeOfVxnet } from '@hostnic/ipam';
import { KubernetesIpamStore } from '@hostnic/ipam/kubernetes';
// Relative on purpose: the agent must not depend on the private sandbox package.
import { startSandboxNetwork } from '../../../sandbox/src/cluster/index.ts';
import type { PodNamespace, SandboxNetwork, SandboxNode, VxnetOption } from '../../../sandbox/src/cluster/index.ts';
import { registerHostnicCrds, startFakeKubeApiServer } from '../../../sandbox/src/kube/index.ts';
import type { FakeKubeApiServer } from '../../../sandbox/src/kube/index.ts';

/** Root-namespace half of a relay: a unix socket whose connections go to 127.0.0.1:<port>. */
export async function unixBridge(socketPath: string, port: number): Promise<Server> {
  const server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  return server;
}

export interface Child {
  readonly process: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or the signal's name). */
  readonly exited: Promise<number | string>;
  waitForOutput(text: string, timeoutMs: number): Promise<void>;
  kill(): void;
}

export function startChild(argv: readonly string[], env: NodeJS.ProcessEnv, cwd: string): Child {
  const [cmd, ...args] = argv;
  if (cmd === undefined) throw new Error('empty argv');
  const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? signal ?? -1));
  });
  let done = false;
  void exited.then(() => (done = true));
  return {
    process: child,
    output: () => out,
    exited,
    waitForOutput: async (text, timeoutMs) => {
      const end = Date.now() + timeoutMs;
      while (!out.includes(text)) {
        if (done) throw new Error(`child exited before printing ${JSON.stringify(text)}:\n${out}`);
        if (Date.now() > end) throw new Error(`timed out waiting for ${JSON.stringify(text)}:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    kill: () => {
      if (!done) child.kill('SIGKILL');
    },
  };
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function run(argv: readonly string[], env: NodeJS.ProcessEnv, input: string, cwd: string): Promise<RunResult> {
  const [cmd, ...args] = argv;
  if (cmd === undefined) throw new Error('empty argv');
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** GET on the agent's unix socket; undefined while nothing listens there. */
export function socketGet(socketPath: string, path: string): Promise<{ status: number; body: unknown } | undefined> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path, method: 'GET', timeout: 2000 }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => {
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // Left as text.
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

export async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// ---------------------------------------------------------------------------------------------------------
// A cluster for the multi-node tests and the bench: the fake kube-apiserver, a sandbox, IPAM pools, and one
// `hostnic-agent run` (with its own relay) per node asked for.


/** The agent's input files for one node: QingCloud config.yaml, kubeconfig and hostnic.json with short timers. */
export async function writeAgentConfigs(
  etc: string,
  qc: SandboxNetwork['qingcloud'],
  kubeconfigText: string,
): Promise<{ qcConfig: string; kubeconfig: string; hostnicJson: string }> {
  await mkdir(etc, { recursive: true });
  const qcConfig = join(etc, 'config.yaml');
  await writeFile(
    qcConfig,
    [
      `qy_access_key_id: '${qc.accessKey.accessKeyId}'`,
      `qy_secret_access_key: '${qc.accessKey.secretAccessKey}'`,
      `zone: '${qc.zone}'`,
      `host: '${qc.endpoint.host}'`,
      `port: ${qc.endpoint.port}`,
      'protocol: http',
      '',
    ].join('\n'),
  );
  const kubeconfig = join(etc, 'kubeconfig');
  await writeFile(kubeconfig, kubeconfigText);
  const hostnicJson = join(etc, 'hostnic.json');
  await writeFile(
    hostnicJson,
    JSON.stringify({
      pool: { maxNic: 60, sync: 2, freePeriod: 60 },
      agent: { spoolReplayIntervalSec: 1, jobPollIntervalSec: 1, attachTimeoutSec: 30, linkTimeoutSec: 15 },
    }),
  );
  return { qcConfig, kubeconfig, hostnicJson };
}

export const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
export const AGENT_CLI = join(REPO, 'packages/agent/src/cli.ts');
export const PLUGIN = join(REPO, 'packages/cni-plugin/dist/hostnic');
const RELAY_SCRIPT = fileURLToPath(new URL('./fixtures/relay.ts', import.meta.url));

export interface NodeAgent {
  readonly node: SandboxNode;
  readonly socket: string;
  readonly spoolDir: string;
  readonly child: Child;
  /** Runs the bundled plugin in the node namespace as kubelet would. */
  plugin(command: 'ADD' | 'DEL', pod: PodRef, prevResult?: unknown): Promise<RunResult>;
}

export interface PodRef {
  readonly namespace: string;
  readonly name: string;
  readonly containerId: string;
  readonly netnsPath: string;
}

export interface AgentCluster {
  readonly dir: string;
  readonly kube: FakeKubeApiServer;
  readonly kc: KubeConfig;
  readonly sandbox: SandboxNetwork;
  readonly agents: ReadonlyMap<string, NodeAgent>;
  agent(node: string): NodeAgent;
  /** Creates the Pod object (and its namespace if new) and the pod's netns on the node. */
  createPod(node: string, namespace: string, name: string): Promise<{ ref: PodRef; netns: PodNamespace }>;
  /** Names of the IPAMHandle objects that exist. */
  handles(): Promise<string[]>;
  close(): Promise<void>;
}

export interface AgentClusterOptions {
  readonly prefix: string;
  readonly nodes: number;
  /** Nodes that get an agent, e.g. ['node-1', 'node-2']. */
  readonly agentsOn: readonly string[];
  readonly vxnets: readonly VxnetOption[];
  /** Pod vxnets to make IPAM pools of. */
  readonly pools: readonly string[];
  /** The `ipam` value of hostnic-ipam-config; block names of a pool are given by `blocksOf(pool)`. */
  mapping(blocksOf: (pool: string) => string[]): Record<string, string[]>;
  readonly blockSize?: number;
}

function hostIn(cidr: string, host: number): string {
  const [base] = cidr.split('/');
  const parts = (base ?? '').split('.');
  parts[3] = String(host);
  return parts.join('.');
}

async function settle(p: Promise<unknown>, ms: number): Promise<void> {
  await Promise.race([p, new Promise((r) => setTimeout(r, ms))]);
}

export async function startAgentCluster(options: AgentClusterOptions): Promise<AgentCluster> {
  if (!existsSync(PLUGIN)) {
    const built = await run(['npm', 'run', 'build'], process.env, '', join(REPO, 'packages/cni-plugin'));
    if (built.code !== 0) throw new Error(`building the plugin failed:\n${built.stderr}`);
  }
  const dir = await mkdtemp(join(tmpdir(), `hostnic-${options.prefix}-`));
  const children: Child[] = [];
  const bridges: Server[] = [];
  let kube: FakeKubeApiServer | undefined;
  let sandbox: SandboxNetwork | undefined;
  const close = async (): Promise<void> => {
    for (const c of children) c.kill();
    await Promise.all(children.map((c) => settle(c.exited, 5000)));
    for (const b of bridges) await new Promise((r) => b.close(r));
    try {
      await sandbox?.close();
    } finally {
      try {
        await kube?.close();
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
  };
  try {
    kube = await startFakeKubeApiServer();
    registerHostnicCrds(kube);
    const kc = new KubeConfig();
    kc.loadFromString(kube.kubeconfig());
    const core = kc.makeApiClient(CoreV1Api);
    sandbox = await startSandboxNetwork({
      prefix: options.prefix,
      nodes: options.nodes,
      vxnets: options.vxnets,
      fakeOptions: { jobDurations: { pendingMs: 5, workMs: 50 } },
    });
    const sb = sandbox;
    const ipamStore = KubernetesIpamStore.fromKubeConfig(kc);
    const ipam = new Ipam(ipamStore);
    for (const id of options.pools) {
      const vx = sb.vxnet(id);
      const range = podRangeOfVxnet({
        vxnetId: id,
        ipNetwork: vx.cidr,
        managerIp: vx.gateway,
        dynIpStart: hostIn(vx.cidr, 2),
        dynIpEnd: hostIn(vx.cidr, 254),
        tunnelType: vx.tunnelType,
      });
      await ipam.ensurePool(newIPPool(range, options.blockSize ?? 26));
    }
    const blocks = new Map<string, string[]>();
    for (const id of options.pools) {
      blocks.set(id, (await ipamStore.listBlocks({ pool: id })).map((b) => b.object.metadata.name));
    }
    const mapping = options.mapping((pool) => blocks.get(pool) ?? []);
    await ipamStore.setIpamConfig({ 'subnet-auto-assign': 'off', ipam: JSON.stringify(mapping) });

    const qc = sb.qingcloud;
    const kubePort = Number(new URL(kube.url).port);
    const bridgePaths: string[] = [];
    for (const [name, port] of [['qingcloud', qc.endpoint.port], ['kube', kubePort]] as const) {
      const path = join(dir, `${name}.sock`);
      bridges.push(await unixBridge(path, port));
      bridgePaths.push(`${port}=${path}`);
    }
    const kubeconfigText = kube.kubeconfig();
    const agents = new Map<string, NodeAgent>();
    for (const name of options.agentsOn) {
      const node = sb.node(name);
      const relay = startChild(['ip', 'netns', 'exec', node.netnsName, process.execPath, RELAY_SCRIPT, ...bridgePaths], process.env, REPO);
      children.push(relay);
      await relay.waitForOutput('ready', 10_000);
      const { qcConfig, kubeconfig, hostnicJson } = await writeAgentConfigs(join(dir, name), qc, kubeconfigText);
      const socket = node.paths.socket;
      const spoolDir = join(node.paths.stateDir, 'spool');
      const conf = { cniVersion: '1.0.0', name: 'hostnic', type: 'hostnic', serviceCIDR: '10.233.0.0/18', socketPath: socket, spoolDir };
      await writeFile(join(node.paths.cniConfDir, '10-hostnic.conflist'), JSON.stringify({ cniVersion: '1.0.0', name: 'hostnic', plugins: [conf] }));
      const child = startChild(
        [
          'ip', 'netns', 'exec', node.netnsName, process.execPath, '--conditions=@hostnic/source', AGENT_CLI, 'run',
          '--config', hostnicJson,
          '--qingcloud-config', qcConfig,
          '--instance-id-file', node.paths.instanceIdFile,
          '--state-dir', join(node.paths.stateDir, 'agent'),
          '--socket', socket,
          '--spool-dir', spoolDir,
          '--kubeconfig', kubeconfig,
          '--metrics-port', '19191',
        ],
        { ...process.env, MY_NODE_NAME: name, KUBECONFIG: '' },
        REPO,
      );
      children.push(child);
      agents.set(name, {
        node,
        socket,
        spoolDir,
        child,
        plugin: (command, pod, prevResult) =>
          run(
            ['ip', 'netns', 'exec', node.netnsName, process.execPath, PLUGIN],
            {
              PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin',
              CNI_COMMAND: command,
              CNI_CONTAINERID: pod.containerId,
              CNI_NETNS: pod.netnsPath,
              CNI_IFNAME: 'eth0',
              CNI_PATH: node.paths.cniBinDir,
              CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${pod.namespace};K8S_POD_NAME=${pod.name};K8S_POD_INFRA_CONTAINER_ID=${pod.containerId}`,
            },
            JSON.stringify(prevResult === undefined ? conf : { ...conf, prevResult }),
            REPO,
          ),
      });
    }
    await Promise.all(
      [...agents.values()].map((a) =>
        until(`the agent on ${a.node.name} to be ready`, 60_000, async () => {
          const s = await socketGet(a.socket, '/v1/status');
          return s !== undefined && (s.body as { ready?: boolean }).ready === true ? true : undefined;
        }).catch((e: unknown) => {
          throw new Error(`${String(e)}\nagent output:\n${a.child.output()}`);
        }),
      ),
    );
    const namespaces = new Set<string>();
    const custom = kc.makeApiClient(CustomObjectsApi);
    return {
      dir,
      kube,
      kc,
      sandbox: sb,
      agents,
      agent: (name) => {
        const a = agents.get(name);
        if (a === undefined) throw new Error(`no agent on ${name}`);
        return a;
      },
      createPod: async (nodeName, namespace, name) => {
        if (!namespaces.has(namespace)) {
          namespaces.add(namespace);
          await core.createNamespace({ body: { metadata: { name: namespace } } });
        }
        await core.createNamespacedPod({
          namespace,
          body: { metadata: { name, namespace }, spec: { nodeName, containers: [{ name: 'c', image: 'pause' }] } },
        });
        const netns = await sb.podNetns(nodeName, `${namespace}-${name}`);
        return { ref: { namespace, name, containerId: randomBytes(16).toString('hex'), netnsPath: netns.path }, netns };
      },
      handles: async () => {
        const list = (await custom.listClusterCustomObject({
          group: 'network.qingcloud.com',
          version: 'v1alpha1',
          plural: 'ipamhandles',
        })) as { items?: { metadata?: { name?: string } }[] };
        return (list.items ?? []).map((i) => i.metadata?.name ?? '?');
      },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

/** What pods leave in a node namespace: pod links (veth host ends), rules at 1535, arpreply entries. */
export async function nodeLeftovers(sandbox: SandboxNetwork, node: string): Promise<{ links: string[]; rules: string[]; arp: string[] }> {
  const links = (await sandbox.exec(node, ['ip', '-o', 'link', 'show', 'type', 'veth'])).stdout
    .split('\n')
    .map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined && !n.startsWith('hostnic_') && n !== 'eth0');
  const rules = (await sandbox.exec(node, ['ip', 'rule', 'show'])).stdout.split('\n').filter((l) => l.startsWith('1535:'));
  const arp = (await sandbox.exec(node, ['ebtables', '-t', 'nat', '-L', 'PREROUTING'])).stdout
    .split('\n')
    .filter((l) => l.includes('arpreply'));
  return { links, rules, arp };
}
