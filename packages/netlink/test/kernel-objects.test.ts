/**
 * The single-purpose functions against the kernel, inside throwaway namespaces: namespaces, links,
 * addresses, routes, rules, neighbours, sysctls, snapshots, and the typed errors.
 */
import { writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Netns } from '../src/index.ts';
import {
  ExistsError,
  NetnsGoneError,
  NotFoundError,
  applyBatch,
  confSysctl,
  deleteLink,
  deleteNamedNetns,
  ensureAddress,
  ensureBridge,
  ensureNeighbour,
  ensureRoute,
  ensureRule,
  ensureVeth,
  findLinksByMac,
  findRoutes,
  getLink,
  isLiveNetns,
  isLiveNetnsPath,
  linkSetOp,
  listNamedNetns,
  moveLink,
  netnsAtPath,
  openNetns,
  readAddresses,
  readLinks,
  readNeighbours,
  readRoutes,
  readRules,
  readSnapshot,
  readSysctls,
  removeAddress,
  removeNeighbour,
  removeRoute,
  removeRule,
  renameLink,
  setLink,
  writeSysctls,
} from '../src/index.ts';
import { Namespaces, ROOT_REASON, ipn, isRoot, sh, tempDir } from './helpers.ts';

describe('netns liveness (no root needed)', () => {
  it('treats a plain file, a directory and a vanished path as gone', async () => {
    const tmp = await tempDir();
    try {
      const file = `${tmp.dir}/leftover`;
      await writeFile(file, '');
      expect(await isLiveNetnsPath(file)).toBe(false);
      expect(await isLiveNetnsPath(tmp.dir)).toBe(false);
      expect(await isLiveNetnsPath(`${tmp.dir}/missing`)).toBe(false);
      expect(await isLiveNetnsPath('/proc/self/ns/net')).toBe(true);
      expect(await isLiveNetns({ kind: 'current' })).toBe(true);
      await expect(openNetns(file)).rejects.toBeInstanceOf(NetnsGoneError);
    } finally {
      await tmp.remove();
    }
  });
});

describe.skipIf(!isRoot)(`kernel objects in throwaway namespaces${isRoot ? '' : ` (skipped: ${ROOT_REASON})`}`, () => {
  let spaces: Namespaces;
  let a: { name: string; ns: Netns };
  let b: { name: string; ns: Netns };

  beforeEach(async () => {
    spaces = new Namespaces();
    a = await spaces.create('a', true);
    b = await spaces.create('b');
  });
  afterEach(async () => {
    await spaces.cleanup();
  });

  it('creates, lists, opens and deletes named namespaces', async () => {
    expect(await listNamedNetns()).toEqual(expect.arrayContaining([a.name, b.name]));
    expect(await openNetns(a.name)).toEqual(a.ns);
    expect(await isLiveNetns(a.ns)).toBe(true);
    await deleteNamedNetns(b.name);
    await deleteNamedNetns(b.name);
    expect(await isLiveNetns(b.ns)).toBe(false);
    await expect(readLinks({ netns: b.ns })).rejects.toBeInstanceOf(NetnsGoneError);
    const tmp = await tempDir();
    try {
      await writeFile(`${tmp.dir}/plain`, '');
      await expect(applyBatch([linkSetOp('lo', { up: true })], { netns: netnsAtPath(`${tmp.dir}/plain`) })).rejects.toBeInstanceOf(NetnsGoneError);
    } finally {
      await tmp.remove();
    }
  });

  it('reports missing links as NotFoundError and deletes idempotently', async () => {
    await expect(getLink('nosuch0', { netns: a.ns })).rejects.toBeInstanceOf(NotFoundError);
    const err = await setLink('nosuch0', { up: true }, { netns: a.ns }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as NotFoundError).line).toBe('link set dev nosuch0 up');
    expect((err as NotFoundError).kernelMessage).toBe('Cannot find device "nosuch0"');
    expect((err as NotFoundError).argv).toEqual(['nsenter', `--net=/var/run/netns/${a.name}`, '--', 'ip', '-force', '-batch', '-']);
    await deleteLink('nosuch0', { netns: a.ns });
  });

  it('makes veths across namespaces, moves and renames them, bridges and enslaves', async () => {
    const v = await ensureVeth({ name: 'va0', peerName: 'vb0', peerNetns: b.ns, mtu: 1400, mac: '02:00:00:00:0a:00', peerMac: '02:00:00:00:0b:00' }, { netns: a.ns });
    expect(v).toMatchObject({ kind: 'veth', mtu: 1400, mac: '02:00:00:00:0a:00' });
    expect(await ensureVeth({ name: 'va0', peerName: 'vb0', peerNetns: b.ns }, { netns: a.ns })).toMatchObject({ index: v.index });
    expect(await getLink('vb0', { netns: b.ns })).toMatchObject({ peerIndex: v.index, mtu: 1400 });

    await moveLink('vb0', a.ns, 'vb1', { netns: b.ns });
    expect((await getLink('vb1', { netns: a.ns })).peerIndex).toBe(v.index);
    await setLink('vb1', { up: true, alias: 'moved-back', mac: '02:00:00:00:0b:01', mtu: 1300 }, { netns: a.ns });
    expect(await getLink('vb1', { netns: a.ns })).toMatchObject({ up: true, alias: 'moved-back', mac: '02:00:00:00:0b:01', mtu: 1300 });

    const renamed = await renameLink('vb1', 'vb2', { netns: a.ns });
    expect(renamed).toMatchObject({ name: 'vb2', up: true });
    expect(await renameLink('vb1', 'vb2', { netns: a.ns })).toMatchObject({ index: renamed.index });
    await expect(renameLink('nosuch0', 'x0', { netns: a.ns })).rejects.toBeInstanceOf(NotFoundError);

    const br = await ensureBridge('br_7', { up: true, mac: '02:00:00:00:07:07' }, { netns: a.ns });
    expect(br).toMatchObject({ kind: 'bridge', up: true, mac: '02:00:00:00:07:07' });
    await expect(ensureBridge('va0', undefined, { netns: a.ns })).rejects.toBeInstanceOf(ExistsError);
    await setLink('vb2', { master: 'br_7' }, { netns: a.ns });
    expect((await getLink('vb2', { netns: a.ns })).master).toBe('br_7');
    expect((await findLinksByMac('02:00:00:00:0B:01', { netns: a.ns })).map((l) => l.name)).toEqual(['vb2']);
    await setLink('vb2', { master: null }, { netns: a.ns });
    expect((await getLink('vb2', { netns: a.ns })).master).toBeUndefined();

    await deleteLink('va0', { netns: a.ns });
    expect((await readLinks({ netns: a.ns })).map((l) => l.name)).toEqual(['lo', 'br_7']);
  });

  it('ensures and removes addresses, routes, rules and neighbours idempotently', async () => {
    await ensureBridge('br0', { up: true }, { netns: a.ns });
    await ensureVeth({ name: 'x0', peerName: 'x1' }, { netns: a.ns });
    await setLink('x0', { up: true }, { netns: a.ns });
    await setLink('x1', { up: true }, { netns: a.ns });

    for (let i = 0; i < 2; i++) await ensureAddress({ cidr: '10.1.0.1/24', dev: 'br0' }, { netns: a.ns });
    expect((await readAddresses({ netns: a.ns })).filter((x) => x.family === 4 && x.ifName === 'br0').map((x) => x.cidr)).toEqual(['10.1.0.1/24']);
    for (let i = 0; i < 2; i++) await removeAddress({ cidr: '10.1.0.1/24', dev: 'br0' }, { netns: a.ns });
    await removeAddress({ cidr: '10.1.0.1/24', dev: 'nosuch0' }, { netns: a.ns });

    // A stale route to the same /32 through another device is replaced.
    await ensureRoute({ dst: '10.2.0.9/32', dev: 'x1', scope: 'link' }, { netns: a.ns });
    await ensureRoute({ dst: '10.2.0.9/32', dev: 'x0', scope: 'link' }, { netns: a.ns });
    expect((await readRoutes({ netns: a.ns, table: 254 })).filter((r) => r.dst === '10.2.0.9/32').map((r) => r.dev)).toEqual(['x0']);
    await ensureRoute({ dst: '10.3.0.0/16', gateway: '10.2.0.9', dev: 'x0', table: 300, onlink: true, metric: 5 }, { netns: a.ns });
    await ensureRoute({ dst: 'default', gateway: '10.2.0.9', dev: 'x0', table: 300, src: undefined }, { netns: a.ns });
    expect(await findRoutes({ dst: '10.3.0.0/16', gateway: '10.2.0.9', dev: 'x0', table: 300, onlink: true }, { netns: a.ns })).toHaveLength(1);
    for (let i = 0; i < 2; i++) await removeRoute({ dst: '10.3.0.0/16', dev: 'x0', table: 300 }, { netns: a.ns });
    // Naming the device keeps a route through another device alive.
    await removeRoute({ dst: '10.2.0.9/32', dev: 'x1' }, { netns: a.ns });
    expect(await findRoutes({ dst: '10.2.0.9/32', dev: 'x0' }, { netns: a.ns })).toHaveLength(1);
    expect((await readRoutes({ netns: a.ns, table: 300 })).map((r) => r.dst)).toEqual(['0.0.0.0/0']);

    const rule = { priority: 1535, dst: '10.2.0.9/32', table: 254 };
    for (let i = 0; i < 2; i++) await ensureRule(rule, { netns: a.ns });
    await ensureRule({ priority: 1536, src: '10.2.0.0/24', table: 300 }, { netns: a.ns });
    // Another program's rule with an extra selector at the same priority.
    await ipn(a.name, 'rule', 'add', 'priority', '1535', 'to', '10.2.0.9', 'iif', 'x1', 'table', 'main');
    const rules = await readRules({ netns: a.ns });
    expect(rules.filter((r) => r.priority === 1535)).toHaveLength(2);
    await removeRule(rule, { netns: a.ns });
    await removeRule(rule, { netns: a.ns });
    expect((await readRules({ netns: a.ns })).filter((r) => r.priority === 1535)).toEqual([expect.objectContaining({ iif: 'x1' })]);
    await removeRule({ priority: 1536, src: '10.2.0.0/24', table: 300 }, { netns: a.ns });
    expect((await ipn(a.name, 'rule')).split('\n').filter((l) => l.startsWith('1536'))).toEqual([]);

    for (let i = 0; i < 2; i++) await ensureNeighbour({ ip: '10.2.0.9', lladdr: '02:00:00:00:00:09', dev: 'x0' }, { netns: a.ns });
    await ensureNeighbour({ ip: '10.2.0.9', lladdr: '02:00:00:00:00:0A', dev: 'x0' }, { netns: a.ns });
    expect((await readNeighbours({ netns: a.ns })).filter((n) => n.dst === '10.2.0.9')).toEqual([
      expect.objectContaining({ lladdr: '02:00:00:00:00:0a', state: ['PERMANENT'], dev: 'x0' }),
    ]);
    for (let i = 0; i < 2; i++) await removeNeighbour({ ip: '10.2.0.9', dev: 'x0' }, { netns: a.ns });
    await removeNeighbour({ ip: '10.2.0.9', dev: 'nosuch0' }, { netns: a.ns });
    expect((await readNeighbours({ netns: a.ns })).filter((n) => n.dst === '10.2.0.9')).toEqual([]);
  });

  it('reads one snapshot that agrees with separate reads', async () => {
    await ensureBridge('br0', { up: true }, { netns: a.ns });
    await ensureAddress({ cidr: '10.1.0.1/24', dev: 'br0' }, { netns: a.ns });
    await ensureRule({ priority: 1536, src: '10.1.0.0/24', table: 260 }, { netns: a.ns });
    await ensureRoute({ dst: 'default', gateway: '10.1.0.254', dev: 'br0', table: 260 }, { netns: a.ns });
    const snap = await readSnapshot({ netns: a.ns });
    expect(snap.links).toEqual(await readLinks({ netns: a.ns }));
    expect(snap.addresses).toEqual(await readAddresses({ netns: a.ns }));
    expect(snap.rules).toEqual(await readRules({ netns: a.ns }));
    expect(snap.routes.filter((r) => r.table === 260)).toEqual(await readRoutes({ netns: a.ns, table: 260 }));
    expect(snap.addresses.some((x) => x.cidr === '10.1.0.1/24')).toBe(true);
  });

  it('writes and reads sysctls in another namespace', async () => {
    await ensureVeth({ name: 'x0', peerName: 'x1' }, { netns: a.ns });
    const entries = [
      confSysctl(4, 'x0', 'rp_filter', 0),
      confSysctl(4, 'x0', 'proxy_arp', 1),
      confSysctl(4, 'x0', 'arp_ignore', 1),
      confSysctl(4, 'x0', 'accept_local', 1),
      confSysctl(4, 'x0', 'forwarding', 1),
      confSysctl(6, 'x0', 'accept_ra', 0),
    ];
    for (let i = 0; i < 2; i++) await writeSysctls(entries, { netns: a.ns });
    expect(await readSysctls(entries.map((e) => e.path), { netns: a.ns })).toEqual(['0', '1', '1', '1', '1', '0']);
    const missing = await writeSysctls([confSysctl(4, 'nosuch0', 'rp_filter', 0)], { netns: a.ns }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(NotFoundError);
    await writeSysctls([confSysctl(6, 'nosuch0', 'accept_ra', 0)], { netns: a.ns });
    expect(await readSysctls([confSysctl(4, 'nosuch0', 'rp_filter', 0).path], { netns: a.ns })).toEqual([undefined]);
    // The other namespace is untouched.
    expect((await sh(['ip', 'netns', 'exec', b.name, 'cat', '/proc/sys/net/ipv4/ip_forward'])).trim()).toBe('0');
  });
});
