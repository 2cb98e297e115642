/**
 * iptables and ebtables against the real tools, inside throwaway namespaces only, with a lock file in a
 * temporary directory.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ArpReplyEntry, EbtablesRule, Netns } from '../src/index.ts';
import {
  LockTimeoutError,
  arpReplyRule,
  ensureArpReply,
  ensureEbtablesRule,
  ensureIptablesRuleSet,
  hostnicMangleRuleSet,
  listArpReplies,
  listEbtablesChain,
  removeArpReplies,
  removeEbtablesRule,
  removeIptablesRuleSet,
  withFileLock,
} from '../src/index.ts';
import { NODE_IP, Namespaces, ROOT_REASON, ebtablesSupportsLogicalIn, isRoot, sh, tempDir } from './helpers.ts';

function mangleRules(nsName: string): Promise<string[]> {
  return sh(['ip', 'netns', 'exec', nsName, 'iptables', '-t', 'mangle', '-S']).then((t) =>
    t
      .split('\n')
      .filter((l) => l.startsWith('-A') || l.startsWith('-N'))
      .map((l) => l.replace(/--ctorigdst (\d+\.\d+\.\d+\.\d+) /, '--ctorigdst $1/32 ')),
  );
}

describe.skipIf(!isRoot)(`netfilter in throwaway namespaces${isRoot ? '' : ` (skipped: ${ROOT_REASON})`}`, () => {
  let spaces: Namespaces;
  let node: { name: string; ns: Netns };
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let opts: { netns: Netns; lockPath: string };

  beforeEach(async () => {
    spaces = new Namespaces();
    node = await spaces.create('nf');
    tmp = await tempDir();
    opts = { netns: node.ns, lockPath: `${tmp.dir}/var/run/hostnic/hostnic.lock` };
  });
  afterEach(async () => {
    await spaces.cleanup();
    await tmp.remove();
  });

  it('applies the hostnic mangle rules idempotently, replaces a stale node IP, removes duplicates', async () => {
    const rules = hostnicMangleRuleSet({ nodeIP: NODE_IP, serviceCIDR: '10.233.0.0/18' });
    // A foreign rule in a built-in chain must survive everything below.
    await sh(['ip', 'netns', 'exec', node.name, 'iptables', '-w', '-t', 'mangle', '-A', 'PREROUTING', '-p', 'tcp', '-j', 'ACCEPT']);
    expect((await ensureIptablesRuleSet(rules, opts)).changed).toBe(true);
    expect(existsSync(opts.lockPath)).toBe(true);
    expect((await ensureIptablesRuleSet(rules, opts)).changed).toBe(false);
    const expected = [
      '-N HOSTNIC-OUTPUT',
      '-N HOSTNIC-PREROUTING',
      '-A PREROUTING -p tcp -j ACCEPT',
      '-A PREROUTING -j HOSTNIC-PREROUTING',
      '-A OUTPUT -j HOSTNIC-OUTPUT',
      '-A HOSTNIC-OUTPUT -m conntrack --ctorigdst 10.233.0.0/18 -j MARK --set-xmark 0x10000/0x10000',
      `-A HOSTNIC-PREROUTING -m conntrack --ctorigdst ${NODE_IP}/32 -j MARK --set-xmark 0x10000/0x10000`,
    ];
    expect(await mangleRules(node.name)).toEqual(expected);

    // An older version raced and appended the jump twice.
    await sh(['ip', 'netns', 'exec', node.name, 'iptables', '-w', '-t', 'mangle', '-A', 'OUTPUT', '-j', 'HOSTNIC-OUTPUT']);
    expect(await ensureIptablesRuleSet(rules, opts)).toMatchObject({ changed: true });
    expect(await mangleRules(node.name)).toEqual(expected);

    // The node IP changed: the rule is replaced, not accumulated.
    const moved = hostnicMangleRuleSet({ nodeIP: '172.22.0.22', serviceCIDR: '10.233.0.0/18' });
    expect((await ensureIptablesRuleSet(moved, opts)).changed).toBe(true);
    const after = await mangleRules(node.name);
    expect(after.filter((l) => l.startsWith('-A HOSTNIC-PREROUTING'))).toEqual([
      '-A HOSTNIC-PREROUTING -m conntrack --ctorigdst 172.22.0.22/32 -j MARK --set-xmark 0x10000/0x10000',
    ]);

    expect((await removeIptablesRuleSet(moved, opts)).changed).toBe(true);
    expect((await removeIptablesRuleSet(moved, opts)).changed).toBe(false);
    expect(await mangleRules(node.name)).toEqual(['-A PREROUTING -p tcp -j ACCEPT']);
  });

  it('ensures and removes ARP responder entries without duplicates (21, 30, 37)', async () => {
    const probe = await ebtablesSupportsLogicalIn(node.name);
    const entry: ArpReplyEntry = { match: 'logical-in', dev: 'br_260', ip: '172.22.0.239', mac: '52:54:9e:d0:0d:06' };
    // This kernel's nf_tables lacks the bridge-name match behind --logical-in; the same list/compare/insert/
    // delete path is then exercised with the entry minus that match, so the tool's real output is parsed.
    const full = arpReplyRule(entry);
    const rule: EbtablesRule = probe.ok ? full : { ...full, args: full.args.filter((a, i) => a !== '--logical-in' && full.args[i - 1] !== '--logical-in') };
    const eb = (...args: string[]) => sh(['ip', 'netns', 'exec', node.name, 'ebtables', '-t', 'nat', ...args]);

    expect(await ensureEbtablesRule(rule, opts)).toEqual({ inserted: 1, deleted: 0 });
    expect(await ensureEbtablesRule(rule, opts)).toEqual({ inserted: 0, deleted: 0 });
    expect(await listEbtablesChain('nat', 'PREROUTING', opts)).toHaveLength(1);

    // The original plugin inserted without checking (duplicates) and other versions add the target.
    await eb('-I', 'PREROUTING', ...rule.args);
    await eb('-A', 'PREROUTING', ...rule.args, '--arpreply-target', 'ACCEPT');
    const other = { ...rule, args: rule.args.map((a) => (a === entry.ip ? '172.22.0.240' : a)) };
    await eb('-A', 'PREROUTING', ...other.args);
    expect(await listEbtablesChain('nat', 'PREROUTING', opts)).toHaveLength(4);
    expect(await ensureEbtablesRule(rule, opts)).toEqual({ inserted: 0, deleted: 2 });
    expect(await listEbtablesChain('nat', 'PREROUTING', opts)).toHaveLength(2);

    await eb('-A', 'PREROUTING', ...rule.args, '--arpreply-target', 'ACCEPT');
    expect(await removeEbtablesRule(rule, opts)).toEqual({ inserted: 0, deleted: 2 });
    expect(await removeEbtablesRule(rule, opts)).toEqual({ inserted: 0, deleted: 0 });
    const left = await listEbtablesChain('nat', 'PREROUTING', opts);
    expect(left.map((r) => r.options.get('--arp-ip-dst'))).toEqual(['172.22.0.240']);

    if (probe.ok) {
      await ensureArpReply(entry, opts);
      await ensureArpReply(entry, opts);
      expect((await listArpReplies(opts)).filter((e) => e.ip === entry.ip)).toHaveLength(1);
      await removeArpReplies({ ip: entry.ip }, opts);
      expect((await listArpReplies(opts)).filter((e) => e.ip === entry.ip)).toHaveLength(0);
    }
  });

  it('serialises holders of the lock file and times out waiting for a stuck one', async () => {
    const path = opts.lockPath;
    const order: string[] = [];
    const hold = (name: string, ms: number) =>
      withFileLock(path, async () => {
        order.push(`${name}+`);
        await new Promise((r) => setTimeout(r, ms));
        order.push(`${name}-`);
      });
    await Promise.all([hold('a', 150), hold('b', 10), hold('c', 10)]);
    for (let i = 0; i < order.length; i += 2) {
      expect(order[i + 1]).toBe(order[i]?.replace('+', '-'));
    }

    // Another process (an old plugin: `flock <file> ebtables ...`) holds the lock.
    const other = spawn('flock', ['-x', path, 'sleep', '30'], { stdio: 'ignore', detached: true });
    try {
      // Wait until the other process holds the lock (a non-blocking try fails), not for a guessed while.
      const held = (): Promise<boolean> =>
        new Promise((resolve) => spawn('flock', ['-n', path, 'true'], { stdio: 'ignore' }).on('close', (code) => resolve(code === 1)));
      await expect.poll(held, { timeout: 20_000, interval: 50 }).toBe(true);
      const err = await withFileLock(path, () => Promise.resolve(1), 1000).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LockTimeoutError);
    } finally {
      // Its own process group: flock and the sleep that inherited the lock go together.
      if (other.pid !== undefined) process.kill(-other.pid, 'SIGKILL');
    }
  });
});
