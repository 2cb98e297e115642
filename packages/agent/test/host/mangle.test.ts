/** The agent's mangle chains in a throwaway node namespace: exact, idempotent, following the node IP, removed. */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createNamedNetns, deleteNamedNetns, namedNetns } from '@hostnic/netlink';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureMangleChains, mangleSettingsOf, MangleSettingsError, removeMangleChains,
} from '../../src/host/mangle.ts';

const name = `hn-mangle-${randomBytes(3).toString('hex')}`;
const netns = namedNetns(name);
const lockPath = `/tmp/${name}.lock`;
const ipIn = (...args: string[]): string => execFileSync('ip', ['netns', 'exec', name, ...args], { encoding: 'utf8' });
// Sorted, host addresses without /32: the legacy and nft backends print the same rules in other orders and forms.
const mangleRules = (): string[] =>
  ipIn('iptables', '-t', 'mangle', '-S').split('\n').filter((l) => l.includes('HOSTNIC')).map((l) => l.replace(/\/32\b/, '')).sort();

beforeAll(async () => {
  await createNamedNetns(name);
  ipIn('ip', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0-peer'); // no dummy module on every kernel
  ipIn('ip', 'addr', 'add', '172.22.0.21/24', 'dev', 'eth0');
  ipIn('ip', 'link', 'set', 'eth0', 'up');
});
afterAll(async () => {
  await deleteNamedNetns(name);
});

const conflist = {
  cniVersion: '1.0.0', name: 'hostnic',
  plugins: [{ type: 'hostnic', serviceCIDR: '10.233.0.0/18', natMark: '0x10000' }, { type: 'portmap' }],
};

describe('mangle chains', () => {
  it('installs the two chains exactly as the original printed them, once', async () => {
    const settings = mangleSettingsOf(conflist);
    expect(settings).toEqual({ serviceCIDR: '10.233.0.0/18', natMark: '0x10000', interface: 'eth0' });
    expect((await ensureMangleChains(settings, { netns, lockPath })).changed).toBe(true);
    expect(mangleRules()).toEqual([
      '-A HOSTNIC-OUTPUT -m conntrack --ctorigdst 10.233.0.0/18 -j MARK --set-xmark 0x10000/0x10000',
      '-A HOSTNIC-PREROUTING -m conntrack --ctorigdst 172.22.0.21 -j MARK --set-xmark 0x10000/0x10000',
      '-A OUTPUT -j HOSTNIC-OUTPUT',
      '-A PREROUTING -j HOSTNIC-PREROUTING',
      '-N HOSTNIC-OUTPUT',
      '-N HOSTNIC-PREROUTING',
    ]);
    expect((await ensureMangleChains(settings, { netns, lockPath })).changed).toBe(false);
  });

  it('follows a new node IP with one rule, not a second one', async () => {
    ipIn('ip', 'addr', 'flush', 'dev', 'eth0');
    ipIn('ip', 'addr', 'add', '172.22.0.99/24', 'dev', 'eth0');
    expect((await ensureMangleChains(mangleSettingsOf(conflist), { netns, lockPath })).changed).toBe(true);
    const pre = mangleRules().filter((l) => l.startsWith('-A HOSTNIC-PREROUTING'));
    expect(pre).toEqual(['-A HOSTNIC-PREROUTING -m conntrack --ctorigdst 172.22.0.99 -j MARK --set-xmark 0x10000/0x10000']);
  });

  it('installs nothing without serviceCIDR, and says why', async () => {
    const r = await ensureMangleChains(mangleSettingsOf({ type: 'hostnic', name: 'hostnic' }), { netns, lockPath });
    expect(r.changed).toBe(false);
    expect(r.skipped).toMatch(/serviceCIDR is not set/);
  });

  it('names the interface when it has no address', async () => {
    const settings = { ...mangleSettingsOf(conflist), interface: 'eth9' };
    await expect(ensureMangleChains(settings, { netns, lockPath })).rejects.toThrow(/interface eth9 has no IPv4 address/);
    expect(() => mangleSettingsOf({ plugins: [{ type: 'hostnic', natMark: 65536 }] })).toThrow(MangleSettingsError);
  });

  it('removes the chains and the jumps, and a second removal changes nothing', async () => {
    expect((await removeMangleChains({ netns, lockPath })).changed).toBe(true);
    expect(mangleRules()).toEqual([]);
    expect((await removeMangleChains({ netns, lockPath })).changed).toBe(false);
  });
});
