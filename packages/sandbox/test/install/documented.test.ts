/**
 * The README's install steps, run with the real kubectl against a fake apiserver that starts without
 * hostnic's CRDs; then the files the manifests mount into the agent and the controller.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { containerMounts, installAsDocumented, MountError, writeMountedFiles } from '../../src/install/index.ts';
import type { DocumentedInstallSettings, InstallStep } from '../../src/install/index.ts';
import { startFakeKubeApiServer } from '../../src/kube/index.ts';
import type { FakeKubeApiServer } from '../../src/kube/index.ts';

const REPO = new URL('../../../../', import.meta.url).pathname;

let server: FakeKubeApiServer | undefined;
let dir: string | undefined;
afterEach(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  server = undefined;
  dir = undefined;
});

const SETTINGS: DocumentedInstallSettings = {
  qingcloudConfig: "qy_access_key_id: 'AK'\nqy_secret_access_key: 'SK'\nzone: 'pek3a'\n",
  hostnic: '{\n  "pool": { "maxNic": 60 },\n  "agent": { "warmNicsPerVxnet": 1 }\n}\n',
  hostnicCni: '{\n  "cniVersion": "1.0.0",\n  "name": "hostnic",\n  "type": "hostnic",\n  "serviceCIDR": "10.233.0.0/18"\n}\n',
  clusterConfig: 'zone: pek3a\nclusterID: cl-ns8bix0q\nsecurityGroup: sg-mcun6ybb\n',
  vxnets: ['vxnet-aaaaaaa', 'vxnet-bbbbbbb'],
  blockSize: 27,
  ipamConfig: { 'subnet-auto-assign': 'on', ipam: '{}\n' },
};

async function setup(): Promise<{ s: FakeKubeApiServer; d: string; kubeconfig: string }> {
  const s = await startFakeKubeApiServer();
  server = s;
  const d = await mkdtemp(join(tmpdir(), 'hostnic-install-'));
  dir = d;
  const kubeconfig = join(d, 'kubeconfig');
  await writeFile(kubeconfig, s.kubeconfig());
  return { s, d, kubeconfig };
}

test('the README steps run in order through kubectl and create what hostnic runs from', async () => {
  const { s, d, kubeconfig } = await setup();
  expect(s.list('customresourcedefinitions')).toHaveLength(0);
  const seen: InstallStep[] = [];
  const install = await installAsDocumented({
    kubectl: { kubeconfig, cacheDir: join(d, 'cache') }, repo: REPO, workDir: d, settings: SETTINGS, onStep: (step) => seen.push(step),
  });
  expect(seen.map((step) => step.command)).toEqual([
    'kubectl create secret generic qcsecret --from-file=./config.yaml -n kube-system',
    'kubectl apply -f hostnic-cm.yaml',
    'kubectl apply -f clusterconfig-cm.yaml',
    `kubectl apply -f ${join(REPO, 'deploy/hostnic.yaml')}`,
    'kubectl apply -f vxnetpool.yaml',
    'kubectl apply -f hostnic-ipam-config.yaml',
  ]);
  expect(seen.map((step) => `${step.index}/${step.total}`)).toEqual(['1/6', '2/6', '3/6', '4/6', '5/6', '6/6']);
  expect(install.steps).toEqual(seen);

  // Everything went through the API (kubectl's requests), none through the fake's own put.
  expect(s.list('customresourcedefinitions')).toHaveLength(4);
  expect(s.get('vxnetpools', 'v-pool')?.['spec']).toEqual({ vxnets: [{ name: 'vxnet-aaaaaaa' }, { name: 'vxnet-bbbbbbb' }], blockSize: 27 });
  expect(s.get('configmaps', 'hostnic-cfg-cm', 'kube-system')?.['data']).toEqual({ hostnic: SETTINGS.hostnic, 'hostnic-cni': SETTINGS.hostnicCni });
  expect(s.get('configmaps', 'clusterconfig', 'kube-system')?.['data']).toEqual({ 'qingcloud.yaml': SETTINGS.clusterConfig });
  expect(s.get('configmaps', 'hostnic-ipam-config', 'kube-system')?.['data']).toEqual(SETTINGS.ipamConfig);
  // qcsecret, hostnic-cfg-cm, clusterconfig, the 17 objects of deploy/hostnic.yaml, v-pool, hostnic-ipam-config.
  expect(s.requestLog({ verb: 'create' })).toHaveLength(1 + 1 + 1 + 17 + 1 + 1);
  expect(install.daemonSet).toMatchObject({ kind: 'DaemonSet', metadata: { name: 'hostnic-node' } });
  expect(install.deployment).toMatchObject({ kind: 'Deployment', metadata: { name: 'hostnic-controller' } });

  // The agent's files as the DaemonSet mounts them; the controller's as the Deployment does.
  const agent = containerMounts(install.daemonSet, 'hostnic-agent', install);
  expect(agent.files.map((f) => [f.path, f.source])).toEqual([
    ['/etc/hostnic/hostnic.json', 'configMap/hostnic-cfg-cm'],
    ['/etc/hostnic/10-hostnic.conf', 'configMap/hostnic-cfg-cm'],
    ['/root/.qingcloud/config.yaml', 'secret/qcsecret'],
  ]);
  expect(agent.hostPaths).toContainEqual({ mountPath: '/var/lib/hostnic', hostPath: '/var/lib/hostnic' });
  const root = join(d, 'node-1');
  await writeMountedFiles(root, agent.files);
  expect(await readFile(join(root, 'etc/hostnic/hostnic.json'), 'utf8')).toBe(SETTINGS.hostnic);
  expect(await readFile(join(root, 'root/.qingcloud/config.yaml'), 'utf8')).toBe(SETTINGS.qingcloudConfig);
  const controller = containerMounts(install.deployment, 'hostnic-controller', install);
  expect(controller.files.map((f) => f.path)).toEqual(['/etc/hostnic/qingcloud/config.yaml']);
  expect(() => containerMounts(install.daemonSet, 'sidecar', install)).toThrow(MountError);
});

test('without a clusterconfig the step is left out; a failing step names its command', async () => {
  const { s, d, kubeconfig } = await setup();
  const { clusterConfig: _omitted, ...settings } = SETTINGS;
  const options = { kubectl: { kubeconfig, cacheDir: join(d, 'cache') }, repo: REPO, workDir: d, settings };
  const install = await installAsDocumented(options);
  expect(install.steps.map((step) => step.name)).not.toContain('ConfigMap kube-system/clusterconfig (qingcloud.yaml)');
  expect(install.steps).toHaveLength(5);
  expect(s.get('configmaps', 'clusterconfig', 'kube-system')).toBeUndefined();
  // Run again, the Secret exists: `kubectl create` refuses it, as it would on a real cluster.
  await expect(installAsDocumented(options)).rejects.toThrow(/kubectl create secret generic qcsecret .*already exists/);
});
