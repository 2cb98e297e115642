/**
 * The controller's world for tests: a fake kube-apiserver with the hostnic CRDs and a fake QingCloud over
 * real HTTP, the real clients pointed at them, and the seed README's running example (vxnet-abc1234,
 * 172.16.3.0/24, DHCP .2-.254).
 */
import type { IaasClient } from '@hostnic/iaas-client';
import { clientFor, startFakeQingCloud } from '@hostnic/iaas-client/fake';
import type { FakeQingCloud } from '@hostnic/iaas-client/fake';
import type { IpamStore } from '@hostnic/ipam';
import { KubernetesIpamStore } from '@hostnic/ipam/kubernetes';
import { configMapsApi, customObjectsApi } from '@hostnic/runtime/kube/http';
import type { KubeClient } from '@hostnic/runtime/kube/http';
import { registerHostnicCrds, startFakeKubeApiServer } from '@hostnic/sandbox/kube';
import type { FakeKubeApiServer, KubeObject } from '@hostnic/sandbox/kube';
import type { EventObjectRef, EventSink, EventType } from '../src/event-sink.ts';
import { VxNetPoolClient } from '../src/resources/vxnetpool.ts';
import { openFence } from '../src/fence.ts';
import { kubeClientOf } from './kube-client.ts';

export const VXNET = 'vxnet-abc1234';
export const ACCESS_KEY = 'QYACCESSKEYIDEXAMPLE';
export const SECRET = 'SECRETACCESSKEY';

export interface RecordedEvent {
  readonly kind: string;
  readonly name: string | undefined;
  readonly type: EventType;
  readonly reason: string;
  readonly message: string;
}

export class RecordingEvents implements EventSink {
  readonly list: RecordedEvent[] = [];

  event(object: EventObjectRef, type: EventType, reason: string, message: string): void {
    this.list.push({ kind: object.kind, name: object.metadata.name, type, reason, message });
  }

  reasons(): string[] {
    return this.list.map((e) => e.reason);
  }
}

export interface Harness {
  readonly kube: FakeKubeApiServer;
  /** The lean client on the fake (what the controller takes). */
  readonly client: KubeClient;
  readonly kubeconfig: string;
  readonly fake: FakeQingCloud;
  readonly iaas: IaasClient;
  readonly store: IpamStore;
  readonly pools: VxNetPoolClient;
  readonly events: RecordingEvents;
  newIaasClient(): IaasClient;
  close(): Promise<void>;
}

export async function startHarness(options: { jobWorkMs?: number } = {}): Promise<Harness> {
  const kube = await startFakeKubeApiServer();
  registerHostnicCrds(kube);
  const kubeconfig = kube.kubeconfig();
  const client = kubeClientOf(kube);
  const fake = await startFakeQingCloud({ clock: 'realtime', jobDurations: { pendingMs: 0, workMs: options.jobWorkMs ?? 20 }, seed: 11 });
  const clients: IaasClient[] = [];
  const newIaasClient = (): IaasClient => {
    const c = clientFor(fake, { config: { qy_access_key_id: ACCESS_KEY, qy_secret_access_key: SECRET, connection_retries: 3 } });
    clients.push(c);
    return c;
  };
  const iaas = newIaasClient();
  const store = new KubernetesIpamStore({ customObjects: customObjectsApi(client), configMaps: configMapsApi(client) }, { retry: { attempts: 3, baseMs: 5, maxMs: 20 } });
  return {
    kube,
    client,
    kubeconfig,
    fake,
    iaas,
    store,
    pools: new VxNetPoolClient(client, openFence),
    events: new RecordingEvents(),
    newIaasClient,
    async close() {
      await store.close();
      await Promise.all(clients.map((c) => c.close()));
      await fake.close();
      await client.close();
      await kube.close();
    },
  };
}

/** The running example's vxnet, and a second one (172.16.4.0/24). */
export function seedVxnets(fake: FakeQingCloud): void {
  fake.addVxnet({
    vxnet_id: VXNET,
    tunnel_type: 'vxlan',
    router: { router_id: 'rtr-1', manager_ip: '172.16.3.1', ip_network: '172.16.3.0/24', dyn_ip_start: '172.16.3.2', dyn_ip_end: '172.16.3.254' },
  });
  fake.addVxnet({
    vxnet_id: 'vxnet-def5678',
    tunnel_type: 'vxlan',
    router: { router_id: 'rtr-1', manager_ip: '172.16.4.1', ip_network: '172.16.4.0/24', dyn_ip_start: '172.16.4.2', dyn_ip_end: '172.16.4.254' },
  });
}

export function putVxNetPool(kube: FakeKubeApiServer, vxnets: readonly string[], blockSize = 27, extra: Record<string, unknown> = {}): KubeObject {
  const existing = kube.get('vxnetpools', 'v-pool');
  return kube.put('vxnetpools', {
    apiVersion: 'network.qingcloud.com/v1alpha1',
    kind: 'VxNetPool',
    metadata: { name: 'v-pool' },
    spec: { vxnets: vxnets.map((name) => ({ name })), blockSize, ...extra },
    ...(existing?.['status'] === undefined ? {} : { status: existing['status'] }),
  } as KubeObject);
}

export function putIpamConfig(kube: FakeKubeApiServer, data: Record<string, string>): KubeObject {
  return kube.put('configmaps', {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'hostnic-ipam-config', namespace: 'kube-system' },
    data,
  } as KubeObject);
}

export function putNamespace(kube: FakeKubeApiServer, name: string): KubeObject {
  return kube.put('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name }, status: { phase: 'Active' } } as KubeObject);
}

export function putNode(kube: FakeKubeApiServer, name: string, instanceId: string): KubeObject {
  return kube.put('nodes', {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, annotations: { 'node.beta.kubernetes.io/instance-id': instanceId } },
  } as KubeObject);
}

export function putPod(kube: FakeKubeApiServer, namespace: string, name: string, podIP: string | undefined, node = 'node-1', phase = 'Running'): KubeObject {
  return kube.put('pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace },
    spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox' }] },
    status: { phase, ...(podIP === undefined ? {} : { podIP, podIPs: [{ ip: podIP }] }) },
  } as KubeObject);
}

export async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000, stepMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last === undefined ? '' : `: ${String(last)}`}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
