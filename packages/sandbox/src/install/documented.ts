import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { isJsonObject, parseJson } from '../kube/json.ts';
import type { JsonObject } from '../kube/json.ts';
import { kubectl } from '../kube/kubectl.ts';
import type { KubectlOptions } from '../kube/kubectl.ts';
import { configMapYaml, vxnetPoolYaml } from './manifests.ts';
import { readmeInstallSteps, ReadmeStepsError } from './readme-steps.ts';
import type { ReadmeStep } from './readme-steps.ts';

/** What the operator puts into the files the README has them write. */
export interface DocumentedInstallSettings {
  /** Text of config.yaml, which becomes Secret kube-system/qcsecret (QingCloud access key, zone, endpoint). */
  qingcloudConfig: string;
  /** The `hostnic` key of ConfigMap hostnic-cfg-cm (hostnic.json), as text. */
  hostnic: string;
  /** The `hostnic-cni` key of ConfigMap hostnic-cfg-cm (the CNI network config), as text. */
  hostnicCni: string;
  /** The `qingcloud.yaml` key of ConfigMap clusterconfig (outside QKE: the zone only). */
  clusterConfig: string;
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
  /** The repository root: its README.md lists the steps, its deploy/hostnic.yaml is applied. */
  repo: string;
  /** The README's text instead of <repo>/README.md (tests of the parser's errors). */
  readme?: string;
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
  /** What the step does: the README's comment above it. */
  readonly name: string;
  /** The command, as the README writes it and as it ran. */
  readonly command: string;
}

/** The objects the agents and the controller are started from, read back through kubectl after the install. */
export interface DocumentedInstall {
  /** Secret kube-system/qcsecret; ConfigMaps hostnic-cfg-cm, clusterconfig and hostnic-ipam-config. */
  readonly secrets: ReadonlyMap<string, JsonObject>;
  readonly configMaps: ReadonlyMap<string, JsonObject>;
  readonly daemonSet: JsonObject;
  readonly deployment: JsonObject;
  readonly vxnetPool: JsonObject;
  /** The steps that ran, in order. */
  readonly steps: readonly InstallStep[];
}

const NS = 'kube-system';

/**
 * The files the README has the operator write, with the sandbox's values, by the names the README gives
 * them; each holds the object the README's file of that name holds.
 */
export function operatorFiles(settings: DocumentedInstallSettings): Map<string, string> {
  return new Map([
    ['config.yaml', settings.qingcloudConfig],
    ['hostnic-cm.yaml', configMapYaml('hostnic-cfg-cm', NS, { hostnic: settings.hostnic, 'hostnic-cni': settings.hostnicCni })],
    ['clusterconfig-cm.yaml', configMapYaml('clusterconfig', NS, { 'qingcloud.yaml': settings.clusterConfig })],
    ['vxnetpool.yaml', vxnetPoolYaml(settings.vxnets, settings.blockSize ?? 26)],
    ['hostnic-ipam-config.yaml', configMapYaml('hostnic-ipam-config', NS, settings.ipamConfig)],
  ]);
}

/** `-f FILE` arguments of a command that name a file in the repository rather than one the README writes. */
function repoFiles(args: readonly string[], written: ReadonlySet<string>): string[] {
  return args.flatMap((arg, i) => {
    const file = arg.startsWith('--filename=') ? arg.slice('--filename='.length) : args[i - 1] === '-f' || args[i - 1] === '--filename' ? arg : undefined;
    return file === undefined || written.has(file) || isAbsolute(file) || /^https?:/.test(file) ? [] : [file];
  });
}

/**
 * Checks the README's steps against the sandbox's files before anything runs: every file a step writes has
 * the sandbox's content, and every such content is written by some step.
 * @throws ReadmeStepsError naming the file and what to change
 */
export function checkStepFiles(steps: readonly ReadmeStep[], files: ReadonlyMap<string, string>): void {
  const written = new Set(steps.flatMap((step) => step.files.map((f) => f.name)));
  for (const step of steps) {
    for (const f of step.files) {
      if (!files.has(f.name)) {
        throw new ReadmeStepsError(`README step "${step.title}" writes ${f.name}, which the sandbox has no content for: add it to operatorFiles (packages/sandbox/src/install/documented.ts)`);
      }
    }
  }
  for (const name of files.keys()) {
    if (!written.has(name)) throw new ReadmeStepsError(`the README's install steps no longer write ${name}: add its step back, or drop it from operatorFiles`);
  }
}

async function getJson(options: KubectlOptions, args: readonly string[]): Promise<JsonObject> {
  const value = parseJson(await kubectl(options, ['get', ...args, '-o', 'json']));
  if (!isJsonObject(value)) throw new Error(`kubectl get ${args.join(' ')} -o json printed no object`);
  return value;
}

/**
 * Runs the README's install steps (`readmeInstallSteps` of the repository's README.md) with kubectl, on a
 * cluster where hostnic is not installed (its CRDs absent): each command as written, in workDir, after the
 * files it uses are written there with the sandbox's values (and the repository files it names, such as
 * deploy/hostnic.yaml, copied to the same relative path); then reads back what they created. A failing step
 * throws a KubectlError naming the command.
 */
export async function installAsDocumented(options: DocumentedInstallOptions): Promise<DocumentedInstall> {
  const k: KubectlOptions = { ...options.kubectl, cwd: options.workDir };
  const readme = options.readme ?? (await readFile(join(options.repo, 'README.md'), 'utf8'));
  const planned = readmeInstallSteps(readme, join(options.repo, 'README.md'));
  const files = operatorFiles(options.settings);
  checkStepFiles(planned, files);
  const written = new Set(planned.flatMap((step) => step.files.map((f) => f.name)));
  const steps: InstallStep[] = [];
  for (const [i, step] of planned.entries()) {
    const done: InstallStep = { index: i + 1, total: planned.length, name: step.title, command: step.command };
    options.onStep?.(done);
    for (const f of step.files) await writeFile(join(options.workDir, f.name), files.get(f.name) ?? '', { mode: 0o600 });
    for (const rel of repoFiles(step.args, written)) {
      await mkdir(dirname(join(options.workDir, rel)), { recursive: true });
      await copyFile(join(options.repo, rel), join(options.workDir, rel));
    }
    await kubectl(k, step.args);
    steps.push(done);
  }
  const configMaps = new Map<string, JsonObject>();
  for (const name of ['hostnic-cfg-cm', 'clusterconfig', 'hostnic-ipam-config']) configMaps.set(name, await getJson(k, ['configmap', name, '-n', NS]));
  return {
    secrets: new Map([['qcsecret', await getJson(k, ['secret', 'qcsecret', '-n', NS])]]),
    configMaps,
    daemonSet: await getJson(k, ['daemonset', 'hostnic-node', '-n', NS]),
    deployment: await getJson(k, ['deployment', 'hostnic-controller', '-n', NS]),
    vxnetPool: await getJson(k, ['vxnetpool', 'v-pool']),
    steps,
  };
}
