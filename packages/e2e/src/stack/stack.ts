/**
 * The whole of hostnic on one machine: the fake kube-apiserver, the sandbox network (VPC, nodes and the fake
 * QingCloud behind it), IPAM pools made either by `hostnic-controller run` (as the Deployment would) or
 * directly through the library, one `hostnic-agent run` per node in the node's namespace, and the bundled
 * plugin run as kubelet would. Used by end-to-end tests, benchmarks and the demo.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, CustomObjectsApi, KubeConfig, loadAllYaml } from '@kubernetes/client-node';
import { CLAIM_POD_HANDLE_KEY, claimNodeOf, Ipam, newIPPool, podRangeOfVxnet } from '@hostnic/ipam';
import type { IPAMBlock } from '@hostnic/ipam';
import { kubernetesIpamStoreFromKubeConfig } from '@hostnic/ipam/kubernetes/client-node';
import { startSandboxNetwork } from '@hostnic/sandbox/cluster';
import type { PodNamespace, SandboxNetwork, SandboxNode, VxnetOption } from '@hostnic/sandbox/cluster';
import { serviceAccountUser, startFakeKubeApiServer } from '@hostnic/sandbox/kube';
import type { FakeKubeApiServer, KubeObject } from '@hostnic/sandbox/kube';
import type { DocumentedInstall, InstallStep } from '@hostnic/sandbox/install';
import { SANDBOX_CNI_CONFIG, writeAgentConfigs } from './agent-files.ts';
import { agentFiles, controllerFiles, describeStep, runDocumentedInstall } from './documented-install.ts';
import { portGet, run, socketGet, startChild, until } from './processes.ts';
import type { Child, RunResult } from './processes.ts';
import { RELAY_SCRIPT, unixBridge } from './relay.ts';
import { appCommand, checkBundle, nodeOptionsFor } from './app-command.ts';
import type { AppMode } from './app-command.ts';
import { restartable } from './restartable.ts';
import type { Restartable } from './restartable.ts';

// The apps are found through their packages (as installed), so that the dependency is declared and seen.
const resolvePackage = createRequire(import.meta.url).resolve;
const PLUGIN_PACKAGE = dirname(resolvePackage('@hostnic/cni-plugin/package.json'));
/** The esbuild bundle of the plugin (built on first use when missing). */
export const PLUGIN = join(PLUGIN_PACKAGE, 'dist/hostnic');
/** The repository root (of this package's checkout): deploy/ and the working directory of the processes. */
export const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
export const DEPLOY_MANIFEST = join(REPO, 'deploy/hostnic.yaml');

/** Bearer tokens of the service accounts deploy/hostnic.yaml gives the agent and the controller. */
const AGENT_TOKEN = 'hostnic-node-token';
const CONTROLLER_TOKEN = 'hostnic-controller-token';

/** deploy/hostnic.yaml as objects: its CRDs (structural schemas) and RBAC rules are what the stack runs under. */
export async function deployManifests(): Promise<KubeObject[]> {
  const docs: unknown[] = loadAllYaml(await readFile(DEPLOY_MANIFEST, 'utf8'));
  return docs.filter((d): d is KubeObject => typeof d === 'object' && d !== null && !Array.isArray(d));
}

/**
 * The NODE_OPTIONS a workload of the manifests gives one of its containers (its V8 flags), so that the stack's
 * processes run as deployed; undefined when it sets none.
 */
function workloadNodeOptions(manifests: readonly KubeObject[], kind: string, name: string, containerName: string): string | undefined {
  const workload = manifests.find((m) => m.kind === kind && m.metadata?.name === name) as
    | { spec?: { template?: { spec?: { containers?: { name?: string; env?: { name?: string; value?: unknown }[] }[] } } } }
    | undefined;
  const container = workload?.spec?.template?.spec?.containers?.find((c) => c.name === containerName);
  const value = container?.env?.find((e) => e.name === 'NODE_OPTIONS')?.value;
  return typeof value === 'string' ? value : undefined;
}

/** The agent's NODE_OPTIONS in the DaemonSet. */
export function agentNodeOptions(manifests: readonly KubeObject[]): string | undefined {
  return workloadNodeOptions(manifests, 'DaemonSet', 'hostnic-node', 'hostnic-agent');
}

/** The controller's NODE_OPTIONS in the Deployment. */
export function controllerNodeOptions(manifests: readonly KubeObject[]): string | undefined {
  return workloadNodeOptions(manifests, 'Deployment', 'hostnic-controller', 'hostnic-controller');
}

/** The environment's NODE_OPTIONS with `extra` after them. */
function withNodeOptions(env: NodeJS.ProcessEnv, extra: string | undefined): NodeJS.ProcessEnv {
  if (extra === undefined) return env;
  return { ...env, NODE_OPTIONS: [env['NODE_OPTIONS'], extra].filter((o) => o !== undefined && o !== '').join(' ') };
}

/**
 * The agent's environment with the deployed NODE_OPTIONS after the caller's, as `argv` can run with them: the
 * caller's may preload TypeScript (the bench's stall probe), which the bundle-only flags would break.
 */
function agentEnvNodeOptions(argv: readonly string[], env: NodeJS.ProcessEnv, deployed: string | undefined): NodeJS.ProcessEnv {
  const merged = withNodeOptions(env, deployed);
  return { ...merged, NODE_OPTIONS: nodeOptionsFor(argv, merged['NODE_OPTIONS']) };
}

/** How a test runs the plugin: another bundle (e.g. an earlier release's, for skew tests). */
export interface PluginRunOptions {
  readonly bundle?: string;
}

/**
 * One node's agent. `child` is the process now running; `restart({signal, env, ready})` stops it (SIGTERM, or
 * SIGKILL for a crash), starts it again with `env` added (e.g. HOSTNIC_FAILPOINT) and waits until it reports
 * ready on its socket; `stop(signal)` leaves it down (e.g. so that the plugin spools a DEL).
 */
export interface NodeAgent extends Restartable {
  readonly node: SandboxNode;
  readonly socket: string;
  readonly spoolDir: string;
  /**
   * The node's boot id as the agent reads it (HOSTNIC_BOOT_ID_FILE): sandbox nodes share the machine's
   * kernel, so a test simulates a node reboot by writing a new id here and restarting the agent.
   */
  readonly bootIdFile: string;
  /** Runs the bundled plugin in the node namespace as kubelet would. */
  plugin(command: 'ADD' | 'DEL' | 'CHECK', pod: PodRef, prevResult?: unknown, options?: PluginRunOptions): Promise<RunResult>;
}

export interface PodRef {
  readonly namespace: string;
  readonly name: string;
  readonly containerId: string;
  readonly netnsPath: string;
}

/** How the IPAM pools come to be. */
export type StackIpam =
  | {
      /** `hostnic-controller run` makes them from VxNetPool v-pool, as in a cluster. */
      readonly kind: 'controller';
      /**
       * The stack writes hostnic-ipam-config and v-pool but starts no controller and does not wait for the
       * pools: the test runs its own (e.g. from the image) and starts agents only once the pools exist.
       */
      readonly external?: boolean;
      readonly vxnets: readonly string[];
      readonly blockSize?: number;
      /** The `data` of ConfigMap hostnic-ipam-config. */
      readonly ipamConfig: Readonly<Record<string, string>>;
      /** Added to `hostnic-controller run`, e.g. `['--nic-gc-interval', '1s']`. */
      readonly controllerArgs?: readonly string[];
    }
  | {
      /** Made through the library (no controller), with a manual mapping. */
      readonly kind: 'direct';
      readonly pools: readonly string[];
      readonly blockSize?: number;
      /** The `ipam` value; block names of a pool are given by `blocksOf(pool)`. */
      mapping(blocksOf: (pool: string) => string[]): Record<string, string[]>;
    };

export interface StackOptions {
  readonly prefix: string;
  readonly nodes: number;
  /** Nodes that get an agent, e.g. ['node-1', 'node-2']. */
  readonly agentsOn: readonly string[];
  readonly vxnets: readonly VxnetOption[];
  readonly ipam: StackIpam;
  /** Merged into every agent's hostnic.json sections, e.g. `{ agent: { warmNicsPerVxnet: 1 } }`. */
  readonly agentConfig?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** Told what happens, for the demo's narration. */
  readonly onProgress?: (message: string) => void;
  /** The stack's directory (made if missing; removed by close()). Default: a fresh one in the OS temp dir. */
  readonly dir?: string | undefined;
  /**
   * Long-running processes write to `<logDir>/<node>.log`, `controller.log`, `relay-<node>.log` instead of
   * pipes, in their own process groups, so that they outlive the process that started them.
   */
  readonly logDir?: string | undefined;
  /**
   * Put the plugin on each node with the agent's own `install-cni` (plugin, its Node runtime beside it and
   * the conflist in the node's CNI directories) and run that copy, as kubelet would. Default: the conflist
   * is written directly and the bundle is run from the build output.
   */
  readonly installCni?: boolean | undefined;
  /**
   * How `hostnic-agent` is started instead of from the sources, e.g. `[process.execPath, '--max-semi-space-size=1',
   * 'packages/agent/dist/bundle/hostnic-agent.mjs']` (what the image runs); `run` and its flags follow. Wins
   * over `apps` for the agent.
   */
  readonly agentCommand?: readonly string[] | undefined;
  /**
   * How hostnic gets into the cluster. `stack` (default): the fake apiserver starts with deploy/hostnic.yaml's
   * CRDs and RBAC, and VxNetPool v-pool and hostnic-ipam-config are put in directly. `documented`: it starts
   * empty, the root README's install steps run with kubectl as written (`ipam.kind` must be `controller`),
   * and the controller and agents read the files their manifests mount, laid out from the objects kubectl
   * created; the plugin is installed with install-cni, as the DaemonSet's init container does.
   */
  readonly install?: 'stack' | 'documented' | undefined;
  /**
   * What runs `hostnic-agent` and `hostnic-controller`: `source` (default) their TypeScript through Node's
   * type stripping, `bundle` the esbuild bundles the image ships (dist/bundle/*.mjs, built by
   * `npx turbo run build`), so that a bench measures what is deployed.
   */
  readonly apps?: AppMode | undefined;
  /** Told each README step before it runs (`install: 'documented'`). */
  readonly onInstallStep?: ((step: InstallStep) => void) | undefined;
  /**
   * Runs once the sandbox, the fake apiserver and the IPAM pools are up and before any agent starts: what a
   * node held before this agent came (e.g. the Go agent's layout for an upgrade test) is laid out here.
   */
  readonly beforeAgents?: ((stack: { readonly sandbox: SandboxNetwork; readonly kc: KubeConfig }) => Promise<void>) | undefined;
}

export interface HostnicStack {
  readonly dir: string;
  readonly kube: FakeKubeApiServer;
  readonly kc: KubeConfig;
  readonly kubeconfigFile: string;
  readonly sandbox: SandboxNetwork;
  readonly agents: ReadonlyMap<string, NodeAgent>;
  /** The controller process, when `ipam.kind` is `controller`. */
  readonly controller: ControllerProcess | undefined;
  /** What the README's install steps created (`install: 'documented'`). */
  readonly install: DocumentedInstall | undefined;
  agent(node: string): NodeAgent;
  /** Creates the Pod object (and its namespace if new) and the pod's netns on the node. */
  createPod(node: string, namespace: string, name: string): Promise<{ ref: PodRef; netns: PodNamespace }>;
  /**
   * The pod owners the cluster records: IPAMHandles of pods, and the pods that node claims publish (their
   * pod handles). Claims publish in the background, so assert on {@link HostnicStack.handlesWhen}.
   */
  handles(): Promise<string[]>;
  /**
   * Makes the fakes (the QingCloud API and the kube-apiserver, on the machine's loopback) reachable at the
   * same 127.0.0.1 ports inside the node's namespace, as for the stack's own agents; once per node.
   */
  relay(node: string): Promise<void>;
  /** The bearer token of the agent's or the controller's service account (deploy/hostnic.yaml's RBAC). */
  serviceAccountToken(who: 'agent' | 'controller'): string;
  /** Waits until {@link HostnicStack.handles} lists `count` owners (bounded), and returns them. */
  handlesWhen(count: number, timeoutMs?: number): Promise<string[]>;
  /** Runs `hostnic-controller` with these arguments against the stack (e.g. `ipam show`). */
  controllerCli(args: readonly string[]): Promise<RunResult>;
  close(): Promise<void>;
}

/**
 * `hostnic-controller run` of the stack: `restart` waits until the new process leads (its caches synced), as
 * its /status on `port` says.
 */
export interface ControllerProcess extends Restartable {
  /** Its metrics port on 127.0.0.1 (/metrics, /healthz, /readyz, /status), the same across restarts. */
  readonly port: number;
}

/** A loopback port nothing listens on now, so that a restarted process can take the same one again. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((r) => server.close(r));
  if (address === null || typeof address === 'string') throw new Error('no TCP port was given');
  return address.port;
}

/** Waits until the controller on `port` leads with every cache synced; the error carries its output. */
async function controllerLeading(port: number, child: Child, kube: FakeKubeApiServer | undefined): Promise<void> {
  await until('the controller to lead with its caches synced', 60_000, async () => {
    if (child.process.exitCode !== null || child.process.signalCode !== null) throw new Error(`the controller exited (${String(await child.exited)})`);
    const s = (await portGet(port, '/status'))?.body as { leader?: boolean; synced?: Record<string, boolean> } | undefined;
    return s?.leader === true && Object.values(s.synced ?? {}).every((v) => v) ? true : undefined;
  }).catch((e: unknown) => {
    throw new Error(`${String(e)}\ncontroller output:\n${child.output()}${denials(kube)}`);
  });
}

function hostIn(cidr: string, host: number): string {
  const [base] = cidr.split('/');
  const parts = (base ?? '').split('.');
  parts[3] = String(host);
  return parts.join('.');
}

/** What RBAC refused so far, for error messages: the rule deploy/hostnic.yaml lacks. */
function denials(kube: FakeKubeApiServer | undefined): string {
  const list = kube?.rbacDenials() ?? [];
  return list.length === 0 ? '' : `\nRBAC denials:\n${list.map((d) => `  ${d.message}`).join('\n')}`;
}

async function settle(p: Promise<unknown>, ms: number): Promise<void> {
  await Promise.race([p, new Promise((r) => setTimeout(r, ms))]);
}

/** `hostnic-agent run` in a sandbox node's namespace, with the files writeAgentConfigs laid out. */
export function agentRunArgv(
  node: Pick<SandboxNode, 'netnsName' | 'paths'>,
  files: { hostnicJson: string; qcConfig: string; kubeconfig: string; socket: string; spoolDir: string; metricsPort: number },
  command: readonly string[] = appCommand('agent', 'source'),
): string[] {
  return [
    'ip', 'netns', 'exec', node.netnsName, ...command, 'run',
    '--config', files.hostnicJson,
    '--qingcloud-config', files.qcConfig,
    '--instance-id-file', node.paths.instanceIdFile,
    '--state-dir', join(node.paths.stateDir, 'agent'),
    '--socket', files.socket,
    '--spool-dir', files.spoolDir,
    '--kubeconfig', files.kubeconfig,
    '--metrics-port', String(files.metricsPort),
  ];
}

/** A CNI plugin on a sandbox node, run in the node's namespace as kubelet would, with this network config. */
export function runPlugin(
  node: Pick<SandboxNode, 'netnsName' | 'paths'>,
  pluginCommand: readonly string[],
  conf: Readonly<Record<string, unknown>>,
  command: 'ADD' | 'DEL' | 'CHECK',
  pod: PodRef,
  prevResult?: unknown,
): Promise<RunResult> {
  return run(
    ['ip', 'netns', 'exec', node.netnsName, ...pluginCommand],
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
  );
}

/**
 * `hostnic-agent install-cni` for one node, with the network config given as the DaemonSet gives it (the
 * ConfigMap key `hostnic-cni`, one plugin's config, which install-cni wraps into the conflist).
 */
async function installCni(paths: SandboxNode['paths'], etc: string, conf: Readonly<Record<string, unknown>>, mode: AppMode): Promise<void> {
  await mkdir(etc, { recursive: true });
  const source = join(etc, '10-hostnic.conf');
  await writeFile(source, JSON.stringify(conf));
  const installed = await run(
    [...appCommand('agent', mode), 'install-cni', '--cni-bin-dir', paths.cniBinDir, '--cni-conf-dir', paths.cniConfDir, '--cni-config-source', source, '--plugin-bundle', PLUGIN, '--node-runtime', process.execPath],
    process.env,
    '',
    REPO,
  );
  if (installed.code !== 0) throw new Error(`hostnic-agent install-cni failed:\n${installed.stdout}${installed.stderr}`);
}

async function makePoolsDirectly(kc: KubeConfig, sb: SandboxNetwork, ipam: Extract<StackIpam, { kind: 'direct' }>): Promise<void> {
  const store = kubernetesIpamStoreFromKubeConfig(kc);
  try {
    const lib = new Ipam(store);
    for (const id of ipam.pools) {
      const vx = sb.vxnet(id);
      const range = podRangeOfVxnet({
        vxnetId: id,
        ipNetwork: vx.cidr,
        managerIp: vx.gateway,
        dynIpStart: hostIn(vx.cidr, 2),
        dynIpEnd: hostIn(vx.cidr, 254),
        tunnelType: vx.tunnelType,
      });
      await lib.ensurePool(newIPPool(range, ipam.blockSize ?? 26));
    }
    const blocks = new Map<string, string[]>();
    for (const id of ipam.pools) blocks.set(id, (await store.listBlocks({ pool: id })).map((b) => b.object.metadata.name));
    const mapping = ipam.mapping((pool) => blocks.get(pool) ?? []);
    await store.setIpamConfig({ 'subnet-auto-assign': 'off', ipam: JSON.stringify(mapping) });
  } finally {
    await store.close();
  }
}

interface AgentInputs {
  readonly hostnicJson: string;
  readonly qcConfig: string;
  readonly kubeconfig: string;
  /** The plugin's network config on this node. */
  readonly cniConfig: Record<string, unknown>;
  /** The `hostnic-cni` key as mounted, when the install laid it out; else the stack writes one. */
  readonly cniConfigSource?: string;
}

/**
 * An agent's files on one node: laid out from the README install's objects as the DaemonSet mounts them
 * (the kubeconfig stands for the service account's token mount), else written by the stack.
 */
async function agentInputs(
  etc: string,
  node: SandboxNode,
  kubeconfigText: string,
  install: DocumentedInstall | undefined,
  writeOwn: () => Promise<{ qcConfig: string; kubeconfig: string; hostnicJson: string }>,
): Promise<AgentInputs> {
  if (install === undefined) {
    const own = await writeOwn();
    const cniConfig = { ...SANDBOX_CNI_CONFIG, socketPath: node.paths.socket, spoolDir: join(node.paths.stateDir, 'spool') };
    return { ...own, cniConfig };
  }
  const files = await agentFiles(install, node);
  await mkdir(etc, { recursive: true });
  const kubeconfig = join(etc, 'kubeconfig');
  await writeFile(kubeconfig, kubeconfigText);
  return { hostnicJson: files.hostnicJson, qcConfig: files.qcConfig, kubeconfig, cniConfig: files.cniConfig, cniConfigSource: files.cniConfigMounted };
}

/** Waits until the agent reports ready on its socket; the error carries its output. */
async function agentReady(a: NodeAgent, kube: FakeKubeApiServer | undefined): Promise<void> {
  // Generous: a start loads the sources and may run beside many other processes on a loaded machine.
  await until(`the agent on ${a.node.name} to be ready`, 120_000, async () => {
    const s = await socketGet(a.socket, '/v1/status');
    return s !== undefined && (s.body as { ready?: boolean }).ready === true ? true : undefined;
  }).catch((e: unknown) => {
    throw new Error(`${String(e)}\nagent output:\n${a.child.output()}${denials(kube)}`);
  });
}

export async function startHostnicStack(options: StackOptions): Promise<HostnicStack> {
  const say = options.onProgress ?? (() => undefined);
  const documented = options.install === 'documented';
  if (documented && options.ipam.kind !== 'controller') {
    throw new Error("install: 'documented' needs ipam.kind 'controller': the README's steps make the pools through VxNetPool v-pool");
  }
  const installCniOnNodes = documented || options.installCni === true;
  const apps = options.apps ?? 'source';
  if (apps === 'bundle') {
    checkBundle('agent');
    checkBundle('controller');
  }
  if (!existsSync(PLUGIN)) {
    say('building the CNI plugin bundle');
    const built = await run(['npm', 'run', 'build'], process.env, '', PLUGIN_PACKAGE);
    if (built.code !== 0) throw new Error(`building the plugin failed:\n${built.stderr}`);
  }
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), `hostnic-${options.prefix}-`)));
  await mkdir(dir, { recursive: true });
  if (options.logDir !== undefined) await mkdir(options.logDir, { recursive: true });
  const logFile = (name: string): { logFile?: string } => (options.logDir === undefined ? {} : { logFile: join(options.logDir, `${name}.log`) });
  const children: Child[] = [];
  const bridges: Server[] = [];
  let kube: FakeKubeApiServer | undefined;
  let sandbox: SandboxNetwork | undefined;
  let controller: ControllerProcess | undefined;
  const close = async (): Promise<void> => {
    // The controller first, so that it does not react to the agents going away.
    if (controller !== undefined) await settle(controller.stop(), 5000);
    controller?.child.kill();
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
    say(documented
      ? 'starting an empty fake kube-apiserver (no hostnic CRDs; RBAC enforced from the objects kubectl will create)'
      : 'starting the fake kube-apiserver with deploy/hostnic.yaml (CRDs and RBAC enforced)');
    kube = await startFakeKubeApiServer({
      users: {
        [AGENT_TOKEN]: serviceAccountUser('kube-system', 'hostnic-node'),
        [CONTROLLER_TOKEN]: serviceAccountUser('kube-system', 'hostnic-controller'),
      },
    });
    const deployed = await deployManifests();
    if (documented) {
      // The service accounts' requests are judged against the Roles and bindings as kubectl creates them.
      kube.enableRbac();
    } else {
      for (const crd of deployed.filter((m) => m.kind === 'CustomResourceDefinition')) kube.applyCrdManifest(crd);
      kube.enableRbac(deployed);
    }
    const nodeOptions = agentNodeOptions(deployed);
    const kc = new KubeConfig();
    kc.loadFromString(kube.kubeconfig());
    const kubeconfigFile = join(dir, 'kubeconfig');
    await writeFile(kubeconfigFile, kube.kubeconfig());
    const core = kc.makeApiClient(CoreV1Api);
    say(`building the VPC and ${options.nodes} nodes as network namespaces (prefix ${options.prefix})`);
    sandbox = await startSandboxNetwork({
      prefix: options.prefix,
      nodes: options.nodes,
      vxnets: options.vxnets,
      ...(options.dir === undefined ? {} : { baseDir: dir }),
      fakeOptions: { jobDurations: { pendingMs: 5, workMs: 50 } },
    });
    const sb = sandbox;
    const qc = sb.qingcloud;
    for (const node of sb.nodes) {
      await core.createNode({ body: { metadata: { name: node.name, annotations: { 'node.beta.kubernetes.io/instance-id': node.instanceId } } } });
    }

    const ipam = options.ipam;
    let install: DocumentedInstall | undefined;
    if (ipam.kind === 'direct') {
      await makePoolsDirectly(kc, sb, ipam);
    } else if (documented) {
      say("running the README's install steps with kubectl, as written");
      install = await runDocumentedInstall({
        dir,
        adminKubeconfig: kubeconfigFile,
        repo: REPO,
        input: { qc, vxnets: ipam.vxnets, blockSize: ipam.blockSize, ipamConfig: ipam.ipamConfig, agentConfig: options.agentConfig },
        onStep: (step) => {
          options.onInstallStep?.(step);
          say(describeStep(step));
        },
      });
    } else {
      kube.put('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'hostnic-ipam-config', namespace: 'kube-system' }, data: { ...ipam.ipamConfig } });
      kube.put('vxnetpools', {
        apiVersion: 'network.qingcloud.com/v1alpha1',
        kind: 'VxNetPool',
        metadata: { name: 'v-pool' },
        spec: { vxnets: ipam.vxnets.map((name) => ({ name })), blockSize: ipam.blockSize ?? 26 },
      });
    }
    if (ipam.kind === 'controller' && ipam.external !== true) {
      const controllerKubeconfigText = kube.kubeconfig({ token: CONTROLLER_TOKEN });
      const { qcConfig, kubeconfig: controllerKubeconfig } = install === undefined
        ? await writeAgentConfigs(join(dir, 'controller'), qc, controllerKubeconfigText)
        : await controllerFiles(install, join(dir, 'controller-root'), controllerKubeconfigText);
      say('starting hostnic-controller (VxNetPool v-pool → VIPs, IPPools, blocks)');
      const port = await freePort();
      const argv = [
        ...appCommand('controller', apps), 'run', '--kubeconfig', controllerKubeconfig, '--iaas-config', qcConfig,
        '--metrics-port', String(port), '--metrics-bind', '127.0.0.1', '--identity', `${options.prefix}-controller`, '--retry-period', '200ms',
        ...(ipam.controllerArgs ?? []),
      ];
      const running = restartable(
        (env) => startChild(argv, { ...withNodeOptions(process.env, controllerNodeOptions(deployed)), KUBECONFIG: '', ...env }, REPO, logFile('controller')),
        (child) => controllerLeading(port, child, kube),
      );
      controller = Object.assign(running, { port });
      const started = controller.child;
      await until('VxNetPool v-pool to be ready', 60_000, async () => {
        const status = kube?.get('vxnetpools', 'v-pool')?.['status'] as { ready?: boolean } | undefined;
        return status?.ready === true ? true : undefined;
      }).catch((e: unknown) => {
        throw new Error(`${String(e)}\ncontroller output:\n${started.output()}${denials(kube)}`);
      });
    }

    if (options.beforeAgents !== undefined) await options.beforeAgents({ sandbox: sb, kc });
    const kubePort = Number(new URL(kube.url).port);
    const bridgePaths: string[] = [];
    for (const [name, port] of [['qingcloud', qc.endpoint.port], ['kube', kubePort]] as const) {
      const path = join(dir, `${name}.sock`);
      bridges.push(await unixBridge(path, port));
      bridgePaths.push(`${port}=${path}`);
    }
    const kubeconfigText = kube.kubeconfig({ token: AGENT_TOKEN });
    const relayed = new Map<string, Promise<void>>();
    const relay = (name: string): Promise<void> => {
      const node = sb.node(name);
      let started = relayed.get(name);
      if (started === undefined) {
        const child = startChild(['ip', 'netns', 'exec', node.netnsName, process.execPath, RELAY_SCRIPT, ...bridgePaths], process.env, REPO, logFile(`relay-${name}`));
        children.push(child);
        started = child.waitForOutput('ready', 10_000);
        relayed.set(name, started);
      }
      return started;
    };
    const agents = new Map<string, NodeAgent>();
    for (const name of options.agentsOn) {
      const node = sb.node(name);
      await relay(name);
      const socket = node.paths.socket;
      const spoolDir = join(node.paths.stateDir, 'spool');
      const inputs = await agentInputs(join(dir, name), node, kubeconfigText, install, () => writeAgentConfigs(join(dir, name), qc, kubeconfigText, options.agentConfig));
      const conf = inputs.cniConfig;
      const pluginCommand = installCniOnNodes ? [join(node.paths.cniBinDir, 'hostnic')] : [process.execPath, PLUGIN];
      if (installCniOnNodes) {
        await installCni(node.paths, join(dir, name), conf, apps);
      } else {
        await writeFile(join(node.paths.cniConfDir, '10-hostnic.conflist'), JSON.stringify({ cniVersion: '1.0.0', name: 'hostnic', plugins: [conf] }));
        // The ConfigMap key as the DaemonSet mounts it: the agent keeps the mangle chains from it.
        await writeFile(join(dir, name, '10-hostnic.conf'), JSON.stringify(conf));
      }
      say(`starting hostnic-agent on ${name} (instance ${node.instanceId})`);
      const argv = agentRunArgv(node, { hostnicJson: inputs.hostnicJson, qcConfig: inputs.qcConfig, kubeconfig: inputs.kubeconfig, socket, spoolDir, metricsPort: 19191 }, options.agentCommand ?? appCommand('agent', apps));
      const bootIdFile = join(dir, name, 'boot_id');
      await writeFile(bootIdFile, `${randomUUID()}\n`);
      const agentEnv = {
        ...agentEnvNodeOptions(argv, process.env, nodeOptions),
        MY_NODE_NAME: name,
        KUBECONFIG: '',
        HOSTNIC_CNI_CONFIG_SOURCE: inputs.cniConfigSource ?? join(dir, name, '10-hostnic.conf'),
        HOSTNIC_BOOT_ID_FILE: bootIdFile,
      };
      const running = restartable(
        (env) => {
          const child = startChild(argv, { ...agentEnv, ...env }, REPO, logFile(name));
          children.push(child);
          return child;
        },
        () => agentReady(agent, kube),
      );
      const agent: NodeAgent = {
        node,
        socket,
        spoolDir,
        bootIdFile,
        get child() {
          return running.child;
        },
        stop: (signal) => running.stop(signal),
        restart: (restartOptions) => running.restart(restartOptions),
        plugin: (command, pod, prevResult, pluginOptions) =>
          runPlugin(node, pluginOptions?.bundle === undefined ? pluginCommand : [process.execPath, pluginOptions.bundle], conf, command, pod, prevResult),
      };
      agents.set(name, agent);
    }
    await Promise.all([...agents.values()].map((a) => agentReady(a, kube)));
    const namespaces = new Set<string>(['default', 'kube-system', 'kube-public', 'kube-node-lease']);
    const custom = kc.makeApiClient(CustomObjectsApi);
    const handles = async (): Promise<string[]> => {
      const list = async (plural: string) =>
        ((await custom.listClusterCustomObject({ group: 'network.qingcloud.com', version: 'v1alpha1', plural })) as { items?: unknown[] }).items ?? [];
      const names = ((await list('ipamhandles')) as { metadata?: { name?: string } }[]).map((i) => i.metadata?.name ?? '?');
      const published = ((await list('ipamblocks')) as IPAMBlock[]).flatMap((b) =>
        b.spec.attributes.flatMap((row) => (claimNodeOf(row.handle_id) === undefined ? [] : [row.secondary?.[CLAIM_POD_HANDLE_KEY]])),
      );
      return [...names.filter((n) => claimNodeOf(n) === undefined), ...published.filter((h): h is string => h !== undefined)];
    };
    return {
      dir,
      kube,
      kc,
      kubeconfigFile,
      sandbox: sb,
      agents,
      controller,
      install,
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
      relay,
      serviceAccountToken: (who) => (who === 'agent' ? AGENT_TOKEN : CONTROLLER_TOKEN),
      handles,
      handlesWhen: async (count, timeoutMs = 15_000) => {
        let last: string[] = [];
        try {
          return await until(`${count} IPAM owners`, timeoutMs, async () => ((last = await handles()).length === count ? last : undefined));
        } catch (e) {
          throw new Error(`${e instanceof Error ? e.message : String(e)}; last seen: ${JSON.stringify(last)}`, { cause: e });
        }
      },
      controllerCli: (args) => run([...appCommand('controller', apps), ...args, '--kubeconfig', kubeconfigFile], { ...process.env, KUBECONFIG: '' }, '', REPO),
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

/**
 * What pods leave in a node namespace: pod links (veth host ends), rules at 1535, ARP answers (proxy neighbour
 * entries, and the ebtables arpreply entries earlier releases installed).
 */
export async function nodeLeftovers(sandbox: SandboxNetwork, node: string): Promise<{ links: string[]; rules: string[]; arp: string[] }> {
  const links = (await sandbox.exec(node, ['ip', '-o', 'link', 'show', 'type', 'veth'])).stdout
    .split('\n')
    .map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined && !n.startsWith('hostnic_') && n !== 'eth0');
  const rules = (await sandbox.exec(node, ['ip', 'rule', 'show'])).stdout.split('\n').filter((l) => l.startsWith('1535:'));
  const proxies = (await sandbox.exec(node, ['ip', 'neigh', 'show', 'proxy'])).stdout.split('\n').filter((l) => l.trim() !== '');
  const arpreplies = (await sandbox.exec(node, ['ebtables', '-t', 'nat', '-L', 'PREROUTING'])).stdout
    .split('\n')
    .filter((l) => l.includes('arpreply'));
  const arp = [...proxies, ...arpreplies];
  return { links, rules, arp };
}

/** A pod of a test or the demo: where it runs, its CNI identity, its namespace, and the IP ADD gave it. */
export interface WiredPod {
  readonly node: string;
  readonly ref: PodRef;
  readonly netns: PodNamespace;
  ip: string;
}

/** Pods by a short key (`p1`, `web`), for tests that wire several and then look them up. */
export class WiredPods {
  readonly #pods = new Map<string, WiredPod>();

  set(key: string, pod: WiredPod): void {
    this.#pods.set(key, pod);
  }

  /** @throws when no pod has that key */
  get(key: string): WiredPod {
    const p = this.#pods.get(key);
    if (p === undefined) throw new Error(`no pod ${key}`);
    return p;
  }

  values(): IterableIterator<WiredPod> {
    return this.#pods.values();
  }
}
