/**
 * The ARP responder of a pod: ARP requests for the pod IP arriving from the vxnet are answered with the
 * NIC's MAC, so the SDN sends the pod's traffic to this node's NIC.
 *
 * The compatible form matches `--logical-in br_<table>`. nft-based ebtables on some kernels refuses that
 * match (no bridge meta support), so the same rule matched on the NIC itself (`-i <nic link>`, the only port
 * of the bridge that faces the vxnet) is the fallback. The form used is kept in the pod record, so DEL
 * removes exactly what ADD installed.
 */

import {
  CommandError,
  LockTimeoutError,
  ensureArpReply,
  ensureEbtablesRule,
  listEbtablesChain,
  normalizeEbtablesRule,
  removeArpReplies,
  removeEbtablesRule,
  removeEbtablesRules,
  sameEbtablesRule,
} from '@hostnic/netlink';
import type { EbtablesOptions, EbtablesRule } from '@hostnic/netlink';

/** Which form of the entry was installed. */
export type ArpMatch = 'logical-in' | 'in';

export interface ArpReplySpec {
  readonly ip: string;
  /** The NIC's MAC (its id). */
  readonly mac: string;
  /** br_<table>. */
  readonly bridge: string;
  /** The NIC's link name (hostnic_<id>). */
  readonly nicLink: string;
}

export interface InstalledArpReply {
  readonly match: ArpMatch;
  /** The bridge for `logical-in`, the NIC link for `in`. */
  readonly dev: string;
  readonly ip: string;
  readonly mac: string;
}

/** The `-i` form of the entry. */
export function inInterfaceArpRule(dev: string, ip: string, mac: string): EbtablesRule {
  return {
    table: 'nat',
    chain: 'PREROUTING',
    args: ['-p', 'ARP', '-i', dev, '--arp-op', 'Request', '--arp-ip-dst', ip, '-j', 'arpreply', '--arpreply-mac', mac.toLowerCase()],
  };
}

/**
 * Installs the entry, falling back to the `-i` form when the kernel refuses `--logical-in`. With `form: 'in'`
 * (the caller learnt that this kernel refuses it) the `-i` form is installed directly, which saves the
 * refused attempt's spawns on every ADD.
 */
export async function installArpReply(spec: ArpReplySpec, options: EbtablesOptions, form?: ArpMatch): Promise<InstalledArpReply> {
  if (form === 'in') {
    await ensureEbtablesRule(inInterfaceArpRule(spec.nicLink, spec.ip, spec.mac), options);
    return { match: 'in', dev: spec.nicLink, ip: spec.ip, mac: spec.mac };
  }
  try {
    await ensureArpReply({ bridge: spec.bridge, ip: spec.ip, mac: spec.mac }, options);
    return { match: 'logical-in', dev: spec.bridge, ip: spec.ip, mac: spec.mac };
  } catch (e) {
    // Only a refusal by ebtables itself warrants the other form; a lock timeout or a bad argument does not.
    if (!(e instanceof CommandError) || e instanceof LockTimeoutError) throw e;
    await ensureEbtablesRule(inInterfaceArpRule(spec.nicLink, spec.ip, spec.mac), options);
    return { match: 'in', dev: spec.nicLink, ip: spec.ip, mac: spec.mac };
  }
}

/** Removes an entry ADD installed (every copy). */
export async function uninstallArpReply(entry: InstalledArpReply, options: EbtablesOptions): Promise<number> {
  if (entry.match === 'logical-in') {
    return (await removeArpReplies({ ip: entry.ip, bridge: entry.dev, mac: entry.mac }, options)).deleted;
  }
  return (await removeEbtablesRule(inInterfaceArpRule(entry.dev, entry.ip, entry.mac), options)).deleted;
}

function arpReplyFor(ip: string): (options: ReadonlyMap<string, string>) => boolean {
  const wanted = normalizeEbtablesRule(['--arp-ip-dst', ip]).get('--arp-ip-dst');
  return (o) => o.get('-j') === 'arpreply' && o.get('--arp-ip-dst') === wanted;
}

/** Removes every arpreply entry for `ip` in either form (DEL without a record). */
export async function removeArpRepliesForIp(ip: string, options: EbtablesOptions): Promise<number> {
  const select = arpReplyFor(ip);
  return (await removeEbtablesRules('nat', 'PREROUTING', (r) => select(r.options), options)).deleted;
}

/** How many copies of the entry are present (CHECK wants exactly one). */
export async function countArpReply(entry: InstalledArpReply, options: EbtablesOptions): Promise<number> {
  const wanted =
    entry.match === 'in'
      ? normalizeEbtablesRule(inInterfaceArpRule(entry.dev, entry.ip, entry.mac).args)
      : normalizeEbtablesRule(['-p', 'ARP', '--logical-in', entry.dev, '--arp-op', 'Request', '--arp-ip-dst', entry.ip, '-j', 'arpreply', '--arpreply-mac', entry.mac]);
  const listed = await listEbtablesChain('nat', 'PREROUTING', options);
  return listed.filter((r) => sameEbtablesRule(r.options, wanted)).length;
}
