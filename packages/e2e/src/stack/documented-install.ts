/**
 * The stack's `install: 'documented'` path: hostnic put into an empty cluster by the root README's install
 * steps, run with kubectl as written (see @hostnic/sandbox/install), and the agents and the controller then
 * given their files the way the DaemonSet and the Deployment mount them, from the objects kubectl created
 * and read back through the apiserver.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { SandboxNetwork, SandboxNode } from '@hostnic/sandbox/cluster';
import { containerMounts, installAsDocumented, writeMountedFiles } from '@hostnic/sandbox/install';
import type { DocumentedInstall, DocumentedInstallSettings, InstallStep } from '@hostnic/sandbox/install';
import { qingcloudConfigYaml, SANDBOX_CNI_CONFIG, sandboxHostnicJson } from './agent-files.ts';

/** Where the agent and the controller read their files inside their containers (their defaults, the mounts). */
const AGENT_HOSTNIC_JSON = '/etc/hostnic/hostnic.json';
const AGENT_CNI_CONFIG = '/etc/hostnic/10-hostnic.conf';
const AGENT_QC_CONFIG = '/root/.qingcloud/config.yaml';
const CONTROLLER_QC_CONFIG = '/etc/hostnic/qingcloud/config.yaml';

export interface DocumentedInstallInput {
  readonly qc: SandboxNetwork['qingcloud'];
  readonly vxnets: readonly string[];
  readonly blockSize?: number | undefined;
  readonly ipamConfig: Readonly<Record<string, string>>;
  readonly agentConfig?: Readonly<Record<string, Readonly<Record<string, unknown>>>> | undefined;
}

/** What the sandbox writes into the README's files: its fake QingCloud, short timers, its vxnets. */
export function sandboxInstallSettings(input: DocumentedInstallInput): DocumentedInstallSettings {
  return {
    qingcloudConfig: qingcloudConfigYaml(input.qc),
    hostnic: `${JSON.stringify(sandboxHostnicJson(input.agentConfig), null, 2)}\n`,
    hostnicCni: `${JSON.stringify(SANDBOX_CNI_CONFIG, null, 2)}\n`,
    // Not a QKE cluster: no clusterID or securityGroup, as the README says for that case.
    clusterConfig: `zone: ${input.qc.zone}\n`,
    vxnets: input.vxnets,
    ...(input.blockSize === undefined ? {} : { blockSize: input.blockSize }),
    ipamConfig: input.ipamConfig,
  };
}

/** `[4/6] hostnic: CRDs, ...` and the command under it, for the narration. */
export function describeStep(step: InstallStep): string {
  return `[${step.index}/${step.total}] ${step.name}\n      $ ${step.command}`;
}

/** Runs the README's steps as the cluster's administrator (kubectl with the admin kubeconfig) in `<dir>/install`. */
export async function runDocumentedInstall(options: {
  readonly dir: string;
  readonly adminKubeconfig: string;
  readonly repo: string;
  readonly input: DocumentedInstallInput;
  readonly onStep: (step: InstallStep) => void;
}): Promise<DocumentedInstall> {
  const workDir = join(options.dir, 'install');
  await mkdir(workDir, { recursive: true });
  return installAsDocumented({
    kubectl: { kubeconfig: options.adminKubeconfig, cacheDir: join(options.dir, 'kubectl-cache') },
    repo: options.repo,
    workDir,
    settings: sandboxInstallSettings(options.input),
    onStep: options.onStep,
  });
}

/** A container's ConfigMap and Secret files written under `root` (its `/`); maps a container path to its file. */
async function layOut(workload: DocumentedInstall['daemonSet'], container: string, install: DocumentedInstall, root: string): Promise<(path: string) => string> {
  const { files } = containerMounts(workload, container, install);
  await writeMountedFiles(root, files);
  const mounted = new Set(files.map((f) => f.path));
  return (path) => {
    if (!mounted.has(path)) {
      throw new Error(`${container} gets no ${path} from its manifest's volumes (mounted: ${[...mounted].join(', ')}): the agent and controller read it there`);
    }
    return join(root, path);
  };
}

/**
 * The controller's QingCloud config.yaml, laid out under `root` as the Deployment mounts Secret qcsecret, and
 * its kubeconfig (standing for the service account token its pod gets).
 */
export async function controllerFiles(install: DocumentedInstall, root: string, kubeconfigText: string): Promise<{ qcConfig: string; kubeconfig: string }> {
  const at = await layOut(install.deployment, 'hostnic-controller', install, root);
  const kubeconfig = join(root, 'kubeconfig');
  await writeFile(kubeconfig, kubeconfigText, { mode: 0o600 });
  return { qcConfig: at(CONTROLLER_QC_CONFIG), kubeconfig };
}

export interface NodeAgentFiles {
  readonly hostnicJson: string;
  readonly qcConfig: string;
  /** The `hostnic-cni` key as mounted, unchanged. */
  readonly cniConfigMounted: string;
  /** The network config for this node's plugin: the mounted one with the node's socket and spool paths. */
  readonly cniConfig: Record<string, unknown>;
}

/**
 * The agent's files on a node, laid out under the node's root directory (its `/`) as the DaemonSet mounts
 * hostnic-cfg-cm and qcsecret. The nodes share this machine's filesystem, so the node paths the plugin is
 * told (socketPath, spoolDir: /var/run/hostnic, /var/lib/hostnic on a real node) are the node's directories.
 */
export async function agentFiles(install: DocumentedInstall, node: SandboxNode): Promise<NodeAgentFiles> {
  const at = await layOut(install.daemonSet, 'hostnic-agent', install, node.paths.root);
  const cniConfigMounted = at(AGENT_CNI_CONFIG);
  const parsed: unknown = JSON.parse(await readFile(cniConfigMounted, 'utf8'));
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${cniConfigMounted}: the hostnic-cni key is not a JSON object`);
  return {
    hostnicJson: at(AGENT_HOSTNIC_JSON),
    qcConfig: at(AGENT_QC_CONFIG),
    cniConfigMounted,
    cniConfig: { ...parsed, socketPath: node.paths.socket, spoolDir: posix.join(node.paths.stateDir, 'spool') },
  };
}
