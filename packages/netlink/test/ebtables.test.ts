import { describe, expect, it } from 'vitest';
import type { ArpReplyEntry, ExecRequest, ExecResult } from '../src/index.ts';
import {
  LockTimeoutError,
  arpReplyRule,
  asArpReply,
  countArpReply,
  ensureArpReply,
  installArpReply,
  listArpReplies,
  noLock,
  normalizeEbtablesRule,
  parseEbtablesList,
  removeArpReplies,
  removeArpReply,
  sameEbtablesRule,
  InvalidArgumentError,
  PermissionError,
} from '../src/index.ts';
import { ebtablesErrno } from '../src/ebtables.ts';

// nft-based ebtables 1.8.9 on this machine (`-L PREROUTING --Lmac2`, then `--Ln --Lc`).
const NFT_LIST = `Bridge table: nat

Bridge chain: PREROUTING, entries: 2, policy: ACCEPT
-p ARP --arp-op Request --arp-ip-dst 172.22.0.240 -j arpreply --arpreply-mac 52:54:9e:d0:dd:96
-p ARP --arp-op Request --arp-ip-dst 172.22.0.239 -j arpreply --arpreply-mac 52:54:9e:d0:0d:06 --arpreply-target ACCEPT
`;
const NFT_LIST_NUMBERED = `Bridge table: nat

Bridge chain: PREROUTING, entries: 2, policy: ACCEPT
1 -p ARP --arp-op Request --arp-ip-dst 172.22.0.240 -j arpreply --arpreply-mac 52:54:9e:d0:dd:96 , pcnt = 0 -- bcnt = 0
2 -p ARP --arp-op Request --arp-ip-dst 172.22.0.239 -j arpreply --arpreply-mac 52:54:9e:d0:0d:06 --arpreply-target ACCEPT , pcnt = 0 -- bcnt = 0
`;
// Legacy ebtables 2.0.x prints MAC octets through ether_ntoa (no leading zeros) unless --Lmac2 is given,
// puts a blank after every option, numbers rules with "N. " and may print the protocol as a number.
const LEGACY_LIST = `Bridge table: nat

Bridge chain: PREROUTING, entries: 3, policy: ACCEPT
1. -p ARP --logical-in br_260 --arp-op Request --arp-ip-dst 172.22.0.239 -j arpreply --arpreply-mac 52:54:9e:d0:d:6 , pcnt = 0 -- bcnt = 0
2. -p 0x806 --logical-in br_260 --arp-op Request --arp-ip-dst 172.22.0.239 -j arpreply --arpreply-mac 52:54:9E:D0:D:6 --arpreply-target ACCEPT 
3. -p ARP --logical-in br_261 --arp-op Request --arp-ip-dst 172.22.0.77 -j arpreply --arpreply-mac 52:54:9e:d0:dd:97 
`;

const ENTRY: ArpReplyEntry = { match: 'logical-in', dev: 'br_260', ip: '172.22.0.239', mac: '52:54:9E:D0:0D:06' };

describe('listing', () => {
  it('parses nft output, plain and with numbers and counters', () => {
    const plain = parseEbtablesList(NFT_LIST);
    const numbered = parseEbtablesList(NFT_LIST_NUMBERED);
    expect(plain.map((r) => r.tokens)).toEqual(numbered.map((r) => r.tokens));
    expect(plain[1]?.tokens.at(-1)).toBe('ACCEPT');
    expect(plain[1]?.options.get('--arpreply-mac')).toBe('52:54:9e:d0:0d:06');
  });

  it('treats the legacy and nft forms of the same entry as equal', () => {
    const legacy = parseEbtablesList(LEGACY_LIST);
    const wanted = normalizeEbtablesRule(arpReplyRule(ENTRY).args);
    expect(legacy.map((r) => sameEbtablesRule(r.options, wanted))).toEqual([true, true, false]);
    expect(legacy[0]?.tokens).toContain('52:54:9e:d0:d:6');
  });

  it('keeps negations apart', () => {
    const a = normalizeEbtablesRule(['-p', 'ARP', '--arp-ip-dst', '!', '1.2.3.4', '-j', 'DROP']);
    const b = normalizeEbtablesRule(['-p', 'ARP', '--arp-ip-dst', '1.2.3.4', '-j', 'DROP']);
    expect(a.get('--arp-ip-dst')).toBe('! 1.2.3.4');
    expect(sameEbtablesRule(a, b)).toBe(false);
  });

  it('builds the compat rule', () => {
    expect(arpReplyRule(ENTRY)).toEqual({
      table: 'nat',
      chain: 'PREROUTING',
      args: ['-p', 'ARP', '--logical-in', 'br_260', '--arp-op', 'Request', '--arp-ip-dst', '172.22.0.239', '-j', 'arpreply', '--arpreply-mac', '52:54:9e:d0:0d:06'],
    });
    expect(() => arpReplyRule({ ...ENTRY, ip: '172.22.0.300' })).toThrow(InvalidArgumentError);
  });

  it('recognises errno in both tools’ messages', () => {
    expect(ebtablesErrno('ebtables v1.8.9 (nf_tables):  RULE_INSERT failed (Operation not supported): rule in chain PREROUTING')).toBe('EOPNOTSUPP');
    expect(ebtablesErrno('ebtables: Permission denied (you must be root)')).toBe('EACCES');
  });
});

/**
 * A fake ebtables keeping one chain. `-D` behaves like the real tools: it deletes the first rule whose
 * printed form is the same as the request (so a request without `--arpreply-target ACCEPT` does not match a
 * rule that has it: "Bad rule").
 */
function fakeEbtables(style: 'nft' | 'legacy', initial: string[][] = [], refuseLogicalIn = false) {
  const rules = initial.map((r) => [...r]);
  const calls: string[][] = [];
  const printMac = (t: string) => (style === 'legacy' ? t.split(':').map((o) => o.replace(/^0(?=.)/, '')).join(':') : t.toLowerCase());
  const print = (r: string[]) => r.map((t, i) => (r[i - 1] === '--arpreply-mac' ? printMac(t) : t)).join(' ') + (style === 'legacy' ? ' ' : '');
  const canon = (r: readonly string[]) => r.map((t) => (/^[0-9a-f:]{11,17}$/i.test(t) ? t.toLowerCase().split(':').map((o) => o.padStart(2, '0')).join(':') : t)).join(' ');
  const exec = (req: ExecRequest): Promise<ExecResult> => {
    const argv = [...req.argv];
    calls.push(argv);
    const ok = (stdout = ''): Promise<ExecResult> => Promise.resolve({ argv, code: 0, signal: null, stdout, stderr: '', durationMs: 0 });
    const opIndex = argv.findIndex((a) => a === '-L' || a === '-I' || a === '-D');
    const verb = argv[opIndex];
    const rest = argv.slice(opIndex + 2);
    if (verb === '-L') {
      const body = rules.map((r, i) => (style === 'legacy' ? `${i + 1}. ` : '') + print(r)).join('\n');
      return ok(`Bridge table: nat\n\nBridge chain: PREROUTING, entries: ${rules.length}, policy: ACCEPT\n${body}\n`);
    }
    if (verb === '-I') {
      if (refuseLogicalIn && rest.includes('--logical-in')) {
        const stderr = 'ebtables v1.8.9 (nf_tables):  RULE_INSERT failed (Operation not supported): rule in chain PREROUTING\n';
        return Promise.resolve({ argv, code: 4, signal: null, stdout: '', stderr, durationMs: 0 });
      }
      rules.unshift(rest);
      return ok();
    }
    if (verb === '-D') {
      const i = rules.findIndex((r) => canon(r) === canon(rest));
      if (i < 0) {
        const msg = style === 'legacy' ? 'Sorry, rule does not exist.' : 'ebtables: Bad rule (does a matching rule exist in that chain?)';
        return Promise.resolve({ argv, code: 1, signal: null, stdout: '', stderr: `${msg}\n`, durationMs: 0 });
      }
      rules.splice(i, 1);
      return ok();
    }
    return Promise.resolve({ argv, code: 2, signal: null, stdout: '', stderr: 'unexpected\n', durationMs: 0 });
  };
  return { rules, calls, exec };
}

describe.each(['nft', 'legacy'] as const)('ensure and remove against %s ebtables', (style) => {
  it('inserts once, never duplicates', async () => {
    const fake = fakeEbtables(style);
    const opts = { exec: fake.exec, locker: noLock };
    expect(await ensureArpReply(ENTRY, opts)).toEqual({ inserted: 1, deleted: 0 });
    expect(await ensureArpReply(ENTRY, opts)).toEqual({ inserted: 0, deleted: 0 });
    expect(await ensureArpReply({ ...ENTRY, mac: '52:54:9e:d0:d:6' }, opts)).toEqual({ inserted: 0, deleted: 0 });
    expect(fake.rules).toHaveLength(1);
    expect(fake.calls.filter((c) => c.includes('-I'))).toHaveLength(1);
    expect(fake.calls[1]).toEqual(['ebtables', '-t', 'nat', '-I', 'PREROUTING', ...arpReplyRule(ENTRY).args]);
  });

  it('collapses duplicates left by the original plugin', async () => {
    const rule = arpReplyRule(ENTRY).args;
    const fake = fakeEbtables(style, [[...rule], [...rule, '--arpreply-target', 'ACCEPT'], [...rule]]);
    expect(await ensureArpReply(ENTRY, { exec: fake.exec, locker: noLock })).toEqual({ inserted: 0, deleted: 2 });
    expect(fake.rules).toHaveLength(1);
  });

  it('removes every copy, in whatever form it was stored, and nothing else', async () => {
    const rule = arpReplyRule(ENTRY).args;
    const other = arpReplyRule({ ...ENTRY, ip: '172.22.0.240' }).args;
    const fake = fakeEbtables(style, [[...rule], [...other], [...rule, '--arpreply-target', 'ACCEPT'], [...rule]]);
    const opts = { exec: fake.exec, locker: noLock };
    expect(await removeArpReplies({ ip: ENTRY.ip, dev: ENTRY.dev, mac: ENTRY.mac }, opts)).toEqual({ inserted: 0, deleted: 3 });
    expect(await listArpReplies(opts)).toEqual([{ match: 'logical-in', dev: 'br_260', ip: '172.22.0.240', mac: '52:54:9e:d0:0d:06' }]);
    expect(await removeArpReplies({ ip: ENTRY.ip }, opts)).toEqual({ inserted: 0, deleted: 0 });
    expect(await removeArpReplies({ dev: 'br_260' }, opts)).toEqual({ inserted: 0, deleted: 1 });
    expect(fake.rules).toHaveLength(0);
  });

  it('refuses an empty filter', async () => {
    await expect(removeArpReplies({}, { locker: noLock })).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

// The fallback form as nft-based ebtables 1.8.9 on this machine stores and lists it.
const NIC_LINK = 'hostnic_abc1234';
const FALLBACK: ArpReplyEntry = { match: 'in', dev: NIC_LINK, ip: ENTRY.ip, mac: '52:54:9e:d0:0d:06' };
const TARGET = { ip: ENTRY.ip, mac: ENTRY.mac, bridge: 'br_260', nicLink: NIC_LINK };

describe('the two forms of the ARP responder entry', () => {
  it('parses both forms, and neither a rule with both matches nor one with none', () => {
    const listed = parseEbtablesList(`Bridge table: nat

Bridge chain: PREROUTING, entries: 4, policy: ACCEPT
-p ARP -i ${NIC_LINK} --arp-op Request --arp-ip-dst 172.22.0.239 -j arpreply --arpreply-mac 52:54:9e:d0:0d:06
-p ARP --logical-in br_260 --arp-op Request --arp-ip-dst 172.22.0.239 -j arpreply --arpreply-mac 52:54:9e:d0:0d:06
-p ARP -i ${NIC_LINK} --logical-in br_260 --arp-op Request --arp-ip-dst 172.22.0.239 -j arpreply --arpreply-mac 52:54:9e:d0:0d:06
-p ARP --arp-op Request --arp-ip-dst 172.22.0.239 -j arpreply --arpreply-mac 52:54:9e:d0:0d:06
`);
    expect(listed.map((r) => asArpReply(r))).toEqual([FALLBACK, { ...ENTRY, mac: '52:54:9e:d0:0d:06' }, undefined, undefined]);
  });

  it('builds the fallback rule', () => {
    expect(arpReplyRule(FALLBACK).args.slice(0, 4)).toEqual(['-p', 'ARP', '-i', NIC_LINK]);
    expect(() => arpReplyRule({ ...FALLBACK, dev: 'hostnic_toolong123' })).toThrow(InvalidArgumentError);
  });

  it.each(['nft', 'legacy'] as const)('falls back to -i when %s ebtables refuses --logical-in, and removes it by IP', async (style) => {
    const fake = fakeEbtables(style, [], true);
    const opts = { exec: fake.exec, locker: noLock };
    expect(await installArpReply(TARGET, opts)).toEqual(FALLBACK);
    expect(await listArpReplies(opts)).toEqual([FALLBACK]);
    // Told the form, the next install does not try --logical-in again.
    const inserts = () => fake.calls.filter((c) => c.includes('-I')).length;
    const before = inserts();
    expect(await installArpReply({ ...TARGET, ip: '172.22.0.240' }, opts, 'in')).toEqual({ ...FALLBACK, ip: '172.22.0.240' });
    expect(inserts()).toBe(before + 1);
    expect(await countArpReply(FALLBACK, opts)).toBe(1);
    expect(await removeArpReplies({ ip: ENTRY.ip }, opts)).toEqual({ inserted: 0, deleted: 1 });
    expect(await removeArpReply({ ...FALLBACK, ip: '172.22.0.240' }, opts)).toEqual({ inserted: 0, deleted: 1 });
    expect(fake.rules).toHaveLength(0);
  });

  it('installs the compat form where ebtables takes it', async () => {
    const fake = fakeEbtables('nft');
    const opts = { exec: fake.exec, locker: noLock };
    expect(await installArpReply(TARGET, opts)).toEqual({ ...ENTRY, mac: FALLBACK.mac });
    expect(fake.rules).toEqual([arpReplyRule(ENTRY).args]);
  });

  it('removes both forms of an IP, and a NIC link entry by dev', async () => {
    const other = { ...FALLBACK, ip: '172.22.0.241' };
    const fake = fakeEbtables('nft', [arpReplyRule(ENTRY).args.slice(), arpReplyRule(FALLBACK).args.slice(), arpReplyRule(other).args.slice()]);
    const opts = { exec: fake.exec, locker: noLock };
    expect(await removeArpReplies({ ip: ENTRY.ip }, opts)).toEqual({ inserted: 0, deleted: 2 });
    expect(await removeArpReplies({ dev: NIC_LINK, match: 'logical-in' }, opts)).toEqual({ inserted: 0, deleted: 0 });
    expect(await removeArpReplies({ dev: NIC_LINK }, opts)).toEqual({ inserted: 0, deleted: 1 });
    expect(fake.rules).toHaveLength(0);
  });

  it('does not fall back on a lock timeout', async () => {
    const fake = fakeEbtables('nft', [], true);
    const locker = (): Promise<never> => Promise.reject(new LockTimeoutError('could not lock /tmp/none.lock within 1 s', { argv: [] }));
    await expect(installArpReply(TARGET, { exec: fake.exec, locker })).rejects.toBeInstanceOf(LockTimeoutError);
    expect(fake.calls).toHaveLength(0);
  });
});

describe('failures', () => {
  it('carries the tool message and argv', async () => {
    const exec = (req: ExecRequest): Promise<ExecResult> =>
      Promise.resolve({ argv: req.argv, code: 1, signal: null, stdout: '', stderr: 'ebtables: Permission denied (you must be root)\n', durationMs: 0 });
    const err = await ensureArpReply(ENTRY, { exec, locker: noLock }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermissionError);
    expect((err as PermissionError).argv).toEqual(['ebtables', '-t', 'nat', '-L', 'PREROUTING', '--Lmac2']);
  });
});
