/**
 * The README's install steps, read from its install block and run with the real kubectl against a fake
 * apiserver that starts without hostnic's CRDs; then the files the manifests mount into the agent and the
 * controller.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { checkStepFiles, containerMounts, installAsDocumented, MountError, operatorFiles, readmeInstallSteps, ReadmeStepsError, writeMountedFiles } from '../../src/install/index.ts';
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

/** A whole install is a dozen kubectl processes: on a loaded machine it takes longer than vitest's default. */
const INSTALL_TIMEOUT_MS = 120_000;

test('the README steps run in order through kubectl and create what hostnic runs from', async () => {
  const { s, d, kubeconfig } = await setup();
  expect(s.list('customresourcedefinitions')).toHaveLength(0);
  const seen: InstallStep[] = [];
  const install = await installAsDocumented({
    kubectl: { kubeconfig, cacheDir: join(d, 'cache') }, repo: REPO, workDir: d, settings: SETTINGS, onStep: (step) => seen.push(step),
  });
  // The seed README's six steps, in its order, and exactly the commands of the root README's block.
  const commands = seen.map((step) => step.command);
  expect(commands).toEqual([
    'kubectl create secret generic qcsecret --from-file=./config.yaml -n kube-system',
    'kubectl apply -f hostnic-cm.yaml',
    'kubectl apply -f clusterconfig-cm.yaml',
    'kubectl apply -f deploy/hostnic.yaml',
    'kubectl apply -f vxnetpool.yaml',
    'kubectl apply -f hostnic-ipam-config.yaml',
  ]);
  expect(commands).toEqual(readmeInstallSteps(await readFile(join(REPO, 'README.md'), 'utf8')).map((step) => step.command));
  expect(seen.map((step) => step.name)).toContain('hostnic: CRDs, service accounts and RBAC, DaemonSet hostnic-node, Deployment hostnic-controller');
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
}, INSTALL_TIMEOUT_MS);

test('a failing step names its command', async () => {
  const { d, kubeconfig } = await setup();
  const options = { kubectl: { kubeconfig, cacheDir: join(d, 'cache') }, repo: REPO, workDir: d, settings: SETTINGS };
  await installAsDocumented(options);
  // Run again, the Secret exists: `kubectl create` refuses it, as it would on a real cluster.
  await expect(installAsDocumented(options)).rejects.toThrow(/kubectl create secret generic qcsecret .*already exists/);
}, INSTALL_TIMEOUT_MS);

/** What identifies the object a manifest file holds, and the keys of its data or spec. */
function shape(yamlText: string): unknown {
  const doc = parseYaml(yamlText) as { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string }; data?: object; spec?: object };
  return { apiVersion: doc.apiVersion, kind: doc.kind, name: doc.metadata?.name, namespace: doc.metadata?.namespace, keys: Object.keys(doc.data ?? doc.spec ?? {}).sort() };
}

test('the sandbox writes each file the README has the operator write, holding the same object', async () => {
  const steps = readmeInstallSteps(await readFile(join(REPO, 'README.md'), 'utf8'));
  const files = operatorFiles(SETTINGS);
  const readmeFiles = steps.flatMap((step) => step.files);
  expect(readmeFiles.map((f) => f.name)).toEqual([...files.keys()]);
  for (const f of readmeFiles) {
    const ours = files.get(f.name) ?? '';
    if (f.name === 'config.yaml') {
      // The sandbox's config.yaml has every key the README's has (and its fake endpoint besides).
      expect(Object.keys(parseYaml(ours) as object)).toEqual(expect.arrayContaining(Object.keys(parseYaml(f.content) as object)));
    } else {
      expect(shape(ours), f.name).toEqual(shape(f.content));
    }
  }
});

const block = (body: string): string => `# x\n\n<!-- install-steps -->\n\`\`\`sh\n${body}\n\`\`\`\n`;

test('the README block is read into files and commands; anything else is refused with the line', () => {
  expect(readmeInstallSteps(block('# 1. First\n#    more\ncat >a.yaml <<EOF\nk: v\nEOF\nkubectl apply -f a.yaml\n\nkubectl get ns'))).toEqual([
    { title: 'First more', files: [{ name: 'a.yaml', content: 'k: v\n' }], command: 'kubectl apply -f a.yaml', args: ['apply', '-f', 'a.yaml'] },
    { title: 'kubectl get ns', files: [], command: 'kubectl get ns', args: ['get', 'ns'] },
  ]);
  expect(() => readmeInstallSteps('# no block\n')).toThrow(ReadmeStepsError);
  expect(() => readmeInstallSteps(block('helm install hostnic'), 'R.md')).toThrow('R.md:5: "helm install hostnic": the install block may hold only comments');
  expect(() => readmeInstallSteps(block('kubectl apply -f "$FILE"'), 'R.md')).toThrow('R.md:5: "kubectl apply -f "$FILE"" uses shell quoting');
  expect(() => readmeInstallSteps(block('cat >a.yaml <<EOF\nk: v'), 'R.md')).toThrow('R.md:5: the heredoc for a.yaml has no closing EOF line');
  const steps = readmeInstallSteps(block('cat >extra.yaml <<EOF\nk: v\nEOF\nkubectl apply -f extra.yaml'));
  expect(() => checkStepFiles(steps, operatorFiles(SETTINGS))).toThrow('writes extra.yaml, which the sandbox has no content for');
  expect(() => checkStepFiles([], operatorFiles(SETTINGS))).toThrow("the README's install steps no longer write config.yaml");
});
