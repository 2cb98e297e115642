import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isJsonObject, parseJson } from '../kube/json.ts';
import type { JsonObject } from '../kube/json.ts';
import { kubectl } from '../kube/kubectl.ts';
import type { KubectlOptions } from '../kube/kubectl.ts';
import { configMapYaml, vxnetPoolYaml } from './manifests.ts';

/** What the operator puts into the files the README has them write. */
export interface DocumentedInstallSettings {
  /** Text of config.yaml, which becomes Secret kube-system/qcsecret (QingCloud access key, zone, endpoint). */
  qingcloudConfig: string;
  /** The `hostnic` key of ConfigMap hostnic-cfg-cm (hostnic.json), as text. */
  hostnic: string;
  /** The `hostnic-cni` key of ConfigMap hostnic-cfg-cm (the CNI network config), as text. */
  hostnicCni: string;
  /** The `qingcloud.yaml` key of ConfigMap clusterconfig; omitted: the step is skipped (not a QKE cluster). */
  clusterConfig?: string;
  /** spec.vxnets of VxNetPool v-pool. */
  vxnets: readonly string[];
  /** spec.blockSize of VxNetPool v-pool. Default 26. */
  blockSize?: number;
  /** Data of ConfigMap hostnic-ipam-config (`subnet-auto-assign`, `ipam`). */
  ipamConfig: Readonly<Record<string, string>>;
}

export interface DocumentedInstallOptions {
  /** kubectl pointed at the cluster as its administrator. */
  kubectl: KubectlOptions;
  /** The repository root, whose deploy/hostnic.yaml is applied. */
  repo: string;
  /** Where the operator's files (config.yaml, hostnic-cm.yaml, ...) are written and kubectl runs. */
  workDir: string;
  settings: DocumentedInstallSettings;
  /** Called before each step, for a progress printer. */
  onStep?: (step: InstallStep) => void;
}

export interface InstallStep {
  /** 1-based. */
  readonly index: number;
  readonly total: number;
  /** What the step does, e.g. `Secret kube-system/qcsecret from config.yaml`. */
  readonly name: string;
  /** The command as the README writes it. */
  readonly command: string;
}

/** The objects the agents and the controller are started from, read back through kubectl after the install. */
export interface DocumentedInstall {
  /** Secret kube-system/qcsecret, ConfigMaps hostnic-cfg-cm, hostnic-ipam-config and (when made) clusterconfig. */
  readonly secrets: ReadonlyMap<string, JsonObject>;
  readonly configMaps: ReadonlyMap<string, JsonObject>;
  readonly daemonSet: JsonObject;
  readonly deployment: JsonObject;
  readonly vxnetPool: JsonObject;
  /** The steps that ran, in order. */
  readonly steps: readonly InstallStep[];
}

interface PlannedStep {
  name: string;
  /** A file the operator writes first (relative to workDir) and its content. */
  file?: { name: string; content: string };
  args: string[];
}

const NS = 'kube-system';

/** The README's steps, in its order; the clusterconfig step only when a clusterConfig is given. */
export function documentedSteps(repo: string, settings: DocumentedInstallSettings): PlannedStep[] {
  const steps: PlannedStep[] = [
    {
      name: 'Secret kube-system/qcsecret from config.yaml',
      file: { name: 'config.yaml', content: settings.qingcloudConfig },
      args: ['create', 'secret', 'generic', 'qcsecret', '--from-file=./config.yaml', '-n', NS],
    },
    {
      name: 'ConfigMap kube-system/hostnic-cfg-cm (hostnic, hostnic-cni)',
      file: { name: 'hostnic-cm.yaml', content: configMapYaml('hostnic-cfg-cm', NS, { hostnic: settings.hostnic, 'hostnic-cni': settings.hostnicCni }) },
      args: ['apply', '-f', 'hostnic-cm.yaml'],
    },
  ];
  if (settings.clusterConfig !== undefined) {
    steps.push({
      name: 'ConfigMap kube-system/clusterconfig (qingcloud.yaml)',
      file: { name: 'clusterconfig-cm.yaml', content: configMapYaml('clusterconfig', NS, { 'qingcloud.yaml': settings.clusterConfig }) },
      args: ['apply', '-f', 'clusterconfig-cm.yaml'],
    });
  }
  steps.push(
    { name: 'deploy/hostnic.yaml (CRDs, RBAC, DaemonSet hostnic-node, Deployment hostnic-controller)', args: ['apply', '-f', join(repo, 'deploy/hostnic.yaml')] },
    {
      name: 'VxNetPool v-pool',
      file: { name: 'vxnetpool.yaml', content: vxnetPoolYaml(settings.vxnets, settings.blockSize ?? 26) },
      args: ['apply', '-f', 'vxnetpool.yaml'],
    },
    {
      name: 'ConfigMap kube-system/hostnic-ipam-config',
      file: { name: 'hostnic-ipam-config.yaml', content: configMapYaml('hostnic-ipam-config', NS, settings.ipamConfig) },
      args: ['apply', '-f', 'hostnic-ipam-config.yaml'],
    },
  );
  return steps;
}

async function getJson(options: KubectlOptions, args: readonly string[]): Promise<JsonObject> {
  const value = parseJson(await kubectl(options, ['get', ...args, '-o', 'json']));
  if (!isJsonObject(value)) throw new Error(`kubectl get ${args.join(' ')} -o json printed no object`);
  return value;
}

/**
 * Runs the README's install steps with kubectl, on a cluster where hostnic is not installed (its CRDs
 * absent), and reads back what they created. A failing step throws a KubectlError naming the command.
 */
export async function installAsDocumented(options: DocumentedInstallOptions): Promise<DocumentedInstall> {
  const k: KubectlOptions = { ...options.kubectl, cwd: options.workDir };
  const planned = documentedSteps(options.repo, options.settings);
  const steps: InstallStep[] = [];
  for (const [i, step] of planned.entries()) {
    const done: InstallStep = { index: i + 1, total: planned.length, name: step.name, command: `kubectl ${step.args.join(' ')}` };
    options.onStep?.(done);
    if (step.file) await writeFile(join(options.workDir, step.file.name), step.file.content, { mode: 0o600 });
    await kubectl(k, step.args);
    steps.push(done);
  }
  const configMapNames = ['hostnic-cfg-cm', 'hostnic-ipam-config', ...(options.settings.clusterConfig === undefined ? [] : ['clusterconfig'])];
  const configMaps = new Map<string, JsonObject>();
  for (const name of configMapNames) configMaps.set(name, await getJson(k, ['configmap', name, '-n', NS]));
  return {
    secrets: new Map([['qcsecret', await getJson(k, ['secret', 'qcsecret', '-n', NS])]]),
    configMaps,
    daemonSet: await getJson(k, ['daemonset', 'hostnic-node', '-n', NS]),
    deployment: await getJson(k, ['deployment', 'hostnic-controller', '-n', NS]),
    vxnetPool: await getJson(k, ['vxnetpool', 'v-pool']),
    steps,
  };
}
