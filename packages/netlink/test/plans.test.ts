import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Rule, Snapshot } from '../src/index.ts';
import {
  CommandError,
  ExistsError,
  NotFoundError,
  batchText,
  diffHostNic,
  diffPodState,
  isExactRule,
  netnsAtPath,
  parseAddresses,
  parseLinks,
  parseNeighbours,
  parseRoutes,
  parseRules,
  planHostNic,
  planHostNicCleanup,
  parseProxyNeighbours,
  planPodAdd,
  planRuleRemoval,
  proxyNeighFlushOp,
  ruleRemovalOps,
} from '../src/index.ts';
import { batchArgv } from '../src/batch.ts';
import { POD_PRELUDE } from '../src/pod-wiring.ts';
import { NIC } from './helpers.ts';

const POD = netnsAtPath('/var/run/netns/cni-1');

describe('the ADD plan', () => {
  const plan = planPodAdd({
    podNetns: POD,
    ifName: 'eth0',
    hostVeth: 'vnicc440f455693',
    podIP: '172.22.0.239',
    hostMac: '0A:58:AC:16:00:EF',
    podMac: '0a:58:ac:16:00:01',
  });

  it('builds the pod side as one batch behind the rp_filter prelude', () => {
    expect(batchText(plan.podOps)).toBe(
      [
        `link add eth0 mtu 1500 address 0a:58:ac:16:00:01 type veth peer name vnicc440f455693 mtu 1500 address 0a:58:ac:16:00:ef netns ${process.pid}`,
        'link set dev eth0 up',
        'addr replace 172.22.0.239/32 dev eth0',
        'neigh replace 169.254.1.1 lladdr 0a:58:ac:16:00:ef dev eth0 nud permanent',
        'route replace 169.254.1.1/32 dev eth0 table 254 scope link',
        'route replace default via 169.254.1.1 dev eth0 table 254 src 172.22.0.239',
        '',
      ].join('\n'),
    );
    expect(batchArgv({ netns: POD, force: false, prelude: plan.podPrelude })).toEqual([
      'nsenter',
      '--net=/var/run/netns/cni-1',
      '--',
      'sh',
      '-c',
      `${POD_PRELUDE.script}\nexec ip -batch -`,
      'sh',
    ]);
    expect(POD_PRELUDE.script).toMatch(/^echo 0 > \/proc\/sys\/net\/ipv4\/conf\/default\/rp_filter/);
  });

  it('builds the host side and its sysctls', () => {
    expect(batchText(plan.hostOps)).toBe(
      'link set dev vnicc440f455693 up\nroute replace 172.22.0.239/32 dev vnicc440f455693 table 254 scope link\nrule add priority 1535 to 172.22.0.239/32 table 254\n',
    );
    expect(plan.hostOps[2]?.tolerate).toEqual(['EEXIST']);
    expect(plan.hostSysctls).toEqual([
      { path: '/proc/sys/net/ipv4/conf/vnicc440f455693/rp_filter', value: '0', optional: undefined },
      { path: '/proc/sys/net/ipv6/conf/vnicc440f455693/accept_ra', value: '0', optional: true },
      { path: '/proc/sys/net/ipv4/ip_forward', value: '1' },
    ]);
  });

  it('moves the peer by path when the host is another namespace, and picks random MACs', () => {
    const p = planPodAdd({ podNetns: POD, hostNetns: netnsAtPath('/var/run/netns/node'), ifName: 'eth1', hostVeth: 'vnic1', podIP: '10.0.0.2', mtu: 9000 });
    expect(p.podOps[0]?.args.slice(-2)).toEqual(['netns', '/var/run/netns/node']);
    expect(p.podOps[0]?.args).toContain('9000');
    expect(p.wiring.hostMac).not.toBe(p.wiring.podMac);
    expect(() => planPodAdd({ podNetns: POD, ifName: 'eth0', hostVeth: 'vnic1', podIP: '10.0.0.300' })).toThrow();
    expect(() => planPodAdd({ podNetns: { kind: 'current' }, ifName: 'eth0', hostVeth: 'vnic1', podIP: '10.0.0.3' })).toThrow();
  });

  it('puts the proxy ARP entry in the host batch and zeroes the device\'s proxy_delay, without another process', () => {
    const p = planPodAdd({ podNetns: POD, ifName: 'eth0', hostVeth: 'vnic1', podIP: '172.22.0.239', proxyArpDev: 'br_260' });
    expect(batchText(p.hostOps).split('\n').at(-2)).toBe('neigh replace proxy 172.22.0.239 dev br_260');
    expect(p.hostSysctls.at(-1)).toEqual({ path: '/proc/sys/net/ipv4/neigh/br_260/proxy_delay', value: '0' });
    expect(p.wiring.proxyArpDev).toBe('br_260');
    expect(() => planPodAdd({ podNetns: POD, ifName: 'eth0', hostVeth: 'vnic1', podIP: '10.0.0.3', proxyArpDev: 'br 1' })).toThrow(/proxyArpDev/);
  });
});

describe('proxy neighbour entries', () => {
  it('flushes by IP on one device or on all, and reads back only IPv4 entries', () => {
    expect(batchText([proxyNeighFlushOp({ ip: '172.22.0.239', dev: 'br_260' }), proxyNeighFlushOp({ ip: '172.22.0.239' })])).toBe(
      'neigh flush proxy to 172.22.0.239 dev br_260\nneigh flush proxy to 172.22.0.239\n',
    );
    expect(proxyNeighFlushOp({ ip: '172.22.0.239' }).tolerate).toEqual(['ENODEV']);
    expect(
      parseProxyNeighbours([
        { dst: '172.22.0.239', dev: 'br_260', proxy: null },
        { dst: 'fe80::1', dev: 'br_260', proxy: null },
        { dst: '172.22.0.240' },
      ]),
    ).toEqual([{ ip: '172.22.0.239', dev: 'br_260' }]);
    expect(parseProxyNeighbours({})).toEqual([]);
  });
});

function jsonl(name: string): unknown[] {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as unknown);
}

function snapshot(name: string): Snapshot {
  const [addr, routes, rules, neigh] = jsonl(name);
  return {
    links: parseLinks(addr),
    addresses: parseAddresses(addr),
    routes: parseRoutes(routes),
    rules: parseRules(rules),
    neighbours: parseNeighbours(neigh),
  };
}

describe('CHECK diff', () => {
  const pod = snapshot('pod-snapshot.jsonl');
  const host = snapshot('node-snapshot.jsonl');
  const spec = { podNetns: POD, ifName: 'eth0', hostVeth: 'vnicc440f455693', podIP: '172.22.0.239' };
  const good = { pod, host, podRpFilter: '0', hostSysctls: ['0', '0', '1'] };

  it('finds nothing wrong in the captured wiring', () => {
    expect(diffPodState(good, spec)).toEqual([]);
  });

  it('names the first mismatch', () => {
    const noNeigh = { ...good, pod: { ...pod, neighbours: [] } };
    expect(diffPodState(noNeigh, spec)[0]).toBe('pod: permanent neighbour 169.254.1.1 missing');
    const dup = { ...good, host: { ...host, rules: [...host.rules, ...host.rules.filter((r) => r.priority === 1535)] } };
    expect(diffPodState(dup, spec)).toEqual(['host: rule 1535 to 172.22.0.239 lookup main present 2 times']);
    expect(diffPodState({ ...good, hostSysctls: ['1', undefined, '0'] }, spec)).toEqual([
      'host: vnicc440f455693 rp_filter 1, expected 0',
      'host: ip_forward 0, expected 1',
    ]);
    expect(diffPodState(good, { ...spec, mtu: 9000 })[0]).toBe('pod: eth0 mtu 1500, expected 9000');
    const arp = { ...good, arpReplies: [] };
    expect(diffPodState(arp, { ...spec, arpReply: { match: 'logical-in', dev: 'br_260', mac: NIC.mac } })).toEqual([
      'host: ebtables arpreply for 172.22.0.239 on br_260 present 0 times',
    ]);
    // The fallback form does not stand in for the compat one CHECK was told about, nor the other way round.
    const fallback = { match: 'in', dev: 'hostnic_abc1234', ip: '172.22.0.239', mac: NIC.mac } as const;
    expect(diffPodState({ ...good, arpReplies: [fallback] }, { ...spec, arpReply: fallback })).toEqual([]);
    expect(diffPodState({ ...good, arpReplies: [fallback] }, { ...spec, arpReply: { match: 'logical-in', dev: 'br_260', mac: NIC.mac } })).toEqual([
      'host: ebtables arpreply for 172.22.0.239 on br_260 present 0 times',
    ]);
  });
});

function rule(priority: number, fields: Partial<Rule> = {}): Rule {
  return { family: 4, priority, table: 254, action: 'lookup', not: false, extra: [], ...fields };
}

describe('exact rule removal', () => {
  const ours = { priority: 1535, dst: '172.22.0.239/32', table: 254 };

  it('deletes only exact copies', () => {
    const rules = [rule(0, { table: 255 }), rule(1535, { dst: '172.22.0.239/32' }), rule(1535, { dst: '172.22.0.240/32' })];
    expect(planRuleRemoval(rules, ours)).toEqual({ present: 1, deletable: 1 });
    expect(ruleRemovalOps(rules, ours).map((o) => o.args.join(' '))).toEqual(['rule del priority 1535 to 172.22.0.239/32 table 254']);
    expect(ruleRemovalOps([rules[0] ?? rule(0)], ours)).toEqual([]);
  });

  it('refuses when the kernel would pick a rule with more selectors first', () => {
    const foreign = rule(1535, { src: '10.0.0.0/8', dst: '172.22.0.239/32', iif: 'lo', extra: ['iif'] });
    const rules = [foreign, rule(1535, { dst: '172.22.0.239/32' })];
    expect(isExactRule(foreign, ours)).toBe(false);
    expect(planRuleRemoval(rules, ours).blockedBy).toBe(foreign);
    expect(() => ruleRemovalOps(rules, ours)).toThrow(CommandError);
    expect(ruleRemovalOps([rules[1] ?? rule(0), foreign], ours)).toHaveLength(1);
  });
});

describe('host NIC plan', () => {
  const node = snapshot('node-snapshot.jsonl');
  const spec = { ...NIC };

  it('has nothing to do on a set-up NIC', () => {
    const t260 = { ...node, routes: node.routes.filter((r) => r.table === 260) };
    expect(planHostNic(t260, spec)).toEqual({ ops: [], actions: [] });
    expect(diffHostNic(t260, spec)).toEqual([]);
  });

  it('plans the whole setup for a fresh NIC', () => {
    const fresh: Snapshot = {
      links: parseLinks(jsonl('node-snapshot.jsonl')[0])
        .filter((l) => l.name !== 'br_260' && !l.name.startsWith('vnic'))
        .map((l) => (l.name === 'hostnic_abc1234' ? { ...l, name: 'eth1', alias: undefined, master: undefined, up: false } : l)),
      addresses: [],
      routes: [],
      rules: node.rules.filter((r) => r.priority !== 1536),
      neighbours: [],
    };
    expect(batchText(planHostNic(fresh, spec).ops)).toBe(
      [
        'link set dev eth1 down',
        'link set dev eth1 name hostnic_abc1234',
        'link set dev hostnic_abc1234 alias hostnic_abc1234',
        'link add name br_260 address 52:54:9e:d0:dd:96 type bridge',
        'link set dev hostnic_abc1234 master br_260',
        'link set dev hostnic_abc1234 up',
        'link set dev br_260 up',
        'route replace 172.22.0.0/24 dev br_260 table 260 scope link',
        'route replace default via 172.22.0.1 dev br_260 table 260',
        'rule add priority 1536 from 172.22.0.0/24 table 260',
        '',
      ].join('\n'),
    );
    expect(diffHostNic(fresh, spec)).toContain('NIC is named eth1, expected hostnic_abc1234');
  });

  it('empties the table for vlan and replaces a stale rule', () => {
    const t260 = node.routes.filter((r) => r.table === 260);
    const stale = { ...node, routes: t260, rules: node.rules.map((r) => (r.priority === 1536 ? { ...r, src: '172.21.0.0/24' } : r)) };
    const ops = planHostNic(stale, { ...spec, tunnelType: 'vlan' }).ops.map((o) => o.args.join(' '));
    expect(ops).toEqual([
      'route del default via 172.22.0.1 dev br_260 table 260',
      'route del 172.22.0.0/24 dev br_260 table 260',
      'rule del priority 1536 from 172.21.0.0/24 table 260',
      'rule add priority 1536 from 172.22.0.0/24 table 260',
    ]);
  });

  it('adds our rule before removing one of our network into another table, which would match first', () => {
    const t260 = node.routes.filter((r) => r.table === 260);
    const moved = { ...node, routes: t260, rules: node.rules.map((r) => (r.priority === 1536 ? { ...r, table: 261 } : r)) };
    expect(planHostNic(moved, spec).ops.map((o) => o.args.join(' '))).toEqual([
      'rule add priority 1536 from 172.22.0.0/24 table 260',
      'rule del priority 1536 from 172.22.0.0/24 table 261',
    ]);
    expect(diffHostNic(moved, spec)).toEqual([
      'rule 1536 from 172.22.0.0/24 lookup 260 present 0 times',
      'rule 1536 from 172.22.0.0/24 lookup 261 is not ours (table 260)',
    ]);
  });

  it('finds the NIC by MAC in any case and fails clearly without one', () => {
    const t260 = { ...node, routes: node.routes.filter((r) => r.table === 260) };
    expect(planHostNic(t260, { ...spec, mac: '52:54:9E:D0:DD:96' }).ops).toEqual([]);
    expect(() => planHostNic(t260, { ...spec, mac: '52:54:9e:d0:dd:00' })).toThrow(NotFoundError);
    const taken = { ...t260, links: t260.links.map((l) => (l.name === 'hostnic_abc1234' ? { ...l, name: 'eth7' } : l.name === 'vpc0' ? { ...l, name: 'hostnic_abc1234' } : l)) };
    expect(() => planHostNic(taken, spec)).toThrow(ExistsError);
  });

  it('plans cleanup', () => {
    expect(batchText(planHostNicCleanup(node, spec).ops)).toBe(
      'rule del priority 1536 from 172.22.0.0/24 table 260\nlink del dev br_260\nroute flush table 260\n',
    );
  });
});
