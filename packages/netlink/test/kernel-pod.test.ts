/**
 * Real pod wiring in throwaway namespaces. The "node" is a namespace too: nothing here
 * touches the machine's own network namespace.
 */
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Executor, Netns, PodWiring } from '../src/index.ts';
import {
  ExistsError,
  PermissionError,
  bridgeName,
  checkPod,
  spawnProcess,
  confSysctl,
  deleteNamedNetns,
  installArpReply,
  ensureIptablesRuleSet,
  hostVethName,
  hostnicMangleRuleSet,
  ipForwardSysctl,
  listArpReplies,
  nicLinkName,
  onSpawn,
  readLinks,
  readSysctls,
  removeArpReplies,
  setupHostNic,
  unwirePod,
  vethAddOp,
  applyBatchOrThrow,
  wirePod,
} from '../src/index.ts';
import { NIC, NODE_IP, Namespaces, ROOT_REASON, buildNode, ebtablesSupportsLogicalIn, ipn, isRoot, sh, tempDir, tryRun } from './helpers.ts';

const POD_IP = '172.22.0.239';
const VETH = hostVethName('default', 'nginx');

function lines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

describe.skipIf(!isRoot)(`pod wiring in throwaway namespaces${isRoot ? '' : ` (skipped: ${ROOT_REASON})`}`, () => {
  let spaces: Namespaces;
  let node: { name: string; ns: Netns };
  let pod: { name: string; ns: Netns };
  let lock: Awaited<ReturnType<typeof tempDir>>;

  beforeEach(async () => {
    spaces = new Namespaces();
    lock = await tempDir();
    node = await spaces.create('node', true);
    pod = await spaces.create('pod');
    await buildNode(node.ns);
    await setupHostNic(NIC, { netns: node.ns });
  });

  afterEach(async () => {
    await spaces.cleanup();
    await lock.remove();
  });

  async function add(p: { ns: Netns }, ip = POD_IP, veth = VETH): Promise<PodWiring> {
    return wirePod({ podNetns: p.ns, hostNetns: node.ns, ifName: 'eth0', hostVeth: veth, podIP: ip });
  }

  it('wires a pod in two processes; it answers pings both ways; the state is the original\'s', async () => {
    const spawned: string[][] = [];
    const stop = onSpawn((argv) => spawned.push([...argv]));
    const w = await add(pod).finally(stop);
    expect(spawned).toHaveLength(2);
    expect(spawned[0]?.slice(0, 4)).toEqual(['nsenter', `--net=/var/run/netns/${pod.name}`, '--', 'sh']);
    expect(spawned[1]?.slice(0, 3)).toEqual(['nsenter', `--net=/var/run/netns/${node.name}`, '--']);

    // 23: node -> pod and pod -> node.
    await sh(['ip', 'netns', 'exec', node.name, 'ping', '-c1', '-W2', POD_IP]);
    await sh(['ip', 'netns', 'exec', pod.name, 'ping', '-c1', '-W2', NODE_IP]);

    // 12
    const podLinks = await readLinks({ netns: pod.ns });
    const eth0 = podLinks.find((l) => l.name === 'eth0');
    expect(eth0).toMatchObject({ kind: 'veth', up: true, mtu: 1500, mac: w.podMac });
    expect(await ipn(pod.name, 'link', 'show', 'eth0')).toMatch(/state UP .*|mtu 1500/);
    // 13
    expect(lines(await ipn(pod.name, '-4', 'addr', 'show', 'dev', 'eth0')).filter((l) => l.startsWith('inet '))).toEqual([
      'inet 172.22.0.239/32 scope global eth0',
    ]);
    // 14
    expect(lines(await ipn(pod.name, 'route', 'show'))).toEqual([
      'default via 169.254.1.1 dev eth0 src 172.22.0.239',
      '169.254.1.1 dev eth0 scope link',
    ]);
    // 15
    expect(lines(await ipn(pod.name, 'neigh', 'show', 'dev', 'eth0'))).toContain(`169.254.1.1 lladdr ${w.hostMac} PERMANENT`);
    // 16
    expect(await readSysctls([confSysctl(4, 'eth0', 'rp_filter', 0).path], { netns: pod.ns })).toEqual(['0']);
    // 17
    const host = (await readLinks({ netns: node.ns })).find((l) => l.name === VETH);
    expect(host).toMatchObject({ kind: 'veth', up: true, mtu: 1500, master: undefined, mac: w.hostMac });
    expect(host?.peerIndex).toBe(eth0?.index);
    expect(eth0?.peerIndex).toBe(host?.index);
    // 18
    expect(
      await readSysctls(
        [confSysctl(4, VETH, 'rp_filter', 0).path, confSysctl(6, VETH, 'accept_ra', 0).path, ipForwardSysctl().path],
        { netns: node.ns },
      ),
    ).toEqual(['0', '0', '1']);
    // 19
    expect(lines(await ipn(node.name, 'route', 'show', 'table', 'main', POD_IP))).toEqual([`${POD_IP} dev ${VETH} scope link`]);
    // 20
    expect((await ipn(node.name, 'rule')).split('\n').filter((l) => l.includes(POD_IP))).toEqual([
      `1535:\tfrom all to ${POD_IP} lookup main`,
    ]);
    expect(await checkPod({ podNetns: pod.ns, hostNetns: node.ns, ifName: 'eth0', hostVeth: VETH, podIP: POD_IP })).toEqual({ ok: true });
  });

  it('keeps the mangle rules single across ADDs (22) and the ARP responder entry single (21)', async () => {
    const mangle = hostnicMangleRuleSet({ nodeIP: NODE_IP, serviceCIDR: '10.233.0.0/18', natMark: '0x10000' });
    const opts = { netns: node.ns, lockPath: `${lock.dir}/run/hostnic.lock` };
    await add(pod);
    expect((await ensureIptablesRuleSet(mangle, opts)).changed).toBe(true);
    const pod2 = await spaces.create('pod2');
    await add(pod2, '172.22.0.240', hostVethName('default', 'web'));
    expect((await ensureIptablesRuleSet(mangle, opts)).changed).toBe(false);
    const rules = lines(await sh(['ip', 'netns', 'exec', node.name, 'iptables', '-t', 'mangle', '-S'])).map((l) =>
      l.replace(`${NODE_IP} `, `${NODE_IP}/32 `),
    );
    for (const want of [
      '-A PREROUTING -j HOSTNIC-PREROUTING',
      '-A OUTPUT -j HOSTNIC-OUTPUT',
      `-A HOSTNIC-PREROUTING -m conntrack --ctorigdst ${NODE_IP}/32 -j MARK --set-xmark 0x10000/0x10000`,
      '-A HOSTNIC-OUTPUT -m conntrack --ctorigdst 10.233.0.0/18 -j MARK --set-xmark 0x10000/0x10000',
    ]) {
      expect(rules.filter((l) => l === want), want).toHaveLength(1);
    }

    // The form this kernel takes: --logical-in where nf_tables has the bridge-name match, -i otherwise.
    const probe = await ebtablesSupportsLogicalIn(node.name);
    const target = { bridge: bridgeName(NIC.table), nicLink: nicLinkName(NIC.vxnetId), ip: POD_IP, mac: NIC.mac };
    const entry = await installArpReply(target, opts);
    expect(entry.match).toBe(probe.ok ? 'logical-in' : 'in');
    await installArpReply(target, opts, entry.match);
    expect(await listArpReplies(opts)).toEqual([entry]);
    expect(await checkPod({ podNetns: pod.ns, hostNetns: node.ns, ifName: 'eth0', hostVeth: VETH, podIP: POD_IP, arpReply: entry })).toEqual({
      ok: true,
    });
    await removeArpReplies({ ip: POD_IP }, opts);
    expect(await listArpReplies(opts)).toEqual([]);
  });

  it('wires a second pod beside the first without touching it (24)', async () => {
    const first = await add(pod);
    const pod2 = await spaces.create('pod2');
    const web = hostVethName('default', 'web');
    await add(pod2, '172.22.0.240', web);
    expect(web).not.toBe(VETH);
    expect(lines(await ipn(node.name, 'route', 'show', 'table', 'main')).filter((l) => l.startsWith('172.22.0.2'))).toEqual([
      `${POD_IP} dev ${VETH} scope link`,
      `172.22.0.240 dev ${web} scope link`,
    ]);
    expect((await ipn(node.name, 'rule')).split('\n').filter((l) => l.startsWith('1535:'))).toHaveLength(2);
    expect(await checkPod({ podNetns: pod.ns, hostNetns: node.ns, ifName: 'eth0', hostVeth: first.hostVeth, podIP: POD_IP })).toEqual({ ok: true });
    await sh(['ip', 'netns', 'exec', pod2.name, 'ping', '-c1', '-W2', POD_IP]);
  });

  it('replaces a leftover host link of the same name (25) and refuses an existing pod interface', async () => {
    await applyBatchOrThrow([vethAddOp({ name: VETH, peerName: 'stale0' })], { netns: node.ns });
    const before = (await readLinks({ netns: node.ns })).find((l) => l.name === VETH);
    await add(pod);
    const after = (await readLinks({ netns: node.ns })).find((l) => l.name === VETH);
    expect(after?.index).not.toBe(before?.index);
    expect(await checkPod({ podNetns: pod.ns, hostNetns: node.ns, ifName: 'eth0', hostVeth: VETH, podIP: POD_IP })).toEqual({ ok: true });

    // A repeated ADD for the same container: eth0 exists, so it fails and leaves the working pod alone.
    const err = await add(pod).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExistsError);
    expect((err as ExistsError).message).toContain('container veth name provided (eth0) already exists');
    expect(await checkPod({ podNetns: pod.ns, hostNetns: node.ns, ifName: 'eth0', hostVeth: VETH, podIP: POD_IP })).toEqual({ ok: true });

    // With replacement refused, a leftover makes ADD fail instead.
    const pod2 = await spaces.create('pod2');
    const err2 = await wirePod(
      { podNetns: pod2.ns, hostNetns: node.ns, ifName: 'eth0', hostVeth: VETH, podIP: '172.22.0.241' },
      { replaceHostLink: false },
    ).catch((e: unknown) => e);
    expect(err2).toBeInstanceOf(ExistsError);
    expect(lines(await ipn(pod2.name, 'link')).filter((l) => /^\d+:/.test(l))).toHaveLength(1);
  });

  it('DEL removes everything, twice without error (27-29, 33)', async () => {
    await add(pod);
    const spawned: string[][] = [];
    const stop = onSpawn((argv) => spawned.push([...argv]));
    const r = await unwirePod({ podNetns: pod.ns, hostNetns: node.ns, ifName: 'eth0', hostVeth: VETH, podIP: POD_IP }).finally(stop);
    expect(r).toEqual({ podLink: 'deleted', hostLink: 'skipped', hostRoutes: 0, rules: 1, proxyArp: 'skipped' });
    // The pod end in the pod, rule 1535 in the host: side by side, nothing read first.
    expect(spawned).toHaveLength(2);
    expect(lines(await ipn(pod.name, 'link')).filter((l) => /^\d+:/.test(l)).map((l) => l.split(':')[1]?.trim())).toEqual(['lo']);
    expect((await tryRun(['ip', '-n', node.name, 'link', 'show', VETH])).code).not.toBe(0);
    expect(await ipn(node.name, 'route', 'show', 'table', 'main', POD_IP)).toBe('');
    expect(await ipn(node.name, 'rule')).not.toContain(POD_IP);
    expect(await unwirePod({ podNetns: pod.ns, hostNetns: node.ns, ifName: 'eth0', hostVeth: VETH, podIP: POD_IP })).toEqual({
      podLink: 'absent',
      hostLink: 'skipped',
      hostRoutes: 0,
      rules: 0,
      proxyArp: 'skipped',
    });
    // Unchanged by DEL (32): the NIC setup.
    expect(await ipn(node.name, 'rule')).toContain('1536:\tfrom 172.22.0.0/24 lookup 260');
    expect(lines(await ipn(node.name, 'route', 'show', 'table', '260'))).toHaveLength(2);
  });

  it('DEL with the pod netns gone cleans the host (34) and after eth0 vanished (35)', async () => {
    await add(pod);
    await deleteNamedNetns(pod.name);
    expect(await unwirePod({ podNetns: pod.ns, hostNetns: node.ns, ifName: 'eth0', hostVeth: VETH, podIP: POD_IP })).toMatchObject({
      podLink: 'netns-gone',
      rules: 1,
    });
    expect(await ipn(node.name, 'rule')).not.toContain(POD_IP);
    expect(await unwirePod({ hostNetns: node.ns, ifName: 'eth0', podIP: POD_IP })).toMatchObject({ podLink: 'skipped', rules: 0 });

    const pod2 = await spaces.create('pod2');
    await add(pod2);
    await ipn(pod2.name, 'link', 'del', 'eth0');
    expect(await unwirePod({ podNetns: pod2.ns, hostNetns: node.ns, ifName: 'eth0', hostVeth: VETH, podIP: POD_IP })).toMatchObject({
      podLink: 'absent',
      rules: 1,
    });
    expect(await ipn(node.name, 'rule')).not.toContain(POD_IP);
  });

  it('DEL removes a host end that outlived its pod only when its MAC is ours', async () => {
    const w = await add(pod);
    // Simulate a pod netns that is gone as a path but whose host end survived.
    await ipn(pod.name, 'link', 'set', 'eth0', 'netns', node.name, 'name', 'keep0');
    await deleteNamedNetns(pod.name);
    const spec = { podNetns: pod.ns, hostNetns: node.ns, ifName: 'eth0', hostVeth: VETH, podIP: POD_IP };
    expect(await unwirePod({ ...spec, hostMac: '02:00:00:00:00:01' })).toMatchObject({ hostLink: 'kept', hostRoutes: 1 });
    expect((await readLinks({ netns: node.ns })).some((l) => l.name === VETH)).toBe(true);
    expect(await unwirePod({ ...spec, hostMac: w.hostMac.toUpperCase() })).toMatchObject({ hostLink: 'deleted' });
    expect((await readLinks({ netns: node.ns })).some((l) => l.name === VETH)).toBe(false);
  });

  it('rolls back the pod side when a later step fails', async () => {
    // The real processes run; the host batch's answer is replaced by a refusal.
    const refuseHost: Executor = async (req) => {
      const r = await spawnProcess(req);
      if (req.argv.includes(`--net=/var/run/netns/${node.name}`) && req.argv.some((a) => a.includes('ip -force -batch'))) {
        return { ...r, code: 1, stderr: 'RTNETLINK answers: Operation not permitted\nCommand failed -:2\n' };
      }
      return r;
    };
    const err = await wirePod(
      { podNetns: pod.ns, hostNetns: node.ns, ifName: 'eth0', hostVeth: VETH, podIP: POD_IP },
      { exec: refuseHost },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermissionError);
    expect((err as PermissionError).line).toBe(`route replace ${POD_IP}/32 dev ${VETH} table 254 scope link`);
    expect((await readLinks({ netns: pod.ns })).map((l) => l.name)).toEqual(['lo']);
    expect((await readLinks({ netns: node.ns })).some((l) => l.name === VETH)).toBe(false);
    // The rule line succeeded for real and was reported ok: it is removed again.
    expect(await ipn(node.name, 'rule')).not.toContain(POD_IP);

    // A failure in the middle of the pod batch (here: reported for its address line) removes the new link.
    const failPodLine3: Executor = async (req) => {
      const r = await spawnProcess(req);
      if (req.argv.includes(`--net=/var/run/netns/${pod.name}`) && req.argv.includes('sh')) {
        return { ...r, code: 1, stderr: 'Error: ipv4: Address already assigned.\nCommand failed -:3\n' };
      }
      return r;
    };
    const err2 = await wirePod(
      { podNetns: pod.ns, hostNetns: node.ns, ifName: 'eth0', hostVeth: VETH, podIP: POD_IP },
      { exec: failPodLine3 },
    ).catch((e: unknown) => e);
    expect(err2).toBeInstanceOf(ExistsError);
    expect((await readLinks({ netns: pod.ns })).map((l) => l.name)).toEqual(['lo']);
    expect((await readLinks({ netns: node.ns })).some((l) => l.name === VETH)).toBe(false);
  });

  it('CHECK names the first mismatch', async () => {
    await add(pod);
    await ipn(pod.name, 'neigh', 'del', '169.254.1.1', 'dev', 'eth0');
    const r = await checkPod({ podNetns: pod.ns, hostNetns: node.ns, ifName: 'eth0', hostVeth: VETH, podIP: POD_IP });
    expect(r).toMatchObject({ ok: false, mismatch: 'pod: permanent neighbour 169.254.1.1 missing' });
    await deleteNamedNetns(pod.name);
    expect(await checkPod({ podNetns: pod.ns, hostNetns: node.ns, ifName: 'eth0', hostVeth: VETH, podIP: POD_IP })).toMatchObject({
      ok: false,
      mismatch: `pod: netns /var/run/netns/${pod.name} is gone`,
    });
  });
});

describe.skipIf(!isRoot)('pod wiring from inside the node namespace (netns <pid>, /proc/sys writes)', () => {
  let spaces: Namespaces;
  const script = fileURLToPath(new URL('./fixtures/current-ns-pod.ts', import.meta.url));

  beforeEach(() => {
    spaces = new Namespaces();
  });
  afterEach(async () => {
    await spaces.cleanup();
  });

  async function inNode(nodeName: string, ...args: string[]): Promise<Record<string, unknown>> {
    const out = await sh(['ip', 'netns', 'exec', nodeName, process.execPath, script, ...args]);
    return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
  }

  it('costs two processes per ADD (proxy ARP entry included) and two per DEL, and builds the same state', async () => {
    const node = await spaces.create('node', true);
    const pod = await spaces.create('pod');
    await buildNode(node.ns);
    await setupHostNic(NIC, { netns: node.ns });
    const podPath = `/var/run/netns/${pod.name}`;
    const bridge = bridgeName(NIC.table);
    const added = await inNode(node.name, 'add', podPath, 'eth0', VETH, POD_IP, '', bridge);
    expect(added['ok']).toBe(true);
    const spawns = added['spawns'] as string[][];
    expect(spawns).toHaveLength(2);
    expect(spawns[0]?.[0]).toBe('nsenter');
    expect(spawns[1]).toEqual(['ip', '-force', '-batch', '-']);
    await sh(['ip', 'netns', 'exec', node.name, 'ping', '-c1', '-W2', POD_IP]);
    expect(await ipn(node.name, 'neigh', 'show', 'proxy')).toContain(`${POD_IP} dev ${bridge} proxy`);
    const checked = await inNode(node.name, 'check', podPath, 'eth0', VETH, POD_IP, '', bridge);
    expect(checked['check']).toEqual({ ok: true });
    const wiring = added['wiring'] as { hostMac: string };
    const deleted = await inNode(node.name, 'del', podPath, 'eth0', VETH, POD_IP, wiring.hostMac, bridge);
    expect(deleted['result']).toEqual({ podLink: 'deleted', hostLink: 'absent', hostRoutes: 0, rules: 1, proxyArp: 'flushed' });
    const delSpawns = deleted['spawns'] as string[][];
    expect(delSpawns).toHaveLength(2);
    expect(delSpawns.map((a) => a[0]).sort()).toEqual(['ip', 'nsenter']);
    expect(await ipn(node.name, 'rule')).not.toContain(POD_IP);
    expect(await ipn(node.name, 'neigh', 'show', 'proxy')).toBe('');
  });
});
