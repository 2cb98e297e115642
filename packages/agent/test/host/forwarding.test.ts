/**
 * IPv4 forwarding made whole (src/host/forwarding.ts). The state parallel ADDs left on a churn node is laid out
 * in a throwaway namespace: ip_forward 1, conf/default and the devices 0. A bridge with a proxy entry then does
 * not answer ARP and nothing is forwarded; ensureForwarding must set every place.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createNamedNetns, deleteNamedNetns, namedNetns } from '@hostnic/netlink';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureForwarding, forwardingFixes, readForwarding } from '../../src/host/forwarding.ts';

const isRoot = process.getuid?.() === 0;

describe('forwardingFixes', () => {
  it('sets conf/default and each device still at 0, and skips devices that vanished', () => {
    const devices = new Map<string, string | undefined>([['vnic1', '0'], ['br_260', '0'], ['eth0', '1'], ['gone', undefined]]);
    expect(forwardingFixes({ default: '0', devices }).map((e) => `${e.path}=${e.value}`)).toEqual([
      '/proc/sys/net/ipv4/conf/default/forwarding=1',
      '/proc/sys/net/ipv4/conf/br_260/forwarding=1',
      '/proc/sys/net/ipv4/conf/vnic1/forwarding=1',
    ]);
    expect(forwardingFixes({ default: '1', devices: new Map([['br_260', '1']]) })).toEqual([]);
  });
});

describe.skipIf(!isRoot)('ensureForwarding in a node namespace', () => {
  const name = `hn-fwd-${randomBytes(3).toString('hex')}`;
  const netns = namedNetns(name);
  const sh = (...args: string[]): string => execFileSync('ip', ['netns', 'exec', name, ...args], { encoding: 'utf8' });
  const write = (path: string, value: string): void => {
    sh('sh', '-c', `echo ${value} > ${path}`);
  };

  beforeAll(async () => {
    await createNamedNetns(name);
  });
  afterAll(async () => {
    await deleteNamedNetns(name);
  });

  it('turns forwarding on everywhere in a fresh namespace, and nothing more the second time', async () => {
    sh('ip', 'link', 'add', 'br_300', 'type', 'bridge');
    write('/proc/sys/net/ipv4/ip_forward', '0');
    expect(await ensureForwarding(netns)).toContain('/proc/sys/net/ipv4/ip_forward');
    const state = await readForwarding(netns);
    expect([state.all, state.default, state.devices.get('br_300'), state.devices.get('lo')]).toEqual(['1', '1', '1', '1']);
    expect(await ensureForwarding(netns)).toEqual([]);
  });

  it('repairs ip_forward 1 with the copy lost: conf/default and the devices at 0', async () => {
    // What the lost race leaves: conf/all 1, the rest 0 (conf/default and a device are written on their own, and
    // the bridge made after inherits the 0).
    write('/proc/sys/net/ipv4/ip_forward', '1');
    write('/proc/sys/net/ipv4/conf/default/forwarding', '0');
    write('/proc/sys/net/ipv4/conf/lo/forwarding', '0');
    write('/proc/sys/net/ipv4/conf/br_300/forwarding', '0');
    sh('ip', 'link', 'add', 'br_301', 'type', 'bridge');
    const broken = await readForwarding(netns);
    expect([broken.all, broken.default, broken.devices.get('br_301'), broken.devices.get('lo')]).toEqual(['1', '0', '0', '0']);
    // Writing ip_forward=1 again, as every ADD does, changes nothing: the kernel copies only a change.
    write('/proc/sys/net/ipv4/ip_forward', '1');
    expect((await readForwarding(netns)).devices.get('br_301')).toBe('0');

    expect((await ensureForwarding(netns)).sort()).toEqual([
      '/proc/sys/net/ipv4/conf/br_300/forwarding',
      '/proc/sys/net/ipv4/conf/br_301/forwarding',
      '/proc/sys/net/ipv4/conf/default/forwarding',
      '/proc/sys/net/ipv4/conf/lo/forwarding',
    ]);
    const fixed = await readForwarding(netns);
    expect([fixed.all, fixed.default, ...[...fixed.devices.values()]]).toEqual(['1', '1', ...[...fixed.devices.values()].map(() => '1')]);
    // A device made from now on inherits it.
    sh('ip', 'link', 'add', 'br_302', 'type', 'bridge');
    expect((await readForwarding(netns)).devices.get('br_302')).toBe('1');
  });
});
