/**
 * deploy/ as a kustomize base with overlays: deploy/hostnic.yaml is the base joined (always checked), and
 * `kubectl kustomize` renders the same objects and the overlays' additions (checked where a kubectl with
 * kustomize v4 or later is installed). Also the DaemonSet's probes, the controller's securityContext and
 * PDB, and Roles that name what they touch, read from the manifests.
 */
import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { hostVethName } from '@hostnic/netlink';
import { REPO } from '../../src/stack/index.ts';

interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string };
  readonly [key: string]: unknown;
}

interface Probe {
  readonly httpGet?: { readonly path: string; readonly port: number };
  readonly tcpSocket?: unknown;
}

interface Container {
  readonly name: string;
  readonly image: string;
  readonly command: readonly string[];
  readonly livenessProbe?: Probe;
  readonly readinessProbe?: Probe;
  readonly securityContext?: Record<string, unknown>;
  readonly volumeMounts?: readonly { name: string; mountPath: string }[];
}

interface PodTemplate {
  readonly spec: {
    readonly template: {
      readonly metadata: { readonly labels: Record<string, string> };
      readonly spec: { readonly containers: readonly Container[]; readonly initContainers?: readonly Container[]; readonly volumes: readonly { name: string; configMap?: { name: string } }[] };
    };
  };
}

interface Rule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly resourceNames?: readonly string[];
  readonly verbs: readonly string[];
}

function parseObjects(text: string, what: string): K8sObject[] {
  return parseAllDocuments(text).map((d) => {
    if (d.errors.length > 0) throw new Error(`${what}: ${d.errors.map((e) => e.message).join('; ')}`);
    return d.toJS() as K8sObject | null;
  }).filter((o): o is K8sObject => o !== null);
}

function byId(objects: readonly K8sObject[]): Map<string, K8sObject> {
  return new Map(objects.map((o) => [`${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`, o]));
}

function find<T>(objects: readonly K8sObject[], kind: string, name: string): T & K8sObject {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (o === undefined) throw new Error(`no ${kind} ${name}`);
  return o as T & K8sObject;
}

/** The kustomize version of the kubectl on PATH, or undefined without one. */
function kustomizeMajor(): number | undefined {
  const r = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  const m = /Kustomize Version: v(\d+)/.exec(r.stdout);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

function kustomize(dir: string): K8sObject[] {
  const r = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  return parseObjects(r.stdout, `kubectl kustomize ${dir}`);
}

const DEPLOY = join(REPO, 'deploy');
const KUSTOMIZE = (kustomizeMajor() ?? 0) >= 4;

describe('deploy/ kustomize base and deploy/hostnic.yaml', () => {
  let objects: K8sObject[];
  let dir: string;
  beforeAll(async () => {
    objects = parseObjects(await readFile(join(DEPLOY, 'hostnic.yaml'), 'utf8'), 'deploy/hostnic.yaml');
    dir = await mkdtemp(join(tmpdir(), 'hostnic-kustomize-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('hostnic.yaml is the base\'s resources joined (scripts/render-deploy.sh)', async () => {
    const out = join(dir, 'rendered.yaml');
    const r = spawnSync('bash', [join(REPO, 'scripts/render-deploy.sh'), out], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(await readFile(join(DEPLOY, 'hostnic.yaml'), 'utf8')).toBe(await readFile(out, 'utf8'));
  });

  it.skipIf(!KUSTOMIZE)('`kubectl kustomize deploy` renders the objects of hostnic.yaml', () => {
    const rendered = byId(kustomize(DEPLOY));
    const file = byId(objects);
    expect([...rendered.keys()].sort()).toEqual([...file.keys()].sort());
    for (const [id, o] of file) expect(rendered.get(id), id).toEqual(o);
  });

  it.skipIf(!KUSTOMIZE)('overlays/image sets the image of every container', () => {
    const containers = kustomize(join(DEPLOY, 'overlays/image'))
      .filter((o) => o.kind === 'DaemonSet' || o.kind === 'Deployment')
      .flatMap((o) => [...(o as unknown as PodTemplate).spec.template.spec.containers, ...((o as unknown as PodTemplate).spec.template.spec.initContainers ?? [])]);
    expect(containers.length).toBe(3);
    for (const c of containers) expect(c.image, c.name).toBe('localhost/hostnic:0.1.0');
  });

  it.skipIf(!KUSTOMIZE)('overlays/prometheus adds the monitors and the four alerts on metrics hostnic exports', () => {
    const all = kustomize(join(DEPLOY, 'overlays/prometheus'));
    const added = [...byId(all).keys()].filter((id) => !byId(objects).has(id)).sort();
    expect(added).toEqual([
      'PodMonitor/kube-system/hostnic-node',
      'PrometheusRule/kube-system/hostnic',
      'Service/kube-system/hostnic-controller-metrics',
      'ServiceMonitor/kube-system/hostnic-controller',
    ]);
    const rule = find<{ spec: { groups: { rules: { alert: string; expr: string }[] }[] } }>(all, 'PrometheusRule', 'hostnic');
    const alerts = rule.spec.groups.flatMap((g) => g.rules);
    for (const name of ['HostnicAgentNotReady', 'HostnicIpamExhausted', 'HostnicIaasErrors', 'HostnicNicAttachFailures']) {
      expect(alerts.map((a) => a.alert)).toContain(name);
    }
    for (const a of alerts) expect(a.expr, a.alert).toMatch(/hostnic_|up\{/);
  });

  it.skipIf(!KUSTOMIZE)('overlays/config names hostnic-cfg-cm by its content: a change rolls the agents', async () => {
    const configOf = (all: K8sObject[]): string | undefined =>
      find<PodTemplate>(all, 'DaemonSet', 'hostnic-node').spec.template.spec.volumes.find((v) => v.name === 'config')?.configMap?.name;
    const before = configOf(kustomize(join(DEPLOY, 'overlays/config')));
    expect(before).toMatch(/^hostnic-cfg-cm-[a-z0-9]{10}$/);
    const copy = join(dir, 'deploy');
    await cp(DEPLOY, copy, { recursive: true });
    await writeFile(join(copy, 'overlays/config/hostnic.json'), '{ "pool": { "maxNic": 30 } }\n');
    const after = configOf(kustomize(join(copy, 'overlays/config')));
    expect(after).toMatch(/^hostnic-cfg-cm-[a-z0-9]{10}$/);
    expect(after).not.toBe(before);
  });

  it('the agent is probed over HTTP on its metrics port: /healthz for liveness, /readyz for readiness', () => {
    const agent = find<PodTemplate>(objects, 'DaemonSet', 'hostnic-node').spec.template.spec.containers[0];
    if (agent === undefined) throw new Error('no agent container');
    const port = Number(agent.command[agent.command.indexOf('--metrics-port') + 1]);
    expect(port).toBe(9191);
    expect(agent.livenessProbe).toMatchObject({ httpGet: { path: '/healthz', port } });
    expect(agent.livenessProbe?.tcpSocket).toBeUndefined();
    expect(agent.readinessProbe).toMatchObject({ httpGet: { path: '/readyz', port } });
  });

  it('the controller runs as non-root on a read-only root filesystem, without capabilities, under a PDB', () => {
    const deployment = find<PodTemplate>(objects, 'Deployment', 'hostnic-controller');
    const c = deployment.spec.template.spec.containers[0];
    if (c === undefined) throw new Error('no controller container');
    expect(c.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    // /root is 0700 in the image: uid 65532 reads its Secret elsewhere.
    for (const m of c.volumeMounts ?? []) expect(m.mountPath.startsWith('/root'), m.mountPath).toBe(false);
    const pdb = find<{ spec: { minAvailable: number; selector: { matchLabels: Record<string, string> } } }>(objects, 'PodDisruptionBudget', 'hostnic-controller');
    expect(pdb.spec.minAvailable).toBe(1);
    expect(pdb.spec.selector.matchLabels).toEqual(deployment.spec.template.metadata.labels);
  });

  it('the namespaced Roles name every ConfigMap and Lease they touch; only create goes without names', () => {
    for (const role of ['hostnic-controller', 'hostnic-node']) {
      const rules = find<{ rules: Rule[] }>(objects, 'Role', role).rules;
      expect(rules.length).toBeGreaterThan(0);
      for (const r of rules) {
        if (r.verbs.length === 1 && r.verbs[0] === 'create') expect(r.resourceNames, `${role}: create`).toBeUndefined();
        else expect(r.resourceNames?.length, `${role}: ${r.resources.join(',')} ${r.verbs.join(',')}`).toBeGreaterThan(0);
      }
    }
  });

  it('overlays/calico: calico-node in policy-only mode on the `vnic` veths, its RBAC named consistently', async () => {
    const calico = parseObjects(await readFile(join(DEPLOY, 'overlays/calico/calico-node.yaml'), 'utf8'), 'overlays/calico/calico-node.yaml');
    expect(calico.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(['ClusterRole/calico-node', 'ClusterRoleBinding/calico-node', 'DaemonSet/calico-node', 'ServiceAccount/calico-node']);
    const ds = find<PodTemplate & { spec: { template: { spec: { serviceAccountName: string } } } }>(calico, 'DaemonSet', 'calico-node');
    const node = ds.spec.template.spec.containers[0] as Container & { env: { name: string; value?: string }[] };
    const env = new Map(node.env.map((e) => [e.name, e.value]));
    // The prefix of the agent's host veths, as the netlink library names them.
    const prefix = env.get('FELIX_INTERFACEPREFIX') ?? '';
    expect(prefix).toBe('vnic');
    expect(hostVethName('default', 'web-1').startsWith(prefix)).toBe(true);
    expect(env.get('CALICO_NETWORKING_BACKEND')).toBe('none');
    expect(env.get('DATASTORE_TYPE')).toBe('kubernetes');
    expect(env.get('FELIX_REMOVEEXTERNALROUTES')).toBe('false');
    const sa = find<K8sObject>(calico, 'ServiceAccount', 'calico-node');
    expect(ds.spec.template.spec.serviceAccountName).toBe(sa.metadata.name);
    const binding = find<{ roleRef: { kind: string; name: string }; subjects: { kind: string; name: string; namespace: string }[] }>(calico, 'ClusterRoleBinding', 'calico-node');
    expect(binding.roleRef).toMatchObject({ kind: 'ClusterRole', name: 'calico-node' });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: sa.metadata.name, namespace: sa.metadata.namespace }]);
    const role = find<{ rules: Rule[] }>(calico, 'ClusterRole', 'calico-node');
    const canWatch = (resource: string): boolean => role.rules.some((r) => r.resources.includes(resource) && r.verbs.includes('watch'));
    for (const r of ['pods', 'namespaces', 'networkpolicies', 'felixconfigurations']) expect(canWatch(r), r).toBe(true);
  });

  it.skipIf(!KUSTOMIZE)('overlays/calico renders the config overlay plus calico-node, with networkPolicy calico in hostnic.json', () => {
    const all = kustomize(join(DEPLOY, 'overlays/calico'));
    const config = kustomize(join(DEPLOY, 'overlays/config'));
    const added = [...byId(all).keys()].filter((id) => !byId(config).has(id)).sort();
    expect(added).toEqual(['ClusterRole//calico-node', 'ClusterRoleBinding//calico-node', 'DaemonSet/kube-system/calico-node', 'ServiceAccount/kube-system/calico-node']);
    const cm = all.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('hostnic-cfg-cm')) as (K8sObject & { data: Record<string, string> }) | undefined;
    expect(JSON.parse(cm?.data['hostnic'] ?? '{}')).toMatchObject({ server: { networkPolicy: 'calico' } });
  });
});
