/** Host NIC setup and cleanup inside a throwaway node namespace. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Netns } from '../src/index.ts';
import {
  NotFoundError,
  applyBatchOrThrow,
  cleanupHostNic,
  confSysctl,
  linkSetOp,
  onSpawn,
  readLinks,
  readRoutes,
  readSysctls,
  setupHostNic,
  vethAddOp,
} from '../src/index.ts';
import { NIC, Namespaces, ROOT_REASON, buildNode, ipn, isRoot } from './helpers.ts';

function lines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

describe.skipIf(!isRoot)(`host NIC setup${isRoot ? '' : ` (skipped: ${ROOT_REASON})`}`, () => {
  let spaces: Namespaces;
  let node: { name: string; ns: Netns };

  beforeEach(async () => {
    spaces = new Namespaces();
    node = await spaces.create('node', true);
    await buildNode(node.ns);
  });
  afterEach(async () => {
    await spaces.cleanup();
  });

  it('sets the NIC up as the original did and changes nothing the second time (39)', async () => {
    // The NIC arrives up and under another name, as after a hot-plug.
    await applyBatchOrThrow([linkSetOp('nic0', { up: true })], { netns: node.ns });
    const first = await setupHostNic({ ...NIC, mac: NIC.mac.toUpperCase() }, { netns: node.ns });
    expect(first.changed).toBe(true);
    expect(first.actions[0]).toBe('rename nic0 to hostnic_abc1234');

    const links = await readLinks({ netns: node.ns });
    const nic = links.find((l) => l.name === 'hostnic_abc1234');
    const br = links.find((l) => l.name === 'br_260');
    expect(nic).toMatchObject({ alias: 'hostnic_abc1234', up: true, master: 'br_260', mac: NIC.mac });
    expect(br).toMatchObject({ kind: 'bridge', up: true, mac: NIC.mac });
    expect(lines(await ipn(node.name, 'route', 'show', 'table', '260'))).toEqual([
      'default via 172.22.0.1 dev br_260',
      '172.22.0.0/24 dev br_260 scope link',
    ]);
    expect((await ipn(node.name, 'rule')).split('\n').filter((l) => l.startsWith('1536:'))).toEqual([
      '1536:\tfrom 172.22.0.0/24 lookup 260',
    ]);
    expect(
      await readSysctls(
        [
          confSysctl(4, 'hostnic_abc1234', 'arp_ignore', 1).path,
          confSysctl(4, 'hostnic_abc1234', 'rp_filter', 0).path,
          confSysctl(4, 'hostnic_abc1234', 'accept_local', 1).path,
          confSysctl(4, 'all', 'rp_filter', 0).path,
          confSysctl(4, 'default', 'rp_filter', 0).path,
          confSysctl(4, 'all', 'accept_local', 1).path,
          confSysctl(4, 'default', 'accept_local', 1).path,
        ],
        { netns: node.ns },
      ),
    ).toEqual(['1', '0', '1', '0', '0', '1', '1']);

    const spawned: string[][] = [];
    const stop = onSpawn((argv) => spawned.push([...argv]));
    const second = await setupHostNic(NIC, { netns: node.ns }).finally(stop);
    expect(second).toMatchObject({ changed: false, actions: [] });
    // One read, and one process for the sysctl check in the other namespace.
    expect(spawned).toHaveLength(2);
    expect((await ipn(node.name, 'rule')).split('\n').filter((l) => l.startsWith('1536:'))).toHaveLength(1);
  });

  it('repairs an enslaved NIC whose routes and rule are gone', async () => {
    await setupHostNic(NIC, { netns: node.ns });
    await ipn(node.name, 'route', 'flush', 'table', '260');
    await ipn(node.name, 'rule', 'del', 'priority', '1536');
    await ipn(node.name, 'route', 'add', '10.99.0.0/16', 'dev', 'br_260', 'table', '260');
    const r = await setupHostNic(NIC, { netns: node.ns });
    expect(r.actions).toEqual([
      'delete route 10.99.0.0/16 from table 260',
      'route 172.22.0.0/24 dev br_260 table 260',
      'route default via 172.22.0.1 dev br_260 table 260',
      'rule 1536 from 172.22.0.0/24 lookup 260',
    ]);
    expect(lines(await ipn(node.name, 'route', 'show', 'table', '260'))).toHaveLength(2);
  });

  it('moves the vxnet\'s rule 1536 to the NIC\'s table, leaving no rule into the table it had before', async () => {
    await ipn(node.name, 'rule', 'add', 'priority', '1536', 'from', NIC.network, 'lookup', '263');
    const r = await setupHostNic(NIC, { netns: node.ns });
    expect(r.actions.slice(-2)).toEqual(['rule 1536 from 172.22.0.0/24 lookup 260', 'delete rule from 172.22.0.0/24 lookup 263 (ours is table 260)']);
    expect((await ipn(node.name, 'rule')).split('\n').filter((l) => l.startsWith('1536:'))).toEqual(['1536:\tfrom 172.22.0.0/24 lookup 260']);
    expect((await setupHostNic(NIC, { netns: node.ns })).changed).toBe(false);
  });

  it('leaves table N empty for a vlan NIC', async () => {
    await setupHostNic({ ...NIC, tunnelType: 'vlan' }, { netns: node.ns });
    // The table never had a route, so the kernel does not even know it: plain `ip route show table 260`
    // fails with "FIB table does not exist".
    expect(await readRoutes({ netns: node.ns, table: 260 })).toEqual([]);
    expect(await ipn(node.name, 'rule')).toContain('1536:\tfrom 172.22.0.0/24 lookup 260');
  });

  it('cleans up (40), twice', async () => {
    await setupHostNic(NIC, { netns: node.ns });
    expect((await cleanupHostNic(NIC, { netns: node.ns })).changed).toBe(true);
    expect(await ipn(node.name, 'rule')).not.toContain('1536');
    expect((await readLinks({ netns: node.ns })).some((l) => l.name === 'br_260')).toBe(false);
    expect(await ipn(node.name, 'route', 'show', 'table', '260')).toBe('');
    expect(await cleanupHostNic(NIC, { netns: node.ns })).toEqual({ changed: false, actions: [] });
    expect((await readLinks({ netns: node.ns })).find((l) => l.name === 'hostnic_abc1234')?.master).toBeUndefined();
  });

  it('handles two NICs on their own tables, and a table number reused (41)', async () => {
    await applyBatchOrThrow([vethAddOp({ name: 'nic1', peerName: 'vpc1', mac: '52:54:9e:d0:dd:97' })], { netns: node.ns });
    const second = { mac: '52:54:9e:d0:dd:97', vxnetId: 'vxnet-def5678', table: 261, network: '172.23.0.0/24', gateway: '172.23.0.1' };
    await setupHostNic(NIC, { netns: node.ns });
    await setupHostNic(second, { netns: node.ns });
    await cleanupHostNic(NIC, { netns: node.ns });
    const third = { ...second, mac: NIC.mac, vxnetId: 'vxnet-ghi9012', table: 260, network: '172.24.0.0/24', gateway: '172.24.0.1' };
    const r = await setupHostNic(third, { netns: node.ns });
    expect(r.nic.name).toBe('hostnic_ghi9012');
    expect((await ipn(node.name, 'rule')).split('\n').filter((l) => l.startsWith('1536:'))).toEqual([
      '1536:\tfrom 172.23.0.0/24 lookup 261',
      '1536:\tfrom 172.24.0.0/24 lookup 260',
    ]);
    expect(lines(await ipn(node.name, 'route', 'show', 'table', '261'))).toHaveLength(2);
  });

  it('fails clearly when no link has the MAC', async () => {
    await expect(setupHostNic({ ...NIC, mac: '52:54:9e:00:00:01' }, { netns: node.ns })).rejects.toBeInstanceOf(NotFoundError);
  });
});
