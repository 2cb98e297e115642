/**
 * deploy/: the manifests parse, name what the seed README's steps create, and their commands, mounts and
 * probes work with the real CLIs: the DaemonSet's install-cni and agent command lines run against files laid
 * out as the volumes lay them out, the Deployment's command line parses. (The CRDs and RBAC rules are
 * exercised for real by test/stack, which runs hostnic under them.)
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { DEFAULT_TIMEOUTS } from '@hostnic/cni-plugin/netconf';
import { REPO } from '../../src/stack/index.ts';
import { agentNodeOptions, controllerNodeOptions, deployManifests } from '../../src/stack/stack.ts';

/** What the agent needs after its stop deadline to roll back the aborted ADDs and exit. */
const ROLLBACK_SEC = 10;

interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string };
  readonly [key: string]: unknown;
}

interface Container {
  readonly name: string;
  readonly command: readonly string[];
  readonly env?: readonly { name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  readonly volumeMounts?: readonly { name: string; mountPath: string }[];
  readonly livenessProbe?: { httpGet?: { path: string; port: number }; tcpSocket?: { port: number } };
  readonly readinessProbe?: { httpGet?: { path: string; port: number } };
}

interface PodSpec {
  readonly serviceAccountName: string;
  readonly hostNetwork?: boolean;
  readonly initContainers?: readonly Container[];
  readonly containers: readonly Container[];
  readonly volumes: readonly { name: string; configMap?: { name: string; items: { key: string; path: string }[] }; secret?: { secretName: string }; hostPath?: { path: string } }[];
}

async function manifests(file: string): Promise<Manifest[]> {
  const docs = parseAllDocuments(await readFile(join(REPO, 'deploy', file), 'utf8'));
  return docs.map((d) => {
    if (d.errors.length > 0) throw new Error(`${file}: ${d.errors.map((e) => e.message).join('; ')}`);
    return d.toJS() as Manifest;
  }).filter((m) => m !== null);
}

function podSpec(m: Manifest | undefined): PodSpec {
  return (m as unknown as { spec: { template: { spec: PodSpec } } }).spec.template.spec;
}

function mountOf(spec: PodSpec, container: Container, volume: string): string {
  const mount = container.volumeMounts?.find((v) => v.name === volume);
  if (mount === undefined || !spec.volumes.some((v) => v.name === volume)) throw new Error(`${container.name} does not mount volume ${volume}`);
  return mount.mountPath;
}

/** The sources of the image's commands (the image runs their bundles; test/image runs those). */
const IMAGE_COMMANDS: Readonly<Record<string, string>> = {
  'hostnic-agent': 'packages/agent/src/cli.ts',
  'hostnic-controller': 'packages/controller/src/cli.ts',
};

/** Runs an image command (`hostnic-agent ...`) from this checkout's sources. */
function imageCommand(command: readonly string[], env: Record<string, string>): ReturnType<typeof spawnSync> {
  const [bin, ...args] = command;
  const cli = IMAGE_COMMANDS[bin ?? ''];
  if (cli === undefined) throw new Error(`the image has no command ${String(bin)}`);
  return spawnSync(process.execPath, ['--conditions=@hostnic/source', join(REPO, cli), ...args], {
    encoding: 'utf8',
    env: { PATH: process.env['PATH'] ?? '', ...env },
    timeout: 60_000,
  });
}

// The seed README's ConfigMap hostnic-cfg-cm.
const SEED_HOSTNIC = JSON.stringify({ pool: { maxNic: 60 }, server: { networkPolicy: 'calico' } });
const SEED_HOSTNIC_CNI = JSON.stringify({ cniVersion: '0.3.0', name: 'hostnic', type: 'hostnic', serviceCIDR: '10.233.0.0/18', hairpin: false, natMark: '0x10000' });

describe('deploy/hostnic.yaml', () => {
  let all: Manifest[];
  let dir: string;
  beforeAll(async () => {
    all = await manifests('hostnic.yaml');
    dir = await mkdtemp(join(tmpdir(), 'hostnic-deploy-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('installs the four CRDs, two service accounts with their RBAC, the DaemonSet, the Deployment and its PDB', () => {
    const ids = all.map((m) => `${m.kind}/${m.metadata.namespace === undefined ? '' : `${m.metadata.namespace}/`}${m.metadata.name}`).sort();
    expect(ids).toEqual([
      'ClusterRole/hostnic-controller',
      'ClusterRole/hostnic-node',
      'ClusterRoleBinding/hostnic-controller',
      'ClusterRoleBinding/hostnic-node',
      'CustomResourceDefinition/ipamblocks.network.qingcloud.com',
      'CustomResourceDefinition/ipamhandles.network.qingcloud.com',
      'CustomResourceDefinition/ippools.network.qingcloud.com',
      'CustomResourceDefinition/vxnetpools.network.qingcloud.com',
      'DaemonSet/kube-system/hostnic-node',
      'Deployment/kube-system/hostnic-controller',
      'PodDisruptionBudget/kube-system/hostnic-controller',
      'Role/kube-system/hostnic-controller',
      'Role/kube-system/hostnic-node',
      'RoleBinding/kube-system/hostnic-controller',
      'RoleBinding/kube-system/hostnic-node',
      'ServiceAccount/kube-system/hostnic-controller',
      'ServiceAccount/kube-system/hostnic-node',
    ]);
    const crds = all.filter((m) => m.kind === 'CustomResourceDefinition') as unknown as { spec: { scope: string; group: string; versions: { name: string }[] } }[];
    for (const crd of crds) expect(crd.spec).toMatchObject({ scope: 'Cluster', group: 'network.qingcloud.com', versions: [{ name: 'v1alpha1' }] });
  });

  it('the DaemonSet reads the seed README\'s ConfigMap and Secret where the agent looks by default', () => {
    const ds = podSpec(all.find((m) => m.kind === 'DaemonSet'));
    expect(ds.serviceAccountName).toBe('hostnic-node');
    expect(ds.hostNetwork).toBe(true);
    const agent = ds.containers[0];
    if (agent === undefined) throw new Error('no agent container');
    const config = ds.volumes.find((v) => v.name === 'config')?.configMap;
    expect(config?.name).toBe('hostnic-cfg-cm');
    expect(config?.items).toEqual([{ key: 'hostnic', path: 'hostnic.json' }, { key: 'hostnic-cni', path: '10-hostnic.conf' }]);
    expect(mountOf(ds, agent, 'config')).toBe('/etc/hostnic');
    expect(ds.volumes.find((v) => v.name === 'qcsecret')?.secret?.secretName).toBe('qcsecret');
    expect(mountOf(ds, agent, 'qcsecret')).toBe('/root/.qingcloud');
    expect(mountOf(ds, agent, 'instance-id')).toBe('/etc/qingcloud');
    expect(mountOf(ds, agent, 'state')).toBe('/var/lib/hostnic');
    expect(mountOf(ds, agent, 'run')).toBe('/var/run/hostnic');
    expect(agent.env?.find((e) => e.name === 'MY_NODE_NAME')?.valueFrom?.fieldRef?.fieldPath).toBe('spec.nodeName');
  });

  it('the DaemonSet\'s install-cni command puts the plugin, its runtime and the conflist on the node', async () => {
    const ds = podSpec(all.find((m) => m.kind === 'DaemonSet'));
    const init = ds.initContainers?.[0];
    if (init === undefined) throw new Error('no init container');
    const hostRoot = join(dir, 'host');
    // The volumes as the container sees them: /host/... and /etc/hostnic/10-hostnic.conf.
    expect(mountOf(ds, init, 'cni-bin')).toBe('/host/opt/cni/bin');
    expect(mountOf(ds, init, 'cni-conf')).toBe('/host/etc/cni/net.d');
    await mkdir(join(hostRoot, 'opt/cni/bin'), { recursive: true });
    await mkdir(join(hostRoot, 'etc/cni/net.d'), { recursive: true });
    const source = join(dir, '10-hostnic.conf');
    await writeFile(source, SEED_HOSTNIC_CNI);
    const command = init.command.map((a) => (a === '/host' ? hostRoot : a));
    const res = imageCommand(command, { HOSTNIC_CNI_CONFIG_SOURCE: source });
    expect(res.status, `${String(res.stdout)}${String(res.stderr)}`).toBe(0);
    for (const file of ['opt/cni/bin/hostnic', 'opt/cni/bin/hostnic-node', 'etc/cni/net.d/10-hostnic.conflist']) {
      expect(existsSync(join(hostRoot, file)), file).toBe(true);
    }
    expect(((await stat(join(hostRoot, 'opt/cni/bin/hostnic'))).mode & 0o111) !== 0).toBe(true);
  });

  it('the DaemonSet\'s agent command line validates with the seed README\'s configuration; its grace period fits the stop deadline', async () => {
    const ds = podSpec(all.find((m) => m.kind === 'DaemonSet'));
    const agent = ds.containers[0];
    if (agent === undefined) throw new Error('no agent container');
    const etc = join(dir, 'etc');
    await mkdir(etc, { recursive: true });
    await writeFile(join(etc, 'hostnic.json'), SEED_HOSTNIC);
    await writeFile(join(etc, 'config.yaml'), 'qy_access_key_id: "AK"\nqy_secret_access_key: "SK"\nzone: "pek3a"\n');
    await writeFile(join(etc, 'instance-id'), 'i-abcd1234\n');
    const res = imageCommand([...agent.command, '--validate-only'], {
      MY_NODE_NAME: 'node-1',
      HOSTNIC_CONFIG: join(etc, 'hostnic.json'),
      HOSTNIC_QINGCLOUD_CONFIG: join(etc, 'config.yaml'),
      HOSTNIC_INSTANCE_ID_FILE: join(etc, 'instance-id'),
      HOSTNIC_STATE_DIR: join(dir, 'state'),
      HOSTNIC_SOCKET: join(dir, 'run/hostnic.socket'),
    });
    expect(res.status, `${String(res.stdout)}${String(res.stderr)}`).toBe(0);
    expect(String(res.stdout) + String(res.stderr)).toContain('calico');

    // A rollout: the agent lets ADDs run until its stop deadline (not shorter than the plugin's ADD timeout,
    // so no ADD the runtime still waits for is cut), then rolls back the rest; the kubelet's SIGKILL comes at
    // the grace period, which must leave time for that rollback.
    const effective = JSON.parse(String(res.stdout)) as { config: { agent: { stopDeadlineSec: number } } };
    const stopDeadlineSec = effective.config.agent.stopDeadlineSec;
    const grace = (all.find((m) => m.kind === 'DaemonSet') as unknown as { spec: { template: { spec: { terminationGracePeriodSeconds?: number } } } }).spec.template.spec.terminationGracePeriodSeconds;
    expect(stopDeadlineSec * 1000).toBeGreaterThanOrEqual(DEFAULT_TIMEOUTS.addMs);
    expect(grace, 'terminationGracePeriodSeconds of the DaemonSet').toBeGreaterThanOrEqual(stopDeadlineSec + ROLLBACK_SEC);
  });

  it('the agent\'s and the controller\'s NODE_OPTIONS bound the young generation (the agent runs without the JIT), Node accepts them there, and the stack uses them', async () => {
    const manifests = await deployManifests();
    expect(agentNodeOptions(manifests)).toBe('--max-semi-space-size=1 --jitless');
    expect(controllerNodeOptions(manifests)).toBe('--max-semi-space-size=1');
    for (const options of [agentNodeOptions(manifests), controllerNodeOptions(manifests)]) {
      // Node exits 9 on a flag NODE_OPTIONS may not carry.
      const res = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.execArgv.length))'], { env: { PATH: process.env['PATH'], NODE_OPTIONS: options }, encoding: 'utf8' });
      expect(res.status, res.stderr).toBe(0);
    }
  });

  it('the Deployment runs the controller with flags it knows, probes it serves, and two replicas', () => {
    const deployment = all.find((m) => m.kind === 'Deployment') as unknown as { spec: { replicas: number } } & Manifest;
    expect(deployment.spec.replicas).toBe(2);
    const spec = podSpec(deployment);
    expect(spec.serviceAccountName).toBe('hostnic-controller');
    const c = spec.containers[0];
    if (c === undefined) throw new Error('no controller container');
    expect(c.livenessProbe?.httpGet?.path).toBe('/healthz');
    expect(c.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(c.env?.find((e) => e.name === 'POD_NAME')?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
    const help = imageCommand([...c.command, '--help'], {});
    expect(help.status, String(help.stderr)).toBe(0);
    for (const flag of c.command.filter((a) => a.startsWith('--'))) expect(String(help.stdout)).toContain(flag);
    expect(mountOf(spec, c, 'qcsecret')).toBe('/etc/hostnic/qingcloud');
    expect(c.command).toContain('/etc/hostnic/qingcloud/config.yaml');
  });

  it('the Dockerfile lays the image out with the script the registry-free build uses, from sources only', async () => {
    const dockerfile = await readFile(join(REPO, 'deploy/images/Dockerfile'), 'utf8');
    for (const used of ['scripts/image/stage-app.sh', 'scripts/image/packages.txt']) {
      expect(dockerfile).toContain(used);
      expect(existsSync(join(REPO, used))).toBe(true);
    }
    expect(dockerfile).not.toMatch(/^COPY \. /m);
    const ignored = (await readFile(join(REPO, '.dockerignore'), 'utf8')).split('\n');
    for (const kept of ['.git', 'node_modules', '**/dist', '**/test', '**/bench']) expect(ignored).toContain(kept);
  });
});

describe('deploy/example.yaml', () => {
  it('holds VxNetPool v-pool and ConfigMap kube-system/hostnic-ipam-config', async () => {
    const docs = await manifests('example.yaml');
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual(['VxNetPool/v-pool', 'ConfigMap/hostnic-ipam-config']);
  });
});
