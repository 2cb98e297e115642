/**
 * ebtables ARP responder entries, ensured and removed without duplicates.
 *
 * The chain is listed (`ebtables -t <table> -L <chain> --Lmac2`), each rule is parsed into options and
 * compared semantically, because legacy and nft-based ebtables print the same rule differently (MAC octets
 * without leading zeros, `0x806` or `ARP`, `/32` or not, an `--arpreply-target` only some versions show).
 * An entry is inserted only when absent; removal deletes every copy, each by the exact text the tool
 * listed (so the delete request matches whatever form the tool stored). The sequence runs under the hostnic
 * lock file, which the original plugin also took around ebtables.
 *
 * @packageDocumentation
 */

import { assertIPv4, normalizeMac, sameMac } from './addr-util.ts';
import { CommandError, InvalidArgumentError, LockTimeoutError, commandErrorFor, errnoOf, findErrno } from './errors.ts';
import type { ExecOptions } from './exec.ts';
import { run } from './exec.ts';
import type { LockOptions } from './lock.ts';
import { lockerFor } from './lock.ts';
import { validateIfName } from './names.ts';
import type { Netns } from './netns.ts';
import { CURRENT_NETNS, argvInNetns, nsenterFailure } from './netns.ts';

/** An ebtables rule: table, chain, and the arguments after the chain name. */
export interface EbtablesRule {
  readonly table: 'filter' | 'nat' | 'broute';
  readonly chain: string;
  readonly args: readonly string[];
}

/** A rule as listed. */
export interface ListedEbtablesRule {
  /** The tokens as printed (usable as-is for `-D <chain> ...`). */
  readonly tokens: readonly string[];
  /** Option → normalised value (see {@link normalizeEbtablesRule}). */
  readonly options: ReadonlyMap<string, string>;
}

/** Splits a `-L` listing into rule lines (drops headers, `--Ln` numbers and `--Lc` counters). */
export function parseEbtablesList(text: string): ListedEbtablesRule[] {
  const rules: ListedEbtablesRule[] = [];
  for (const raw of text.split('\n')) {
    let line = raw.trim();
    if (line === '' || line.startsWith('Bridge table:') || line.startsWith('Bridge chain:')) continue;
    line = line.replace(/^\d+\.?\s+/, '');
    line = line.replace(/\s*,\s*pcnt\s*=.*$/, '');
    line = line.replace(/\s+-c\s+\d+\s+\d+\s*$/, '');
    if (!line.startsWith('-')) continue;
    const tokens = line.split(/\s+/).filter((t) => t !== '');
    rules.push({ tokens, options: normalizeEbtablesRule(tokens) });
  }
  return rules;
}

/** Options that do not change what a rule matches or what it replies, and that versions print differently. */
const IGNORED = new Set(['--arpreply-target']);

const MAC_OPTIONS = new Set(['--arpreply-mac', '--arp-mac-src', '--arp-mac-dst', '-s', '-d', '--src', '--dst']);
const IP_OPTIONS = new Set(['--arp-ip-src', '--arp-ip-dst', '--ip-src', '--ip-dst', '--ip-source', '--ip-destination']);
const OPTION_ALIASES: Record<string, string> = {
  '--protocol': '-p',
  '--proto': '-p',
  '--jump': '-j',
  '--in-interface': '-i',
  '--in-if': '-i',
  '--out-interface': '-o',
  '--out-if': '-o',
  '--ip-source': '--ip-src',
  '--ip-destination': '--ip-dst',
};

function normalizeValue(option: string, value: string): string {
  const neg = value.startsWith('! ');
  const v = neg ? value.slice(2) : value;
  let out = v;
  if (option === '-p') {
    const p = v.toLowerCase();
    out = p === 'arp' || p === '0x806' || p === '0x0806' ? 'ARP' : p === 'ipv4' || p === '0x800' || p === '0x0800' ? 'IPv4' : v;
  } else if (option === '--arp-op') {
    const o = v.toLowerCase();
    out = o === '1' ? 'request' : o === '2' ? 'reply' : o;
  } else if (MAC_OPTIONS.has(option)) {
    out = normalizeMac(v) ?? v.toLowerCase();
  } else if (IP_OPTIONS.has(option)) {
    out = v.replace(/\/(32|255\.255\.255\.255)$/, '');
  }
  return neg ? `! ${out}` : out;
}

/**
 * Option → normalised value of a rule's tokens. Negations (`! value` or `! --opt value`) are kept in the
 * value as `! value`; options without a value map to ''.
 */
export function normalizeEbtablesRule(tokens: readonly string[]): Map<string, string> {
  const options = new Map<string, string>();
  let i = 0;
  let pendingNot = false;
  while (i < tokens.length) {
    const t = tokens[i] ?? '';
    if (t === '!') {
      pendingNot = true;
      i++;
      continue;
    }
    if (!t.startsWith('-')) {
      i++;
      continue;
    }
    const option = OPTION_ALIASES[t] ?? t;
    const values: string[] = [];
    i++;
    while (i < tokens.length && !(tokens[i] ?? '').startsWith('-')) {
      const v = tokens[i] ?? '';
      if (v === '!') pendingNot = true;
      else values.push(v);
      i++;
    }
    const value = `${pendingNot ? '! ' : ''}${values.join(' ')}`;
    pendingNot = false;
    if (!IGNORED.has(option)) options.set(option, normalizeValue(option, value));
  }
  return options;
}

/** Whether two rules mean the same thing. */
export function sameEbtablesRule(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

/**
 * Which interface an ARP responder entry matches: `logical-in` is the original's form [compat], `--logical-in
 * br_N`; `in` is `-i <NIC link>`, for nft-based ebtables on kernels whose nf_tables lacks the bridge-name
 * match behind `--logical-in` (the NIC is the only port of br_N that faces the vxnet, so both match the same
 * requests).
 */
export type ArpReplyMatch = 'logical-in' | 'in';

/** An ARP responder entry: ARP requests for `ip` arriving on `dev` are answered with `mac`. */
export interface ArpReplyEntry {
  readonly match: ArpReplyMatch;
  /** The bridge (`br_N`) for `logical-in`, the NIC link (`hostnic_<id>`) for `in`. */
  readonly dev: string;
  readonly ip: string;
  readonly mac: string;
}

/** The ebtables option that carries `dev` in each form. */
const MATCH_OPTION: Record<ArpReplyMatch, string> = { 'logical-in': '--logical-in', in: '-i' };

/**
 * The rule of an entry: `-t nat PREROUTING -p ARP (--logical-in br_N | -i <nic>) --arp-op Request
 * --arp-ip-dst <ip> -j arpreply --arpreply-mac <mac>`.
 */
export function arpReplyRule(entry: ArpReplyEntry): EbtablesRule {
  const option = MATCH_OPTION[entry.match];
  if (option === undefined) throw new InvalidArgumentError('match', entry.match, 'use "logical-in" or "in"');
  validateIfName(entry.dev, entry.match === 'in' ? 'NIC link' : 'bridge');
  assertIPv4('ip', entry.ip);
  const mac = normalizeMac(entry.mac);
  if (mac === undefined) throw new InvalidArgumentError('mac', entry.mac, 'not a MAC address');
  return {
    table: 'nat',
    chain: 'PREROUTING',
    args: ['-p', 'ARP', option, entry.dev, '--arp-op', 'Request', '--arp-ip-dst', entry.ip, '-j', 'arpreply', '--arpreply-mac', mac],
  };
}

/** Which ARP responder entries to remove: unset fields match anything. */
export interface ArpReplyFilter {
  readonly ip?: string | undefined;
  /** Bridge or NIC link, in either form. */
  readonly dev?: string | undefined;
  readonly match?: ArpReplyMatch | undefined;
  readonly mac?: string | undefined;
}

/** The entry a listed rule stands for, when it is an ARP responder entry of either form. */
export function asArpReply(rule: ListedEbtablesRule): ArpReplyEntry | undefined {
  const o = rule.options;
  if (o.get('-j') !== 'arpreply' || o.get('-p') !== 'ARP' || o.get('--arp-op') !== 'request') return undefined;
  const logical = o.get('--logical-in');
  const nic = o.get('-i');
  // Exactly one of the two matches: a rule with both, or with neither, is not one hostnic writes.
  if ((logical === undefined) === (nic === undefined)) return undefined;
  const ip = o.get('--arp-ip-dst');
  const mac = o.get('--arpreply-mac');
  const dev = logical ?? nic;
  if (dev === undefined || ip === undefined || mac === undefined) return undefined;
  if (dev.startsWith('!') || ip.startsWith('!')) return undefined;
  return { match: logical === undefined ? 'in' : 'logical-in', dev, ip, mac };
}

/** Whether two entries are the same (MACs compared by value). */
export function sameArpReply(a: ArpReplyEntry, b: ArpReplyEntry): boolean {
  return a.match === b.match && a.dev === b.dev && a.ip === b.ip && sameMac(a.mac, b.mac);
}

/** Whether a listed rule is an ARP responder entry selected by `filter`. */
export function matchesArpReplyFilter(rule: ListedEbtablesRule, filter: ArpReplyFilter): boolean {
  const e = asArpReply(rule);
  if (!e) return false;
  if (filter.ip !== undefined && e.ip !== filter.ip) return false;
  if (filter.dev !== undefined && e.dev !== filter.dev) return false;
  if (filter.match !== undefined && e.match !== filter.match) return false;
  if (filter.mac !== undefined && !sameMac(e.mac, filter.mac)) return false;
  return true;
}

/** Options of the ebtables functions. */
export interface EbtablesOptions extends ExecOptions, LockOptions {
  readonly netns?: Netns | undefined;
  /** The ebtables program; default `ebtables` (found in PATH, which always includes /sbin and /usr/sbin). */
  readonly ebtables?: string | undefined;
}

/** The errno of an ebtables failure: legacy and nft-based ebtables word their messages differently. */
export function ebtablesErrno(message: string): string | undefined {
  const first = message.split('\n')[0] ?? '';
  return errnoOf(first) ?? findErrno(first);
}

async function ebtables(args: readonly string[], options: EbtablesOptions | undefined, what: string): Promise<string> {
  const ns = options?.netns ?? CURRENT_NETNS;
  const argv = argvInNetns(ns, [options?.ebtables ?? 'ebtables', ...args]);
  const r = await run({ argv }, options);
  const nsError = nsenterFailure(ns, r);
  if (nsError) throw nsError;
  if (r.code !== 0) {
    const msg = r.stderr.trim();
    throw commandErrorFor(`${what} failed`, {
      argv,
      kernelMessage: msg,
      errno: ebtablesErrno(msg),
      exitCode: r.code,
      stderr: r.stderr,
    });
  }
  return r.stdout;
}

/** Lists a chain. */
export async function listEbtablesChain(
  table: EbtablesRule['table'],
  chain: string,
  options?: EbtablesOptions,
): Promise<ListedEbtablesRule[]> {
  const text = await ebtables(['-t', table, '-L', chain, '--Lmac2'], options, `ebtables -t ${table} -L ${chain}`);
  return parseEbtablesList(text);
}

/** What an ensure/remove did. */
export interface EbtablesChange {
  readonly inserted: number;
  readonly deleted: number;
}

function checkRule(rule: EbtablesRule): void {
  if (!/^[A-Za-z0-9_-]{1,31}$/.test(rule.chain)) throw new InvalidArgumentError('ebtables chain', rule.chain, 'not a chain');
  for (const t of rule.args) {
    if (t === '' || /[\s"'\\]/.test(t)) throw new InvalidArgumentError('ebtables token', t, 'blank or quote');
  }
}

/**
 * Makes sure exactly one copy of `rule` is in its chain: inserts it at the top when absent, deletes surplus
 * copies when duplicated. Runs under the lock.
 */
export async function ensureEbtablesRule(rule: EbtablesRule, options?: EbtablesOptions): Promise<EbtablesChange> {
  checkRule(rule);
  const wanted = normalizeEbtablesRule(rule.args);
  return lockerFor(options)(async () => {
    const listed = await listEbtablesChain(rule.table, rule.chain, options);
    const copies = listed.filter((r) => sameEbtablesRule(r.options, wanted));
    if (copies.length === 0) {
      await ebtables(['-t', rule.table, '-I', rule.chain, ...rule.args], options, 'ebtables insert');
      return { inserted: 1, deleted: 0 };
    }
    for (const extra of copies.slice(1)) {
      await ebtables(['-t', rule.table, '-D', rule.chain, ...extra.tokens], options, 'ebtables delete');
    }
    return { inserted: 0, deleted: copies.length - 1 };
  });
}

/** Deletes every rule of the chain that `select` picks (each copy, by its listed text). Runs under the lock. */
export async function removeEbtablesRules(
  table: EbtablesRule['table'],
  chain: string,
  select: (rule: ListedEbtablesRule) => boolean,
  options?: EbtablesOptions,
): Promise<EbtablesChange> {
  return lockerFor(options)(async () => {
    const listed = await listEbtablesChain(table, chain, options);
    let deleted = 0;
    for (const r of listed.filter(select)) {
      await ebtables(['-t', table, '-D', chain, ...r.tokens], options, 'ebtables delete');
      deleted++;
    }
    return { inserted: 0, deleted };
  });
}

/** Deletes every copy of `rule` (compared semantically). */
export async function removeEbtablesRule(rule: EbtablesRule, options?: EbtablesOptions): Promise<EbtablesChange> {
  checkRule(rule);
  const wanted = normalizeEbtablesRule(rule.args);
  return removeEbtablesRules(rule.table, rule.chain, (r) => sameEbtablesRule(r.options, wanted), options);
}

/** Makes sure the ARP responder entry is present exactly once, in the form it names. */
export async function ensureArpReply(entry: ArpReplyEntry, options?: EbtablesOptions): Promise<EbtablesChange> {
  return ensureEbtablesRule(arpReplyRule(entry), options);
}

/** Where a pod's ARP responder entry can go: the NIC's bridge, or the NIC itself. */
export interface ArpReplyTarget {
  readonly ip: string;
  /** The NIC's MAC. */
  readonly mac: string;
  /** `br_<table>`. */
  readonly bridge: string;
  /** The NIC's link (`hostnic_<id>`). */
  readonly nicLink: string;
}

/**
 * Installs a pod's entry in the compatible form, or in the `in` form when ebtables refuses `--logical-in`.
 * `form: 'in'` (the caller learnt that this kernel refuses it) goes straight to the `in` form, saving the
 * refused attempt on every pod. Returns the entry as installed, which is what {@link removeArpReply} takes.
 */
export async function installArpReply(
  target: ArpReplyTarget,
  options?: EbtablesOptions,
  form?: ArpReplyMatch,
): Promise<ArpReplyEntry> {
  // The MAC as ebtables lists it, so that the returned entry compares equal to the listed one.
  const mac = normalizeMac(target.mac);
  if (mac === undefined) throw new InvalidArgumentError('mac', target.mac, 'not a MAC address');
  const fallback: ArpReplyEntry = { match: 'in', dev: target.nicLink, ip: target.ip, mac };
  if (form === 'in') {
    await ensureArpReply(fallback, options);
    return fallback;
  }
  const entry: ArpReplyEntry = { match: 'logical-in', dev: target.bridge, ip: target.ip, mac };
  try {
    await ensureArpReply(entry, options);
    return entry;
  } catch (e) {
    // Only a refusal by ebtables itself warrants the other form; a lock timeout or a bad argument does not.
    if (!(e instanceof CommandError) || e instanceof LockTimeoutError) throw e;
    await ensureArpReply(fallback, options);
    return fallback;
  }
}

/** Removes every copy of an entry, in the form it names. */
export async function removeArpReply(entry: ArpReplyEntry, options?: EbtablesOptions): Promise<EbtablesChange> {
  return removeEbtablesRule(arpReplyRule(entry), options);
}

/**
 * Removes every ARP responder entry selected by `filter`, in either form unless `match` is set (e.g. `{ip}`
 * for all entries of a pod IP, `{dev}` for all entries of a freed bridge or NIC).
 */
export async function removeArpReplies(filter: ArpReplyFilter, options?: EbtablesOptions): Promise<EbtablesChange> {
  if (filter.ip === undefined && filter.dev === undefined && filter.mac === undefined) {
    throw new InvalidArgumentError('filter', filter, 'would remove every ARP responder entry; set ip, dev or mac');
  }
  return removeEbtablesRules('nat', 'PREROUTING', (r) => matchesArpReplyFilter(r, filter), options);
}

/** The ARP responder entries of nat PREROUTING, both forms (one element per copy). */
export async function listArpReplies(options?: EbtablesOptions): Promise<ArpReplyEntry[]> {
  const listed = await listEbtablesChain('nat', 'PREROUTING', options);
  const out: ArpReplyEntry[] = [];
  for (const r of listed) {
    const e = asArpReply(r);
    if (e) out.push(e);
  }
  return out;
}

/** How many copies of the entry are installed (CHECK wants exactly one). */
export async function countArpReply(entry: ArpReplyEntry, options?: EbtablesOptions): Promise<number> {
  return (await listArpReplies(options)).filter((e) => sameArpReply(e, entry)).length;
}
