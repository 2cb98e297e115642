/**
 * The pod's ARP answer as a proxy neighbour entry on the vxnet's bridge, in throwaway namespaces: a "vxnet"
 * namespace holds the far end of the NIC and asks for the pod IP the way the vxnet's gateway and VMs do.
 * It must get the NIC's MAC (what the ebtables arpreply answered), for a vxlan vxnet (table N routes) and a
 * VLAN one (table N empty), with no ebtables entry and no lock file on the way, in two processes per ADD.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Netns, PodWiring } from '../src/index.ts';
import {
  bridgeName,
  checkPod,
  ensureProxyNeighbours,
  hostVethName,
  listArpReplies,
  listProxyNeighbours,
  onSpawn,
  proxyDelaySysctl,
  readSysctls,
  setupHostNic,
  unwirePod,
  wirePod,
} from '../src/index.ts';
import { NIC, Namespaces, ROOT_REASON, buildNode, ipn, isRoot, sh, tryRun } from './helpers.ts';

const POD_IP = '172.22.0.239';
const PEER_IP = '172.22.0.50';
const VETH = hostVethName('default', 'arp-probe');
const BRIDGE = bridgeName(NIC.table);

describe.skipIf(!isRoot)(`the proxy neighbour ARP answer${isRoot ? '' : ` (skipped: ${ROOT_REASON})`}`, () => {
  let spaces: Namespaces;
  let node: { name: string; ns: Netns };
  let pod: { name: string; ns: Netns };
  let vxnet: { name: string; ns: Netns };

  beforeEach(async () => {
    spaces = new Namespaces();
    node = await spaces.create('node', true);
    pod = await spaces.create('pod');
    vxnet = await spaces.create('vxnet', true);
    await buildNode(node.ns);
    // The NIC's far end (vpc0) becomes the vxnet: a host on the pod's subnet.
    await ipn(node.name, 'link', 'set', 'vpc0', 'netns', vxnet.name);
    await ipn(vxnet.name, 'addr', 'add', `${PEER_IP}/24`, 'dev', 'vpc0');
    await ipn(vxnet.name, 'link', 'set', 'vpc0', 'up');
  });

  afterEach(async () => {
    await spaces.cleanup();
  });

  function add(): Promise<PodWiring> {
    return wirePod({ podNetns: pod.ns, hostNetns: node.ns, ifName: 'eth0', hostVeth: VETH, podIP: POD_IP, proxyArpDev: BRIDGE });
  }

  /** What the vxnet host learnt for the pod IP after one ping (ARP resolves before the echo is sent). */
  async function peerPing(): Promise<{ replied: boolean; lladdr: string | undefined; state: string }> {
    const ping = await tryRun(['ip', 'netns', 'exec', vxnet.name, 'ping', '-c1', '-W1', POD_IP]);
    const neigh = (await ipn(vxnet.name, 'neigh', 'show', POD_IP, 'dev', 'vpc0')).trim();
    return { replied: ping.code === 0, lladdr: /lladdr (\S+)/.exec(neigh)?.[1], state: neigh.split(' ').at(-1) ?? '' };
  }

  it('answers the vxnet with the NIC MAC at once, in two processes and without ebtables; DEL takes it away', async () => {
    await setupHostNic(NIC, { netns: node.ns });
    const spawned: string[][] = [];
    const stop = onSpawn((argv) => spawned.push([...argv]));
    const w = await add().finally(stop);
    expect(spawned).toHaveLength(2);
    expect(spawned.flat().filter((t) => t === 'ebtables' || t === 'flock')).toEqual([]);
    expect(w.proxyArpDev).toBe(BRIDGE);
    expect(await listProxyNeighbours({ netns: node.ns })).toEqual([{ ip: POD_IP, dev: BRIDGE }]);
    expect(await readSysctls([proxyDelaySysctl(BRIDGE).path], { netns: node.ns })).toEqual(['0']);
    expect(await listArpReplies({ netns: node.ns })).toEqual([]);

    expect(await peerPing()).toEqual({ replied: true, lladdr: NIC.mac, state: 'REACHABLE' });
    const spec = { podNetns: pod.ns, hostNetns: node.ns, ifName: 'eth0', hostVeth: VETH, podIP: POD_IP, proxyArpDev: BRIDGE };
    expect(await checkPod(spec)).toEqual({ ok: true });

    spawned.length = 0;
    const stopDel = onSpawn((argv) => spawned.push([...argv]));
    const r = await unwirePod({ ...spec, hostMac: w.hostMac, proxyArp: { dev: BRIDGE } }).finally(stopDel);
    expect(r).toMatchObject({ podLink: 'deleted', rules: 1, proxyArp: 'flushed' });
    expect(spawned).toHaveLength(2);
    expect(await listProxyNeighbours({ netns: node.ns })).toEqual([]);
    await ipn(vxnet.name, 'neigh', 'flush', 'dev', 'vpc0');
    expect(await peerPing()).toMatchObject({ replied: false, lladdr: undefined });
  });

  it('answers on a VLAN vxnet (table N empty) too', async () => {
    await setupHostNic({ ...NIC, tunnelType: 'vlan' }, { netns: node.ns });
    // No route in table N (the kernel has not even created the table).
    expect((await tryRun(['ip', '-n', node.name, 'route', 'show', 'table', String(NIC.table)])).stdout).toBe('');
    await add();
    // The reply to the echo leaves by the main table (eth0), so only the ARP answer is asserted here.
    expect(await peerPing()).toMatchObject({ lladdr: NIC.mac });
  });

  it('CHECK names a missing proxy entry and a non-zero proxy_delay; DEL without a device removes it anywhere', async () => {
    await setupHostNic(NIC, { netns: node.ns });
    const w = await add();
    const spec = { podNetns: pod.ns, hostNetns: node.ns, ifName: 'eth0', hostVeth: VETH, podIP: POD_IP, proxyArpDev: BRIDGE };
    await sh(['ip', 'netns', 'exec', node.name, 'sh', '-c', `echo 80 > ${proxyDelaySysctl(BRIDGE).path}`]);
    expect(await checkPod(spec)).toMatchObject({ ok: false, mismatch: `host: ${BRIDGE} proxy_delay 80, expected 0` });
    await ipn(node.name, 'neigh', 'del', 'proxy', POD_IP, 'dev', BRIDGE);
    expect(await checkPod(spec)).toMatchObject({ ok: false, mismatch: `host: proxy neighbour ${POD_IP} dev ${BRIDGE} missing` });
    await ipn(node.name, 'neigh', 'add', 'proxy', POD_IP, 'dev', BRIDGE);
    await ipn(node.name, 'neigh', 'add', 'proxy', POD_IP, 'dev', 'eth0');
    await unwirePod({ ...spec, hostMac: w.hostMac, proxyArp: {} });
    expect(await listProxyNeighbours({ netns: node.ns })).toEqual([]);
  });

  it('a re-created bridge: setupHostNic zeroes its proxy_delay, ensureProxyNeighbours restores the entries in one process', async () => {
    await setupHostNic(NIC, { netns: node.ns });
    await add();
    await ipn(node.name, 'link', 'del', BRIDGE);
    expect(await listProxyNeighbours({ netns: node.ns })).toEqual([]);
    await setupHostNic(NIC, { netns: node.ns });
    expect(await readSysctls([proxyDelaySysctl(BRIDGE).path], { netns: node.ns })).toEqual(['0']);
    const spawned: string[][] = [];
    const stop = onSpawn((argv) => spawned.push([...argv]));
    const entries = [POD_IP, '172.22.0.240'].map((ip) => ({ ip, dev: BRIDGE }));
    await ensureProxyNeighbours(entries, { netns: node.ns }).finally(stop);
    expect(spawned).toHaveLength(1);
    expect(await listProxyNeighbours({ netns: node.ns })).toEqual(expect.arrayContaining(entries));
    expect((await peerPing()).replied).toBe(true);
    const none = onSpawn((argv) => spawned.push([...argv]));
    await ensureProxyNeighbours([], { netns: node.ns }).finally(none);
    expect(spawned).toHaveLength(1);
  });

  it('fails an ADD whose proxy device does not exist and leaves nothing behind', async () => {
    await setupHostNic(NIC, { netns: node.ns });
    await expect(
      wirePod({ podNetns: pod.ns, hostNetns: node.ns, ifName: 'eth0', hostVeth: VETH, podIP: POD_IP, proxyArpDev: 'br_9999' }),
    ).rejects.toThrow();
    expect(await listProxyNeighbours({ netns: node.ns })).toEqual([]);
    expect(await ipn(node.name, 'rule')).not.toContain(POD_IP);
    expect((await tryRun(['ip', '-n', node.name, 'link', 'show', VETH])).code).not.toBe(0);
  });
});
