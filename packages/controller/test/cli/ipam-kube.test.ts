import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ipam } from '@hostnic/ipam';
import { KubernetesIpamStore } from '@hostnic/ipam/kubernetes';
import { configMapsApi, customObjectsApi } from '@hostnic/runtime/kube/http';
import type { KubeClient } from '@hostnic/runtime/kube/http';
import { registerHostnicCrds, startFakeKubeApiServer } from '@hostnic/sandbox/kube';
import type { FakeKubeApiServer } from '@hostnic/sandbox/kube';
import { listLivePods, podExists } from '../../src/cli/kube.ts';
import { kubeClientOf } from '../kube-client.ts';
import { handleOf, MAPPING, runIpamWith, runningPool } from './helpers.ts';

let server: FakeKubeApiServer;
let dir: string;
let kubeconfig: string;
let client: KubeClient;
let store: KubernetesIpamStore;

function pod(name: string, phase = 'Running', namespace = 'default') {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace },
    spec: { nodeName: 'node-1', containers: [{ name: 'main', image: 'nginx' }] },
    status: { phase },
  };
}

beforeEach(async () => {
  server = await startFakeKubeApiServer();
  registerHostnicCrds(server);
  dir = await mkdtemp(join(tmpdir(), 'hostnic-ipam-cli-'));
  kubeconfig = join(dir, 'kubeconfig');
  await writeFile(kubeconfig, server.kubeconfig());
  client = kubeClientOf(server);
  store = new KubernetesIpamStore({ customObjects: customObjectsApi(client), configMaps: configMapsApi(client) });
});

afterEach(async () => {
  await store.close();
  await client.close();
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('ipam commands against the fake kube-apiserver (real HTTP, the lean client)', () => {
  it('shows, checks, refuses a live pod, releases a leaked address, and checks clean afterwards', async () => {
    const ipam = new Ipam(store);
    await ipam.ensurePool(runningPool());
    await store.setIpamConfig(MAPPING);
    for (const name of ['nginx', 'web', 'job']) {
      await ipam.allocate({ handleId: handleOf(name), namespace: 'default', pod: name, node: 'node-1' });
    }
    // nginx runs; web is gone; job finished (its address is a leak for the check, yet the pod object exists).
    server.put('pods', pod('nginx'));
    server.put('pods', pod('job', 'Succeeded'));
    const cli = (...args: string[]) => runIpamWith(['--kubeconfig', kubeconfig, ...args], {});

    const show = await cli('show', '-o', 'json');
    expect(show.stderr).toBe('');
    expect(show.code).toBe(0);
    expect(JSON.parse(show.stdout)).toMatchObject({ pools: [{ name: 'vxnet-abc1234', capacity: 256, reserved: 15, allocated: 3, free: 238 }] });

    const check = await cli('check', '--grace', '0', '-o', 'json');
    expect(check.code).toBe(1);
    const report = JSON.parse(check.stdout) as { checked: { livePods: number }; findings: { kind: string; pod: string; addresses: string[] }[] };
    expect(report.checked.livePods).toBe(1);
    expect(report.findings.map((f) => [f.kind, f.pod, f.addresses])).toEqual([
      ['DeadPodAllocation', 'web', ['172.16.3.3']],
      ['DeadPodAllocation', 'job', ['172.16.3.4']],
    ]);

    const live = await cli('release', '--ip', '172.16.3.2');
    expect(live.code).toBe(1);
    expect(live.stdout).toContain('belongs to pod default/nginx, which still exists');
    // The finished pod still exists as an object: releasing its address needs --force.
    const finished = await cli('release', '--ip', '172.16.3.4');
    expect(finished.code).toBe(1);
    expect(finished.stdout).toContain('belongs to pod default/job, which still exists');

    server.clearRequestLog();
    const release = await cli('release', '--ip', '172.16.3.3');
    expect(release.stderr).toBe('');
    expect(release.code).toBe(0);
    expect(release.stdout).toMatch(/^released 172\.16\.3\.3 .*; deleted handle default-web-/);
    const writes = server.requestLog().filter((r) => ['create', 'update', 'delete', 'patch'].includes(r.verb ?? ''));
    expect(writes.map((w) => `${w.verb} ${w.resource}`)).toEqual(['update ipamblocks', 'delete ipamhandles']);

    const forced = await cli('release', '--ip', '172.16.3.4', '--force');
    expect(forced.code).toBe(0);

    const after = await cli('check', '--grace', '0');
    expect(after.code).toBe(0);
    expect(after.stdout).toContain('No problems found: checked 1 pool, 8 blocks, 1 handle and 1 live pod');
    expect((await ipam.addressesOf(handleOf('nginx'))).map((a) => a.address)).toEqual(['172.16.3.2']);
  });

  it('reports an unreadable kubeconfig with exit code 2', async () => {
    const run = await runIpamWith(['--kubeconfig', join(dir, 'missing'), 'show'], {});
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: .*missing/);
  });
});

describe('the pods of the cluster', () => {
  it('lists live pods of all namespaces page by page, leaving out finished ones', async () => {
    server.put('pods', pod('a'));
    server.put('pods', pod('b', 'Pending', 'kube-system'));
    server.put('pods', pod('done', 'Succeeded'));
    server.put('pods', pod('crashed', 'Failed', 'kube-system'));
    server.put('pods', pod('c', 'Running', 'kube-system'));
    server.clearRequestLog();
    const pods = await listLivePods(client, 2);
    expect(pods.map((p) => `${p.namespace}/${p.name}`).sort()).toEqual(['default/a', 'kube-system/b', 'kube-system/c']);
    expect(server.requestLog().filter((r) => r.verb === 'list').length).toBe(3);
    expect(await podExists(client, 'default', 'done')).toBe(true);
    expect(await podExists(client, 'default', 'nobody')).toBe(false);
  });
});
