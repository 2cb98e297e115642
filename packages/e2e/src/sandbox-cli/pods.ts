/**
 * `pod add|del NS/NAME --node N`: what kubelet does for a pod on a sandbox node. The Pod object is made in
 * the fake kube-apiserver (the agent reads the pod from it), a network namespace stands for the pod's
 * sandbox, and the plugin installed in the node's CNI bin dir is run inside the node's namespace with the
 * node's conflist, the CNI environment and a container id that `pod del` finds again.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { NETNS_RUN_DIR, createNamedNetns, deleteNamedNetns, listNamedNetns } from '@hostnic/netlink';
import { run } from '../stack/index.ts';
import type { RunResult } from '../stack/index.ts';
import { SandboxUsageError } from './state.ts';
import type { NodeState, SandboxDirs, SandboxState } from './state.ts';

const POD = /^([a-z0-9]([a-z0-9-]*[a-z0-9])?)\/([a-z0-9]([a-z0-9.-]*[a-z0-9])?)$/;

export interface PodName {
  readonly namespace: string;
  readonly name: string;
}

export function parsePod(text: string): PodName {
  const m = POD.exec(text);
  if (m === null) throw new SandboxUsageError(`pod "${text}": write NAMESPACE/NAME in lower case, e.g. default/web-1`);
  return { namespace: m[1] ?? '', name: m[3] ?? '' };
}

/** What `pod add` keeps for `pod del` (and prints). */
export interface PodRecord {
  readonly namespace: string;
  readonly name: string;
  readonly node: string;
  readonly containerId: string;
  /** The pod's network namespace (named, under /var/run/netns). */
  readonly netns: string;
  readonly netnsPath: string;
  /** The plugin's CNI result. */
  readonly result: unknown;
}

function nodeOf(state: SandboxState, node: string): NodeState {
  const found = state.nodes.find((n) => n.name === node);
  if (found === undefined) throw new SandboxUsageError(`--node ${node}: sandbox ${state.name} has ${state.nodes.map((n) => n.name).join(', ')}`);
  return found;
}

function recordFile(dirs: SandboxDirs, pod: PodName): string {
  return join(dirs.podsDir, `${pod.namespace}_${pod.name}.json`);
}

/** The plugin as kubelet runs it: its binary from CNI_PATH, the conflist's plugin entry on stdin. */
async function runPlugin(node: NodeState, command: 'ADD' | 'DEL', pod: PodName, containerId: string, netnsPath: string): Promise<RunResult> {
  const conflist = JSON.parse(await readFile(join(node.cniConfDir, '10-hostnic.conflist'), 'utf8')) as { cniVersion: string; name: string; plugins: Record<string, unknown>[] };
  const plugin = conflist.plugins.find((p) => p['type'] === 'hostnic');
  if (plugin === undefined) throw new Error(`${node.cniConfDir}/10-hostnic.conflist has no hostnic plugin`);
  return run(
    ['ip', 'netns', 'exec', node.namespace, join(node.cniBinDir, 'hostnic')],
    {
      PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      CNI_COMMAND: command,
      CNI_CONTAINERID: containerId,
      CNI_NETNS: netnsPath,
      CNI_IFNAME: 'eth0',
      CNI_PATH: node.cniBinDir,
      CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${pod.namespace};K8S_POD_NAME=${pod.name};K8S_POD_INFRA_CONTAINER_ID=${containerId}`,
    },
    JSON.stringify({ ...plugin, cniVersion: conflist.cniVersion, name: conflist.name }),
    '/',
  );
}

function core(state: SandboxState): CoreV1Api {
  const kc = new KubeConfig();
  kc.loadFromFile(state.kubeconfig);
  return kc.makeApiClient(CoreV1Api);
}

function statusOf(e: unknown): number | undefined {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

export class PluginFailedError extends Error {
  override readonly name = 'PluginFailedError';
}

export async function addPod(dirs: SandboxDirs, state: SandboxState, pod: PodName, nodeName: string): Promise<PodRecord> {
  const node = nodeOf(state, nodeName);
  const api = core(state);
  await api.createNamespace({ body: { metadata: { name: pod.namespace } } }).catch((e: unknown) => {
    if (statusOf(e) !== 409) throw e;
  });
  await api.createNamespacedPod({
    namespace: pod.namespace,
    body: { metadata: { name: pod.name, namespace: pod.namespace }, spec: { nodeName, containers: [{ name: 'c', image: 'pause' }] } },
  });
  const netns = `${state.prefix}-${nodeName}-${pod.namespace}-${pod.name}`;
  await createNamedNetns(netns, { loopbackUp: true });
  const netnsPath = join(NETNS_RUN_DIR, netns);
  const containerId = randomBytes(16).toString('hex');
  const added = await runPlugin(node, 'ADD', pod, containerId, netnsPath);
  if (added.code !== 0) {
    await deleteNamedNetns(netns);
    await api.deleteNamespacedPod({ namespace: pod.namespace, name: pod.name }).catch(() => undefined);
    throw new PluginFailedError(`the plugin's ADD failed (exit ${String(added.code)}):\n${added.stdout}${added.stderr}`);
  }
  const record: PodRecord = { ...pod, node: nodeName, containerId, netns, netnsPath, result: JSON.parse(added.stdout) as unknown };
  await mkdir(dirs.podsDir, { recursive: true });
  await writeFile(recordFile(dirs, pod), `${JSON.stringify(record, null, 2)}\n`);
  return record;
}

export async function delPod(dirs: SandboxDirs, state: SandboxState, pod: PodName): Promise<PodRecord> {
  let record: PodRecord;
  try {
    record = JSON.parse(await readFile(recordFile(dirs, pod), 'utf8')) as PodRecord;
  } catch {
    throw new SandboxUsageError(`no pod ${pod.namespace}/${pod.name} was added to sandbox ${state.name} with \`pod add\``);
  }
  const deleted = await runPlugin(nodeOf(state, record.node), 'DEL', pod, record.containerId, record.netnsPath);
  if (deleted.code !== 0) throw new PluginFailedError(`the plugin's DEL failed (exit ${String(deleted.code)}):\n${deleted.stdout}${deleted.stderr}`);
  if ((await listNamedNetns()).includes(record.netns)) await deleteNamedNetns(record.netns);
  await core(state).deleteNamespacedPod({ namespace: pod.namespace, name: pod.name }).catch((e: unknown) => {
    if (statusOf(e) !== 404) throw e;
  });
  await rm(recordFile(dirs, pod), { force: true });
  return record;
}
