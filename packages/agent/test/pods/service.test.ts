import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installArpReply, onSpawn } from '@hostnic/netlink';
import { PodError } from '../../src/pods/index.ts';
import type { PodServiceRecord } from '../../src/pods/index.ts';
import { CONFIG, POD_VXNET, arpReplyIps, ebtablesArpReplyIps, isRoot, nodeSnapshot, startPodHarness } from './helpers.ts';
import type { PodHarness } from './helpers.ts';

describe.skipIf(!isRoot)('PodService against the sandbox', () => {
  let h: PodHarness;

  beforeEach(async () => {
    h = await startPodHarness();
  });

  afterEach(async () => {
    await h.close();
  });

  it('ADD wires a reachable pod, a repeated ADD answers the same, DEL removes everything twice over', async () => {
    const pod = await h.podNetns('web-1');
    const request = h.addRequest(pod);
    const { result, vxnet } = await h.service.add(request);
    expect(vxnet).toBe(POD_VXNET.id);
    const address = result.ips[0]?.address ?? '';
    expect(address).toMatch(/\/32$/);
    const ip = address.replace('/32', '');
    expect(ip.startsWith('172.16.3.')).toBe(true);
    expect(result.ips[0]?.gateway).toBe('169.254.1.1');
    expect(result.interfaces[0]).toMatchObject({ name: 'eth0', sandbox: pod.path });
    expect(result.interfaces[1]?.name).toMatch(/^vnic[0-9a-f]{11}$/);
    expect(result.dns).toEqual({});

    const record = (await h.store.getPod(request.attachment.containerId, 'eth0')) as PodServiceRecord | undefined;
    expect(record).toMatchObject({ ip, vxnetId: POD_VXNET.id, hostVeth: result.interfaces[1]?.name });
    expect(record).toMatchObject({ arpMatch: 'proxy', arpDev: 'br_260' });
    expect(h.store.snapshot().intents).toEqual([]);

    const node = h.sandbox.node('node-1');
    expect(await h.sandbox.ping(pod, node.ip, { attempts: 3 })).toBe(true);
    expect(await h.sandbox.ping(pod, POD_VXNET.gateway, { attempts: 3 })).toBe(true);
    // The VPC router reaching the pod IP needs the ARP answer: the proxy entry on the NIC's bridge.
    expect(await h.sandbox.vpcPing(ip, { attempts: 3 })).toBe(true);
    expect(await arpReplyIps(h)).toEqual([ip]);
    // Control: without the entry (and with the router's neighbour cache flushed) the router cannot reach it.
    await h.sandbox.exec('node-1', ['ip', 'neigh', 'del', 'proxy', ip, 'dev', 'br_260']);
    await h.sandbox.exec('vpc', ['ip', 'neigh', 'flush', 'to', ip]);
    expect(await h.sandbox.vpcPing(ip)).toBe(false);
    await h.sandbox.exec('node-1', ['ip', 'neigh', 'add', 'proxy', ip, 'dev', 'br_260']);
    await h.sandbox.exec('vpc', ['ip', 'neigh', 'flush', 'to', ip]);
    expect(await h.sandbox.vpcPing(ip, { attempts: 3 })).toBe(true);

    const again = await h.service.add(request);
    expect(again).toEqual({ result, vxnet });
    expect(await h.ipam.addressesOf(record?.handleId ?? '')).toHaveLength(1);

    const beforeDel = Date.now();
    await h.service.del({ attachment: request.attachment, config: CONFIG, prevResult: result, timeoutMs: 30_000 });
    // The last pod left: the NIC's idle age (freePeriod) starts at this DEL.
    const idleSince = (await h.store.getNic(record?.nicId ?? ''))?.idleSince;
    expect(Date.parse(idleSince ?? '')).toBeGreaterThanOrEqual(beforeDel);
    const state = await nodeSnapshot(h);
    expect(state.links.find((l) => l.name === record?.hostVeth)).toBeUndefined();
    expect(state.routes.find((r) => r.dst === `${ip}/32` || r.dst === ip)).toBeUndefined();
    expect(state.rules.filter((r) => r.priority === 1535)).toEqual([]);
    expect(await arpReplyIps(h)).toEqual([]);
    expect(await h.ipam.addressesOf(record?.handleId ?? '')).toEqual([]);
    expect(await h.store.getPod(request.attachment.containerId, 'eth0')).toBeUndefined();
    const inPod = await h.sandbox.exec(pod, ['ip', '-o', 'link', 'show', 'eth0']);
    expect(inPod.code).not.toBe(0);

    await h.service.del({ attachment: request.attachment, config: CONFIG, timeoutMs: 30_000 });
    expect(h.store.snapshot().intents).toEqual([]);
  });

  it('a late DEL of an older sandbox of the same pod leaves the newer sandbox (same veth name) wired', async () => {
    const oldNetns = await h.podNetns('late-old');
    const newNetns = await h.podNetns('late-new');
    // Two sandboxes of one pod (default/late): the host veth name comes from the pod, so both have the same.
    const older = { ...h.attachment(oldNetns), podName: 'late' };
    const newer = { ...h.attachment(newNetns), podName: 'late' };
    const first = await h.service.add({ attachment: older, config: CONFIG, timeoutMs: 30_000 });
    await h.service.del({ attachment: older, config: CONFIG, prevResult: first.result, timeoutMs: 30_000 });
    const { result } = await h.service.add({ attachment: newer, config: CONFIG, timeoutMs: 30_000 });
    const ip = (result.ips[0]?.address ?? '').replace('/32', '');
    expect(await h.sandbox.vpcPing(ip, { attempts: 3 })).toBe(true);

    // The runtime's DEL of the older sandbox comes again, with a prevResult naming the newer one's address
    // (an address reused after its cooldown; a spooled release that names it).
    await h.service.del({ attachment: older, config: CONFIG, prevResult: result, timeoutMs: 30_000 });
    const state = await nodeSnapshot(h);
    expect(state.links.find((l) => l.name === result.interfaces[1]?.name)).toBeDefined();
    expect(state.rules.filter((r) => r.priority === 1535).length).toBe(1);
    expect(await arpReplyIps(h)).toEqual([ip]);
    expect(await h.sandbox.vpcPing(ip, { attempts: 3 })).toBe(true);

    await h.service.del({ attachment: newer, config: CONFIG, prevResult: result, timeoutMs: 30_000 });
    expect(await arpReplyIps(h)).toEqual([]);
    expect(h.store.snapshot().intents).toEqual([]);
  });

  it('a warm ADD costs two processes and a DEL two, none of them ebtables or flock', async () => {
    await h.service.add(h.addRequest(await h.podNetns('warm-up')));
    const request = h.addRequest(await h.podNetns('counted'));
    const spawned: string[][] = [];
    const stop = onSpawn((argv) => spawned.push([...argv]));
    try {
      const { result } = await h.service.add(request);
      expect(spawned).toHaveLength(2);
      spawned.length = 0;
      await h.service.del({ attachment: request.attachment, config: CONFIG, prevResult: result, timeoutMs: 30_000 });
      // The pod end in the pod (the host end, its route and the pod's addresses go with it); rule 1535 and the
      // proxy entry in one host batch.
      expect(spawned).toHaveLength(2);
    } finally {
      stop();
    }
    expect(spawned.flat().filter((t) => /ebtables|flock/.test(t))).toEqual([]);
  });

  it('an earlier release\'s pod (ebtables arpreply in its record) passes CHECK, and DEL removes its entry', async () => {
    const pod = await h.podNetns('upgraded');
    const request = h.addRequest(pod);
    const { result } = await h.service.add(request);
    const a = request.attachment;
    const record = (await h.store.getPod(a.containerId, a.ifName)) as PodServiceRecord;
    // What the previous release left: the arpreply entry instead of the proxy entry, and its form in the record.
    await h.sandbox.exec('node-1', ['ip', 'neigh', 'del', 'proxy', record.ip, 'dev', 'br_260']);
    const old = await installArpReply({ ip: record.ip, mac: record.nicId, bridge: 'br_260', nicLink: 'hostnic_pods001' }, { netns: h.sandbox.node('node-1').netns, lockPath: h.lockPath });
    await h.store.putPod({ ...record, arpMatch: old.match, arpDev: old.dev } as PodServiceRecord);
    expect(await arpReplyIps(h)).toEqual([record.ip]);
    await h.service.check({ attachment: a, config: CONFIG, prevResult: result, timeoutMs: 30_000 });
    await h.service.del({ attachment: a, config: CONFIG, prevResult: result, timeoutMs: 30_000 });
    expect(await ebtablesArpReplyIps(h)).toEqual([]);
    expect(await arpReplyIps(h)).toEqual([]);
  });

  it('rolls back the IP when wiring fails (the pod netns does not exist) and leaves nothing', async () => {
    const pod = await h.podNetns('gone-1');
    const request = h.addRequest(pod);
    request.attachment.netns = `${pod.path}-missing`;
    const failures: string[] = [];
    const service = h.serviceWith({ onFailure: (kind) => failures.push(kind) });
    const error = await service.add(request).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PodError);
    expect((error as PodError).step).toBe('wire-pod');
    expect((error as PodError).message).toMatch(/wire-pod/);
    expect((error as PodError).cniCode).toBeGreaterThanOrEqual(100);
    expect(failures).toEqual(['alloc_from_host_failed']);
    const handles = await h.ipamStore.listHandles();
    expect(handles).toHaveLength(0);
    expect(await h.store.listPods()).toEqual([]);
    expect(h.store.snapshot().intents).toEqual([]);
    expect(await arpReplyIps(h)).toEqual([]);
    expect((await nodeSnapshot(h)).rules.filter((r) => r.priority === 1535)).toEqual([]);
  });

  it('answers code 11 and allocates nothing when the pod cannot be read', async () => {
    h.annotations = async () => {
      throw new Error('connect ECONNREFUSED apiserver');
    };
    const pod = await h.podNetns('api-down');
    const error = (await h.service.add(h.addRequest(pod)).catch((e: unknown) => e)) as PodError;
    expect(error).toBeInstanceOf(PodError);
    expect(error.cniCode).toBe(11);
    expect(error.step).toBe('read-pod');
    expect(await h.store.listPods()).toEqual([]);
  });

  it('takes the fixed IP of the annotation', async () => {
    h.annotations = async () => ({ 'cni.projectcalico.org/ipAddrs': '["172.16.3.77"]' });
    const pod = await h.podNetns('fixed');
    const { result } = await h.service.add(h.addRequest(pod));
    expect(result.ips[0]?.address).toBe('172.16.3.77/32');
  });

  it('CHECK passes for a wired pod and names a mismatch', async () => {
    const pod = await h.podNetns('chk');
    const request = h.addRequest(pod);
    const { result } = await h.service.add(request);
    await h.service.check({ attachment: request.attachment, config: CONFIG, prevResult: result, timeoutMs: 30_000 });
    const wrong = { ...result, ips: [{ interface: 0, address: '172.16.3.250/32' }] };
    await expect(h.service.check({ attachment: request.attachment, config: CONFIG, prevResult: wrong, timeoutMs: 30_000 })).rejects.toThrow(/172\.16\.3\.250/);
    await h.sandbox.exec(pod, ['ip', 'link', 'set', 'eth0', 'down']);
    await expect(h.service.check({ attachment: request.attachment, config: CONFIG, prevResult: result, timeoutMs: 30_000 })).rejects.toThrow(PodError);
  });

  it('GC releases recorded attachments the runtime no longer knows, and nothing without a list', async () => {
    const a = await h.podNetns('gc-a');
    const b = await h.podNetns('gc-b');
    const ra = h.addRequest(a);
    const rb = h.addRequest(b);
    await h.service.add(ra);
    await h.service.add(rb);
    const none = await h.service.gc({ config: CONFIG, timeoutMs: 30_000 } as unknown as Parameters<typeof h.service.gc>[0]);
    expect(none.released).toEqual([]);
    const out = await h.service.gc({ validAttachments: [{ containerId: ra.attachment.containerId, ifName: 'eth0' }], config: CONFIG, timeoutMs: 30_000 });
    expect(out.released).toEqual([{ containerId: rb.attachment.containerId, ifName: 'eth0' }]);
    expect((await h.store.listPods()).map((p) => p.containerId)).toEqual([ra.attachment.containerId]);
  });

  it('serves a container that is not a Kubernetes pod: no pod read or patch, never released as gone', async () => {
    const reads: string[] = [];
    h.annotations = async (ns, name) => {
      reads.push(`${ns}/${name}`);
      return {};
    };
    const patches: string[] = [];
    const service = h.serviceWith({
      podAnnotator: async (ns, name) => {
        patches.push(`${ns}/${name}`);
      },
    });
    const pod = h.addRequest(await h.podNetns('k8s-1'));
    const box = h.addRequest(await h.podNetns('podman-1'));
    box.attachment.kubernetesPod = false;
    await service.add(pod);
    const { result } = await service.add(box);
    expect(reads).toEqual([`default/${pod.attachment.podName}`]);
    expect(patches).toEqual([`default/${pod.attachment.podName}`]);
    const record = (await h.store.getPod(box.attachment.containerId, 'eth0')) as PodServiceRecord | undefined;
    expect(record?.kubernetesPod).toBe(false);

    // The API says every pod is gone: the pod is released after the grace, the container is not looked up.
    const asked: string[] = [];
    const gone = async (ns: string, name: string) => {
      asked.push(`${ns}/${name}`);
      return { kind: 'gone' } as const;
    };
    expect(await service.releaseGonePods(gone, { graceMs: 0 })).toEqual([]);
    const released = await service.releaseGonePods(gone, { graceMs: 0 });
    expect(released.map((r) => r.containerId)).toEqual([pod.attachment.containerId]);
    expect(asked.every((k) => k === `default/${pod.attachment.podName}`)).toBe(true);
    expect((await h.store.listPods()).map((p) => p.containerId)).toEqual([box.attachment.containerId]);

    await service.del({ attachment: box.attachment, config: CONFIG, prevResult: result, timeoutMs: 30_000 });
    expect(await h.store.listPods()).toEqual([]);
    expect(await arpReplyIps(h)).toEqual([]);
  });
});
