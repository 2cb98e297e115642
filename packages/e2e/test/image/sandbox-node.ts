/**
 * The image's daemons on a sandbox node, set up as deploy/hostnic.yaml sets them up: the DaemonSet's agent
 * (privileged, in the node's network namespace, with host directories standing for its hostPath volumes and
 * the ConfigMap, Secret and service account mounts) and the Deployment's controller (uid 65532, read-only
 * root filesystem, no capability, no privilege escalation, /tmp in memory). Both find the fake
 * kube-apiserver in-cluster (KUBERNETES_SERVICE_HOST and the service account's token and CA files) at the
 * stack's relay in the node's namespace.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { REPO, agentNodeOptions, controllerNodeOptions, deployManifests, run, writeAgentConfigs } from '../../src/stack/index.ts';
import type { HostnicStack } from '../../src/stack/index.ts';
import { podman, podmanRun, podmanStart } from './podman.ts';
import type { Run } from './podman.ts';

/** A daemon container. */
export interface DaemonContainer {
  readonly name: string;
  logs(): string;
  /**
   * `podman exec`, without blocking this process: the fakes the daemons talk to (kube-apiserver, QingCloud)
   * run in it, so a synchronous wait here would starve the very requests the command makes.
   */
  exec(command: readonly string[]): Promise<Run>;
  /** Stops it (SIGTERM, then SIGKILL after 5 s) and removes it; without blocking, as for exec. */
  remove(): Promise<void>;
}

/** The network config of ConfigMap hostnic-cfg-cm's `hostnic-cni` key, with the node's paths as the host sees them. */
export function cniConf(stack: HostnicStack, node: string): Record<string, unknown> {
  const paths = stack.sandbox.node(node).paths;
  return { cniVersion: '1.0.0', name: 'hostnic', type: 'hostnic', serviceCIDR: '10.233.0.0/18', socketPath: join(paths.runDir, 'hostnic.socket'), spoolDir: join(paths.stateDir, 'spool') };
}

/** Files readable by the controller's non-root user: directories 0755, files 0644. */
async function publicFiles(dir: string, files: Readonly<Record<string, string>>): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text, { mode: 0o644 });
}

/**
 * What the ConfigMap hostnic-cfg-cm and the Secret qcsecret hold for this stack (the agent's hostnic.json
 * with the stack's short timers, the QingCloud config.yaml of the fake), as two directories to mount.
 */
async function configMapAndSecret(stack: HostnicStack, node: string, dir: string): Promise<{ config: string; qcsecret: string }> {
  const files = await writeAgentConfigs(join(dir, 'files'), stack.sandbox.qingcloud, '');
  const config = join(dir, 'config');
  const qcsecret = join(dir, 'qcsecret');
  await publicFiles(config, { '10-hostnic.conf': JSON.stringify(cniConf(stack, node)) });
  await copyFile(files.hostnicJson, join(config, 'hostnic.json'));
  await publicFiles(qcsecret, { 'config.yaml': await readFile(files.qcConfig, 'utf8') });
  return { config, qcsecret };
}

/** The service account mount and the env that make the fake apiserver the in-cluster one. */
async function inCluster(stack: HostnicStack, who: 'agent' | 'controller', dir: string): Promise<{ volume: string; env: Record<string, string> }> {
  await publicFiles(dir, { token: stack.serviceAccountToken(who), 'ca.crt': stack.kube.ca, namespace: 'kube-system' });
  const url = new URL(stack.kube.url);
  return {
    volume: `${dir}:/var/run/secrets/kubernetes.io/serviceaccount:ro`,
    env: { KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port },
  };
}

function container(name: string, started: Run): DaemonContainer {
  if (started.status !== 0) throw new Error(`podman run ${name} failed:\n${started.stdout}${started.stderr}`);
  return {
    name,
    logs: () => {
      const r = podman(['logs', name]);
      return `${r.stdout}${r.stderr}`;
    },
    exec: async (command) => {
      const r = await run(['podman', 'exec', name, ...command], process.env, '', REPO);
      return { status: r.code, stdout: r.stdout, stderr: r.stderr };
    },
    remove: async () => {
      await run(['podman', 'rm', '--force', '--time', '5', name], process.env, '', REPO);
    },
  };
}

/** The Deployment's hostnic-controller container on `node` (hostNetwork), with the Secret qcsecret mounted. */
export async function startImageController(stack: HostnicStack, node: string, image: string, name: string, dir: string): Promise<DaemonContainer> {
  await stack.relay(node);
  const n = stack.sandbox.node(node);
  const { qcsecret } = await configMapAndSecret(stack, node, dir);
  const sa = await inCluster(stack, 'controller', join(dir, 'sa-controller'));
  return container(
    name,
    podmanStart(name, image, ['hostnic-controller', 'run', '--iaas-config', '/etc/hostnic/qingcloud/config.yaml', '--metrics-port', '9192'], {
      netnsPath: `/var/run/netns/${n.netnsName}`,
      user: '65532:65532',
      privileges: [],
      readOnlyRoot: true,
      noNewPrivileges: true,
      tmpfs: ['/tmp:size=16m'],
      volumes: [`${qcsecret}:/etc/hostnic/qingcloud:ro`, sa.volume],
      env: { ...sa.env, ...(await deployedNodeOptions('controller')), POD_NAME: name, POD_IP: n.ip },
    }),
  );
}

/** NODE_OPTIONS as deploy/hostnic.yaml gives the container (the agent's V8 flags include --jitless), if any. */
async function deployedNodeOptions(who: 'agent' | 'controller'): Promise<Record<string, string>> {
  const manifests = await deployManifests();
  const value = who === 'agent' ? agentNodeOptions(manifests) : controllerNodeOptions(manifests);
  return value === undefined ? {} : { NODE_OPTIONS: value };
}

/** The DaemonSet's hostnic-agent container on `node`: its command line, privileged, hostNetwork, its mounts. */
export async function startImageAgent(stack: HostnicStack, node: string, image: string, name: string, dir: string): Promise<DaemonContainer> {
  await stack.relay(node);
  const n = stack.sandbox.node(node);
  const { config, qcsecret } = await configMapAndSecret(stack, node, dir);
  // kubelet's /var/log/pods, with the agent's container log where kubelet would keep it, for diags.
  const podLogs = join(dir, 'pod-logs');
  const logFile = join(podLogs, `kube-system_hostnic-node-${name}_0000/hostnic-agent/0.log`);
  await mkdir(dirname(logFile), { recursive: true });
  const xtablesLock = join(dir, 'xtables.lock');
  await writeFile(xtablesLock, '');
  const sa = await inCluster(stack, 'agent', join(dir, 'sa-agent'));
  return container(
    name,
    podmanStart(name, image, ['hostnic-agent', 'run', '--metrics-port', '9191'], {
      netnsPath: `/var/run/netns/${n.netnsName}`,
      privileges: 'privileged',
      volumes: [
        `${config}:/etc/hostnic:ro`,
        `${qcsecret}:/root/.qingcloud:ro`,
        `${dirname(n.paths.instanceIdFile)}:/etc/qingcloud:ro`,
        `${n.paths.stateDir}:/var/lib/hostnic`,
        `${n.paths.runDir}:/var/run/hostnic`,
        // mountPropagation HostToContainer: pod namespaces made after the agent started are seen in it.
        '/var/run/netns:/var/run/netns:rslave',
        `${xtablesLock}:/run/xtables.lock`,
        `${podLogs}:/var/log/pods:ro`,
        // The DaemonSet mounts the host's modules for modprobe; a container host may have none.
        ...(existsSync('/lib/modules') ? ['/lib/modules:/lib/modules:ro'] : []),
        sa.volume,
      ],
      env: { ...sa.env, ...(await deployedNodeOptions('agent')), MY_NODE_NAME: node, NODE_IP: n.ip },
      criLogFile: logFile,
    }),
  );
}

/** The DaemonSet's install-cni init container on `node`: the plugin, its runtime and the conflist into the node's CNI dirs. */
export async function installCniFromImage(stack: HostnicStack, node: string, image: string, dir: string): Promise<Run> {
  const paths = stack.sandbox.node(node).paths;
  const { config } = await configMapAndSecret(stack, node, dir);
  return podmanRun(image, ['hostnic-agent', 'install-cni', '--host-root', '/host'], {
    volumes: [`${paths.cniBinDir}:/host/opt/cni/bin`, `${paths.cniConfDir}:/host/etc/cni/net.d`, `${config}:/etc/hostnic:ro`],
  });
}
