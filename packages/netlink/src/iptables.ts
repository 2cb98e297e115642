/**
 * iptables rule sets owned by hostnic: whole chains applied with one `iptables-restore --noflush -w`.
 *
 * In a `--noflush` restore, `:CHAIN - [0:0]` creates the chain or flushes just that chain, so writing our
 * chains in full is idempotent and never touches other chains; a stale rule (an old node IP) is replaced,
 * not accumulated. Jumps from built-in chains are added only when `iptables-save` shows them missing, and
 * surplus copies (left by older versions that raced on check-then-append) are deleted. The whole
 * read-decide-write sequence runs under the hostnic lock file.
 *
 * @packageDocumentation
 */

import { checkPrefix, ipFamily, ipv4Network, parsePrefix, assertIPv4 } from './addr-util.ts';
import { CommandError, InvalidArgumentError, commandErrorFor, errnoOf } from './errors.ts';
import type { ExecOptions } from './exec.ts';
import { run } from './exec.ts';
import type { LockOptions } from './lock.ts';
import { lockerFor } from './lock.ts';
import type { Netns } from './netns.ts';
import { CURRENT_NETNS, argvInNetns, nsenterFailure } from './netns.ts';

/** A chain we own, with its rules (tokens after `-A <chain>`). */
export interface IptablesChain {
  readonly name: string;
  readonly rules: readonly (readonly string[])[];
}

/** A jump `-A <from> -j <to>` from a built-in chain into one of ours. */
export interface IptablesJump {
  readonly from: string;
  readonly to: string;
}

/** Chains and jumps of one table. */
export interface IptablesRuleSet {
  readonly table: 'filter' | 'nat' | 'mangle' | 'raw';
  readonly chains: readonly IptablesChain[];
  readonly jumps: readonly IptablesJump[];
}

/** One table as `iptables-save -t <table>` printed it. */
export interface SavedTable {
  /** Chain name → its rules in order, as tokens after `-A <chain>`. */
  readonly chains: ReadonlyMap<string, readonly (readonly string[])[]>;
}

/** Splits a rule line into tokens, honouring the double quotes iptables-save puts around comments. */
export function tokenizeRule(line: string): string[] {
  const tokens: string[] = [];
  let cur = '';
  let inToken = false;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] ?? '';
    if (quoted) {
      if (c === '\\' && i + 1 < line.length) cur += line[++i] ?? '';
      else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') {
      quoted = true;
      inToken = true;
    } else if (/\s/.test(c)) {
      if (inToken) tokens.push(cur);
      cur = '';
      inToken = false;
    } else {
      cur += c;
      inToken = true;
    }
  }
  if (inToken) tokens.push(cur);
  return tokens;
}

/** Parses the output of `iptables-save -t <table>` (other tables in the text are ignored). */
export function parseIptablesSave(text: string, table: string): SavedTable {
  const chains = new Map<string, string[][]>();
  let inTable = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('*')) {
      inTable = line.slice(1) === table;
      continue;
    }
    if (!inTable) continue;
    if (line === 'COMMIT') {
      inTable = false;
      continue;
    }
    if (line.startsWith(':')) {
      const name = line.slice(1).split(/\s+/)[0] ?? '';
      if (!chains.has(name)) chains.set(name, []);
      continue;
    }
    const tokens = tokenizeRule(line);
    if (tokens[0] === '-A' && tokens[1] !== undefined) {
      const list = chains.get(tokens[1]) ?? [];
      list.push(tokens.slice(2));
      chains.set(tokens[1], list);
    }
  }
  return { chains };
}

function normalizeHex(t: string): string {
  return t
    .split('/')
    .map((h) => `0x${BigInt(h).toString(16)}`)
    .join('/');
}

/**
 * Normal form of one token for comparing rules across iptables versions: legacy prints `1.2.3.4/32`,
 * nft-based prints `1.2.3.4`; marks may be written with leading zeros or in any case.
 */
export function normalizeRuleToken(t: string): string {
  if (/^0x[0-9a-f]+(\/0x[0-9a-f]+)?$/i.test(t)) return normalizeHex(t);
  const p = parsePrefix(t);
  if (p && p.family === 4 && t.includes('.')) {
    if (p.length === 32) return p.address;
    return ipv4Network(t) ?? t;
  }
  return t;
}

function sameRule(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((t, i) => normalizeRuleToken(t) === normalizeRuleToken(b[i] ?? ''));
}

/** What {@link planIptablesRuleSet} decided. */
export interface IptablesPlan {
  /** Nothing to change. */
  readonly upToDate: boolean;
  /** Input for `iptables-restore --noflush` (empty when up to date). */
  readonly restore: string;
  /** Human-readable reasons, e.g. `chain HOSTNIC-OUTPUT differs`. */
  readonly reasons: readonly string[];
}

function checkName(field: string, name: string): void {
  if (!/^[A-Za-z0-9_.-]{1,28}$/.test(name)) throw new InvalidArgumentError(field, name, 'not a chain name');
}

function ruleLine(chain: string, tokens: readonly string[]): string {
  for (const t of tokens) {
    if (t === '' || /[\s"'\\]/.test(t)) throw new InvalidArgumentError('iptables rule token', t, 'blank or quote');
  }
  return `-A ${chain} ${tokens.join(' ')}`;
}

/** Decides what to restore so that `current` carries `wanted` (pure). */
export function planIptablesRuleSet(current: SavedTable, wanted: IptablesRuleSet): IptablesPlan {
  const decl: string[] = [];
  const body: string[] = [];
  const reasons: string[] = [];
  for (const chain of wanted.chains) {
    checkName('chain', chain.name);
    const have = current.chains.get(chain.name);
    const same =
      have !== undefined && have.length === chain.rules.length && have.every((r, i) => sameRule(r, chain.rules[i] ?? []));
    if (same) continue;
    reasons.push(have === undefined ? `chain ${chain.name} missing` : `chain ${chain.name} differs`);
    decl.push(`:${chain.name} - [0:0]`);
    for (const r of chain.rules) body.push(ruleLine(chain.name, r));
  }
  for (const jump of wanted.jumps) {
    checkName('chain', jump.from);
    checkName('chain', jump.to);
    const rules = current.chains.get(jump.from) ?? [];
    const copies = rules.filter((r) => sameRule(r, ['-j', jump.to])).length;
    if (copies === 0) {
      reasons.push(`jump ${jump.from} -> ${jump.to} missing`);
      body.push(`-A ${jump.from} -j ${jump.to}`);
    }
    for (let i = 1; i < copies; i++) {
      if (i === 1) reasons.push(`jump ${jump.from} -> ${jump.to} duplicated ${copies} times`);
      body.push(`-D ${jump.from} -j ${jump.to}`);
    }
  }
  const upToDate = decl.length === 0 && body.length === 0;
  return {
    upToDate,
    restore: upToDate ? '' : [`*${wanted.table}`, ...decl, ...body, 'COMMIT', ''].join('\n'),
    reasons,
  };
}

/** Restore input that removes our jumps (every copy) and chains. */
export function planIptablesRemoval(current: SavedTable, wanted: IptablesRuleSet): IptablesPlan {
  const lines: string[] = [];
  const reasons: string[] = [];
  for (const jump of wanted.jumps) {
    const copies = (current.chains.get(jump.from) ?? []).filter((r) => sameRule(r, ['-j', jump.to])).length;
    for (let i = 0; i < copies; i++) lines.push(`-D ${jump.from} -j ${jump.to}`);
    if (copies > 0) reasons.push(`jump ${jump.from} -> ${jump.to} present`);
  }
  const present = wanted.chains.filter((c) => current.chains.has(c.name));
  for (const c of present) lines.push(`:${c.name} - [0:0]`);
  for (const c of present) {
    lines.push(`-X ${c.name}`);
    reasons.push(`chain ${c.name} present`);
  }
  const upToDate = lines.length === 0;
  return { upToDate, restore: upToDate ? '' : [`*${wanted.table}`, ...lines, 'COMMIT', ''].join('\n'), reasons };
}

/** The names of the hostnic mangle chains [compat]. */
export const HOSTNIC_PREROUTING = 'HOSTNIC-PREROUTING';
export const HOSTNIC_OUTPUT = 'HOSTNIC-OUTPUT';

/** Parses a natMark (`0x10000`, `65536`) into iptables' canonical hex. */
export function parseNatMark(natMark: string): string {
  const t = natMark.trim();
  if (!/^(0x[0-9a-f]+|[0-9]+)$/i.test(t)) throw new InvalidArgumentError('natMark', natMark, 'not a number');
  const n = BigInt(t);
  if (n <= 0n || n > 0xffffffffn) throw new InvalidArgumentError('natMark', natMark, 'must be 1..0xffffffff');
  return `0x${n.toString(16)}`;
}

/** Parameters of the hostnic mangle rules. */
export interface HostnicMangleParams {
  /** The node IP: first IPv4 address of the primary interface. */
  readonly nodeIP: string;
  readonly serviceCIDR: string;
  /** Mark value, also used as mask; default `0x10000`. */
  readonly natMark?: string | undefined;
}

/**
 * The hostnic mangle rule set [compat]: `HOSTNIC-PREROUTING` marks connections originally addressed to the
 * node IP, `HOSTNIC-OUTPUT` those originally addressed to the service CIDR.
 */
export function hostnicMangleRuleSet(params: HostnicMangleParams): IptablesRuleSet {
  assertIPv4('nodeIP', params.nodeIP);
  const cidr = checkPrefix('serviceCIDR', params.serviceCIDR);
  if (ipFamily(cidr.split('/')[0] ?? '') !== 4) throw new InvalidArgumentError('serviceCIDR', params.serviceCIDR, 'IPv4 only');
  const service = ipv4Network(cidr) ?? cidr;
  const mark = parseNatMark(params.natMark ?? '0x10000');
  const markArgs = ['-j', 'MARK', '--set-xmark', `${mark}/${mark}`];
  return {
    table: 'mangle',
    chains: [
      { name: HOSTNIC_PREROUTING, rules: [['-m', 'conntrack', '--ctorigdst', `${params.nodeIP}/32`, ...markArgs]] },
      { name: HOSTNIC_OUTPUT, rules: [['-m', 'conntrack', '--ctorigdst', service, ...markArgs]] },
    ],
    jumps: [
      { from: 'PREROUTING', to: HOSTNIC_PREROUTING },
      { from: 'OUTPUT', to: HOSTNIC_OUTPUT },
    ],
  };
}

/** Options of the iptables functions. */
export interface IptablesOptions extends ExecOptions, LockOptions {
  readonly netns?: Netns | undefined;
  /** Default `iptables-save`. */
  readonly iptablesSave?: string | undefined;
  /** Default `iptables-restore`. */
  readonly iptablesRestore?: string | undefined;
}

/** Reads one table with `iptables-save -t <table>`. */
export async function readIptablesTable(table: string, options?: IptablesOptions): Promise<SavedTable> {
  const ns = options?.netns ?? CURRENT_NETNS;
  const argv = argvInNetns(ns, [options?.iptablesSave ?? 'iptables-save', '-t', table]);
  const r = await run({ argv }, options);
  const nsError = nsenterFailure(ns, r);
  if (nsError) throw nsError;
  if (r.code !== 0) {
    const msg = r.stderr.trim();
    throw commandErrorFor(`iptables-save -t ${table} failed`, { argv, kernelMessage: msg, errno: errnoOf(msg), exitCode: r.code });
  }
  return parseIptablesSave(r.stdout, table);
}

async function restore(text: string, options?: IptablesOptions): Promise<void> {
  const ns = options?.netns ?? CURRENT_NETNS;
  const argv = argvInNetns(ns, [options?.iptablesRestore ?? 'iptables-restore', '--noflush', '-w']);
  const r = await run({ argv, input: text }, options);
  const nsError = nsenterFailure(ns, r);
  if (nsError) throw nsError;
  if (r.code !== 0) {
    const msg = r.stderr.trim();
    throw commandErrorFor('iptables-restore failed', {
      argv,
      kernelMessage: msg,
      errno: errnoOf(msg.split('\n')[0] ?? ''),
      exitCode: r.code,
      stderr: `${r.stderr}\n--- input ---\n${text}`,
    });
  }
}

/** What an ensure/remove did. */
export interface IptablesChange {
  readonly changed: boolean;
  readonly reasons: readonly string[];
}

/**
 * Makes the table carry `ruleSet` exactly: chains with exactly these rules, one jump each. Under the lock:
 * save, compare, restore only when needed, then save again to verify.
 */
export async function ensureIptablesRuleSet(ruleSet: IptablesRuleSet, options?: IptablesOptions): Promise<IptablesChange> {
  return lockerFor(options)(async () => {
    const plan = planIptablesRuleSet(await readIptablesTable(ruleSet.table, options), ruleSet);
    if (plan.upToDate) return { changed: false, reasons: [] };
    await restore(plan.restore, options);
    const after = planIptablesRuleSet(await readIptablesTable(ruleSet.table, options), ruleSet);
    if (!after.upToDate) {
      throw new CommandError('iptables rule set did not take effect', {
        argv: [],
        kernelMessage: after.reasons.join('; '),
      });
    }
    return { changed: true, reasons: plan.reasons };
  });
}

/** Removes every jump into our chains and the chains themselves. */
export async function removeIptablesRuleSet(ruleSet: IptablesRuleSet, options?: IptablesOptions): Promise<IptablesChange> {
  return lockerFor(options)(async () => {
    const plan = planIptablesRemoval(await readIptablesTable(ruleSet.table, options), ruleSet);
    if (plan.upToDate) return { changed: false, reasons: [] };
    await restore(plan.restore, options);
    return { changed: true, reasons: plan.reasons };
  });
}
