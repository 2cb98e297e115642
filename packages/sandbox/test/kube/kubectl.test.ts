/**
 * The machine's kubectl, unchanged, against the fake over HTTPS: the kubeconfig the fake writes is all it
 * gets (CA data and a bearer token).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterEach, expect, test } from 'vitest';
import { kubectl, startFakeKubeApiServer, startKubectl } from '../../src/kube/index.ts';
import type { FakeKubeApiServer, KubectlOptions, KubectlProcess } from '../../src/kube/index.ts';
import { eventually, isRecord } from './helpers.ts';

const REPO = new URL('../../../../', import.meta.url).pathname;

let server: FakeKubeApiServer | undefined;
let dir: string | undefined;
let watcher: KubectlProcess | undefined;
afterEach(async () => {
  await watcher?.stop();
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  watcher = undefined;
  server = undefined;
  dir = undefined;
});

async function setup(): Promise<{ s: FakeKubeApiServer; k: KubectlOptions; run: (...args: string[]) => Promise<string> }> {
  const s = await startFakeKubeApiServer();
  server = s;
  const d = await mkdtemp(join(tmpdir(), 'hostnic-kubectl-'));
  dir = d;
  const k: KubectlOptions = { kubeconfig: join(d, 'kubeconfig'), cacheDir: join(d, 'cache'), cwd: REPO };
  await writeFile(k.kubeconfig, s.kubeconfig());
  return { s, k, run: (...args: string[]) => kubectl(k, args) };
}

const lines = (text: string): string[] => text.trim().split('\n');
const columns = (line: string | undefined): string[] => (line ?? '').trim().split(/\s+/);

test('get prints the server-side table: namespaces with their status', async () => {
  const { run } = await setup();
  const out = lines(await run('get', 'namespaces'));
  expect(columns(out[0])).toEqual(['NAME', 'STATUS', 'AGE']);
  expect(out.slice(1).map((l) => columns(l).slice(0, 2))).toEqual([
    ['default', 'Active'], ['kube-node-lease', 'Active'], ['kube-public', 'Active'], ['kube-system', 'Active'],
  ]);
});

// kubectl's patch of a PodDisruptionBudget is never empty (its selector's patch strategy is `replace`), so
// a real apiserver also reports it configured on every apply; its generation shows nothing changed.
const PDB = 'poddisruptionbudget.policy/hostnic-controller';

test('apply -f deploy/hostnic.yaml creates every object, and a second apply reports each unchanged', async () => {
  const { s, run } = await setup();
  const first = lines(await run('apply', '-f', 'deploy/hostnic.yaml'));
  expect(first).toHaveLength(17);
  expect(first.filter((l) => l.endsWith(' created'))).toHaveLength(17);
  expect(first).toContain('daemonset.apps/hostnic-node created');
  const second = lines(await run('apply', '-f', 'deploy/hostnic.yaml'));
  expect(second.filter((l) => l.endsWith(' unchanged'))).toHaveLength(16);
  expect(second.filter((l) => !l.endsWith(' unchanged'))).toEqual([`${PDB} configured`]);
  expect(s.get('poddisruptionbudgets.policy', 'hostnic-controller', 'kube-system')?.metadata?.generation).toBe(1);
  const ds = s.get('daemonsets.apps', 'hostnic-node', 'kube-system');
  expect(ds?.metadata?.annotations?.['kubectl.kubernetes.io/last-applied-configuration']).toContain('"kind":"DaemonSet"');
  // The CRDs kubectl created are served at once: custom resources apply and print their CRD's columns.
  await run('apply', '-f', 'deploy/example.yaml');
  const pools = lines(await run('get', 'vxnetpools'));
  expect(columns(pools[0])).toEqual(['NAME', 'READY', 'BLOCKSIZE', 'AGE']);
  expect(columns(pools[1]).slice(0, 2)).toEqual(['v-pool', '27']);
  expect(lines(await run('apply', '-f', 'deploy/example.yaml'))).toEqual([
    'vxnetpool.network.qingcloud.com/v-pool unchanged', 'configmap/hostnic-ipam-config unchanged',
  ]);
});

test('apply of a changed manifest patches only what changed', async () => {
  const { s, k, run } = await setup();
  const file = join(dir ?? '', 'cm.yaml');
  const manifest = (value: string): string => `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c, namespace: default }\ndata: { a: "${value}", b: "kept" }\n`;
  await writeFile(file, manifest('1'));
  await kubectl(k, ['apply', '-f', file]);
  await writeFile(file, manifest('2'));
  expect(lines(await run('apply', '-f', file))).toEqual(['configmap/c configured']);
  expect(s.get('configmaps', 'c')?.['data']).toEqual({ a: '2', b: 'kept' });
  expect(s.requestLog({ verb: 'patch', resource: 'configmaps' })).toHaveLength(1);
});

test('apply of a changed DaemonSet sends a strategic merge patch that merges containers by name', async () => {
  const { s, run } = await setup();
  await run('apply', '-f', 'deploy/hostnic.yaml');
  const manifest = await readFile(join(REPO, 'deploy/hostnic.yaml'), 'utf8');
  const changed = manifest
    .replace('command: [hostnic-agent, run, --metrics-port, \'9191\']', 'command: [hostnic-agent, run, --metrics-port, \'9393\']')
    .replace('            - { name: lib-modules, mountPath: /lib/modules, readOnly: true }\n', '');
  expect(changed).not.toBe(manifest);
  const file = join(dir ?? '', 'hostnic.yaml');
  await writeFile(file, changed);
  const out = lines(await run('apply', '-f', file));
  expect(out.filter((l) => l.endsWith(' configured'))).toEqual(['daemonset.apps/hostnic-node configured', `${PDB} configured`]);
  expect(out.filter((l) => l.endsWith(' unchanged'))).toHaveLength(15);
  const [patch] = s.requestLog({ verb: 'patch', resource: 'daemonsets' });
  expect(patch?.status).toBe(200);
  const ds = JSON.stringify(s.get('daemonsets.apps', 'hostnic-node', 'kube-system'));
  expect(ds).toContain('"9393"');
  expect(ds).not.toContain('"mountPath":"/lib/modules"');
  expect(ds).toContain('"mountPath":"/var/lib/hostnic"');
  expect(ds).toContain('"name":"install-cni"');
});

test('describe vxnetpool v-pool shows its conditions and events', async () => {
  const { s, run } = await setup();
  await run('apply', '-f', 'deploy/hostnic.yaml');
  await run('apply', '-f', 'deploy/example.yaml');
  const pool = s.get('vxnetpools', 'v-pool');
  s.put('vxnetpools', {
    ...pool,
    status: {
      ready: false,
      conditions: [{ type: 'Ready', status: 'False', reason: 'VxNetNotFound', message: 'vxnet-xxxxxxxx does not exist', lastTransitionTime: '2026-01-01T00:00:00Z' }],
    },
  });
  s.put('events', {
    metadata: { name: 'v-pool.1', namespace: 'default' },
    involvedObject: { apiVersion: 'network.qingcloud.com/v1alpha1', kind: 'VxNetPool', name: 'v-pool', uid: pool?.metadata?.uid ?? '' },
    type: 'Warning', reason: 'VxNetNotFound', message: 'vxnet vxnet-xxxxxxxx: not found in zone', count: 1,
    source: { component: 'hostnic-controller' },
    firstTimestamp: '2026-01-01T00:00:00Z', lastTimestamp: '2026-01-01T00:00:00Z',
  });
  const out = await run('describe', 'vxnetpool', 'v-pool');
  expect(out).toMatch(/^Name:\s+v-pool$/m);
  expect(out).toMatch(/Conditions:\n\s+Last Transition Time:\s+2026-01-01T00:00:00Z\n\s+Message:\s+vxnet-xxxxxxxx does not exist\n\s+Reason:\s+VxNetNotFound\n\s+Status:\s+False\n\s+Type:\s+Ready/);
  expect(out).toMatch(/Events:\n\s+Type\s+Reason\s+Age\s+From\s+Message\n.*\n\s+Warning\s+VxNetNotFound\s+\S+\s+hostnic-controller\s+vxnet vxnet-xxxxxxxx: not found in zone/);
});

test('create (protobuf bodies) and delete of a namespace with its contents', async () => {
  const { s, run } = await setup();
  const config = join(dir ?? '', 'config.yaml');
  await writeFile(config, 'qy_access_key_id: "AK"\nzone: "pek3"\n');
  expect(await run('create', 'namespace', 'team-a')).toBe('namespace/team-a created\n');
  await run('create', 'configmap', 'settings', '-n', 'team-a', '--from-literal=mode=fast');
  await run('create', 'secret', 'generic', 'qcsecret', `--from-file=${config}`, '-n', 'team-a');
  await run('create', 'serviceaccount', 'robot', '-n', 'team-a');
  expect(s.get('configmaps', 'settings', 'team-a')?.['data']).toEqual({ mode: 'fast' });
  const secret = s.get('secrets', 'qcsecret', 'team-a')?.['data'];
  expect(isRecord(secret) && typeof secret['config.yaml'] === 'string' ? Buffer.from(secret['config.yaml'], 'base64').toString() : undefined)
    .toBe(await readFile(config, 'utf8'));
  expect(s.get('serviceaccounts', 'robot', 'team-a')?.metadata?.name).toBe('robot');

  expect(await run('delete', 'namespace', 'team-a')).toBe('namespace "team-a" deleted\n');
  expect(s.get('namespaces', 'team-a')).toBeUndefined();
  expect(s.list('configmaps', { namespace: 'team-a' })).toHaveLength(0);
  expect(s.list('secrets', { namespace: 'team-a' })).toHaveLength(0);
  await expect(run('get', 'namespace', 'team-a')).rejects.toThrow('namespaces "team-a" not found');
});

test('-o json, -o yaml and -o jsonpath', async () => {
  const { run } = await setup();
  await run('apply', '-f', 'deploy/hostnic.yaml');
  await run('apply', '-f', 'deploy/example.yaml');
  expect(await run('get', 'vxnetpool', 'v-pool', '-o', 'jsonpath={.spec.vxnets[0].name}/{.spec.blockSize}')).toBe('vxnet-xxxxxxxx/27');
  expect(await run('get', 'configmaps', '-n', 'kube-system', '-o', 'jsonpath={.items[*].metadata.name}')).toBe('hostnic-ipam-config');
  const json: unknown = JSON.parse(await run('get', 'daemonset', 'hostnic-node', '-n', 'kube-system', '-o', 'json'));
  expect(json).toMatchObject({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'hostnic-node', namespace: 'kube-system' } });
  expect(await run('get', 'cm', 'hostnic-ipam-config', '-n', 'kube-system', '-o', 'yaml')).toMatch(/^ {2}subnet-auto-assign: "on"$/m);
});

test('get -w prints a change made after it started', async () => {
  const { s, k } = await setup();
  const w = startKubectl(k, ['get', 'configmaps', '-n', 'kube-system', '-w']);
  watcher = w;
  await eventually(() => s.activeWatches === 1, 20_000, 'kubectl to open its watch');
  const kc = new KubeConfig();
  kc.loadFromString(s.kubeconfig());
  await kc.makeApiClient(CoreV1Api).createNamespacedConfigMap({ namespace: 'kube-system', body: { metadata: { name: 'late' }, data: { a: '1', b: '2' } } });
  await eventually(() => /^late\s+2\s+\S+$/m.test(w.output()), 20_000, 'the watch to print configmap late');
  expect(w.output()).toMatch(/^NAME\s+DATA\s+AGE$/m);
});
