import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAddresses, parseLinks, parseNeighbours, parseRoutes, parseRules, ParseError } from '../src/index.ts';
import { parseScope, parseTable } from '../src/parse.ts';

// Captured on this machine with `ip -N -json -details -force -batch -` (addr show, route show table all,
// rule show, neigh show) after wiring default/nginx into a pod netns of a node netns (test fixtures).
function jsonl(name: string): unknown[] {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as unknown);
}

const [nodeAddr, nodeRoutes, nodeRules] = jsonl('node-snapshot.jsonl');
const [podAddr, podRoutes, podRules, podNeigh] = jsonl('pod-snapshot.jsonl');

describe('links', () => {
  const links = parseLinks(nodeAddr);
  const byName = new Map(links.map((l) => [l.name, l]));

  it('reads names, kinds, MACs, masters and aliases', () => {
    expect(links.map((l) => l.name)).toEqual(['lo', 'vpc0', 'hostnic_abc1234', 'eth0peer', 'eth0', 'br_260', 'vnicc440f455693']);
    const nic = byName.get('hostnic_abc1234');
    expect(nic).toMatchObject({ kind: 'veth', slaveKind: 'bridge', master: 'br_260', alias: 'hostnic_abc1234', mac: '52:54:9e:d0:dd:96', up: true, mtu: 1500 });
    expect(byName.get('br_260')).toMatchObject({ kind: 'bridge', mac: '52:54:9e:d0:dd:96', master: undefined });
    expect(byName.get('lo')?.kind).toBeUndefined();
  });

  it('resolves a same-namespace peer by name and keeps the index of a peer elsewhere', () => {
    const nic = byName.get('hostnic_abc1234');
    const vpc = byName.get('vpc0');
    expect(nic?.peerName).toBe('vpc0');
    expect(nic?.peerIndex).toBe(vpc?.index);
    const host = byName.get('vnicc440f455693');
    expect(host).toMatchObject({ kind: 'veth', mac: '0a:58:ac:16:00:ef', linkNetnsId: expect.any(Number) as number });
    const pod = parseLinks(podAddr).find((l) => l.name === 'eth0');
    expect(pod?.peerIndex).toBe(host?.index);
    expect(host?.peerIndex).toBe(pod?.index);
  });
});

describe('addresses', () => {
  it('reads the pod /32 with numeric scope', () => {
    const v4 = parseAddresses(podAddr).filter((a) => a.family === 4);
    expect(v4).toEqual([
      expect.objectContaining({ ifName: 'eth0', address: '172.22.0.239', prefixLength: 32, cidr: '172.22.0.239/32', scope: 'global' }),
    ]);
    const node = parseAddresses(nodeAddr).find((a) => a.ifName === 'eth0' && a.family === 4);
    expect(node?.cidr).toBe('172.22.0.21/24');
  });
});

describe('routes', () => {
  it('reads the pod routes', () => {
    const main = parseRoutes(podRoutes).filter((r) => r.family === 4 && r.table === 254);
    expect(main).toEqual([
      expect.objectContaining({ dst: '0.0.0.0/0', gateway: '169.254.1.1', dev: 'eth0', src: '172.22.0.239', scope: 'global', protocol: 'boot', onlink: false }),
      expect.objectContaining({ dst: '169.254.1.1/32', dev: 'eth0', scope: 'link', gateway: undefined }),
    ]);
    const local = parseRoutes(podRoutes).find((r) => r.type === 'local' && r.family === 4);
    expect(local).toMatchObject({ table: 255, scope: 'host', protocol: 'kernel' });
  });

  it('reads tables, gateways, onlink, metric and route types', () => {
    const routes = parseRoutes(nodeRoutes);
    expect(routes.filter((r) => r.table === 260)).toEqual([
      expect.objectContaining({ dst: '0.0.0.0/0', gateway: '172.22.0.1', dev: 'br_260' }),
      expect.objectContaining({ dst: '172.22.0.0/24', dev: 'br_260', scope: 'link' }),
    ]);
    expect(routes.find((r) => r.table === 261)).toMatchObject({ dst: '10.9.0.0/16', onlink: true, metric: 10 });
    expect(routes.find((r) => r.type === 'blackhole')).toMatchObject({ dst: '10.10.0.0/16', table: 254, dev: undefined });
    expect(routes.find((r) => r.dst === '172.22.0.239/32')).toMatchObject({ dev: 'vnicc440f455693', scope: 'link', table: 254 });
    expect(routes.some((r) => r.family === 6)).toBe(true);
  });

  it('reads the named (non -N) form too', () => {
    const [named, namedRules] = jsonl('node-named.jsonl');
    const a = parseRoutes(named).filter((r) => r.family === 4).map((r) => [r.dst, r.table, r.scope, r.type]);
    const b = parseRoutes(nodeRoutes).filter((r) => r.family === 4).map((r) => [r.dst, r.table, r.scope, r.type]);
    expect(a).toEqual(b);
    expect(parseRules(namedRules)).toEqual(parseRules(nodeRules));
  });

  it('takes the table of a one-table listing from the caller', () => {
    const [t260] = jsonl('node-route-table-260.json');
    expect(parseRoutes(t260, 260).every((r) => r.table === 260)).toBe(true);
  });

  it('maps names and numbers', () => {
    expect(parseTable('main')).toBe(254);
    expect(parseTable('260')).toBe(260);
    expect(() => parseTable('custom')).toThrow(ParseError);
    expect(parseScope('253')).toBe('link');
    expect(parseScope('universe')).toBe('global');
  });
});

describe('rules', () => {
  it('reads priorities, selectors and tables', () => {
    const rules = parseRules(nodeRules);
    expect(rules.map((r) => r.priority)).toEqual([0, 1535, 1535, 1536, 32766, 32767]);
    expect(rules[1]).toMatchObject({ src: undefined, dst: '172.22.0.239/32', table: 254, action: 'lookup', extra: [] });
    expect(rules[2]).toMatchObject({ src: '10.0.0.0/8', dst: '172.22.0.239/32', iif: 'lo', fwmark: '0x10000', table: 254 });
    expect(rules[2]?.extra).toEqual(['fwmark', 'fwmask', 'iif']);
    expect(rules[3]).toMatchObject({ src: '172.22.0.0/24', table: 260 });
    expect(parseRules(podRules)).toHaveLength(3);
  });
});

describe('neighbours', () => {
  it('reads the permanent gateway entry', () => {
    expect(parseNeighbours(podNeigh)).toEqual([
      { family: 4, dst: '169.254.1.1', dev: 'eth0', lladdr: '0a:58:ac:16:00:ef', state: ['PERMANENT'], router: false },
    ]);
  });
});

describe('malformed input', () => {
  it('throws ParseError', () => {
    expect(() => parseLinks({})).toThrow(ParseError);
    expect(() => parseRoutes([{ dev: 'x' }])).toThrow(ParseError);
  });
});
