/**
 * The original's mangle chains, owned by the agent: `HOSTNIC-PREROUTING` marks connections originally
 * addressed to the node IP, `HOSTNIC-OUTPUT` those originally addressed to the service range, with `natMark`
 * (docs/dataplane.md#mangle-chains). The original's plugin appended them on every ADD and DEL and never removed
 * them, so a changed node IP left a second rule behind; here they are made exact at start and on the sync
 * timer, and removed on uninstall.
 *
 * @packageDocumentation
 */

import {
  ensureIptablesRuleSet, hostnicMangleRuleSet, readAddresses, removeIptablesRuleSet,
} from '@hostnic/netlink';
import type { IptablesChange, IptablesOptions, IptablesRuleSet, Netns } from '@hostnic/netlink';

/** What the chains are made from: the hostnic entry of the installed CNI config. */
export interface MangleSettings {
  serviceCIDR: string | undefined;
  natMark: string;
  /** The node's primary interface; its first IPv4 address is the node IP. */
  interface: string;
}

/** A setting that keeps the chains from being built; names the key of the CNI config and the fix. */
export class MangleSettingsError extends Error {
  override name = 'MangleSettingsError';
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.field = field;
  }
}

/** Reads the settings from the conflist the agent installs (the hostnic plugin entry). */
export function mangleSettingsOf(conflist: Record<string, unknown>): MangleSettings {
  const plugins = Array.isArray(conflist['plugins']) ? (conflist['plugins'] as unknown[]) : [conflist];
  const entry = plugins.find((p): p is Record<string, unknown> => typeof p === 'object' && p !== null && (p as Record<string, unknown>)['type'] === 'hostnic');
  if (!entry) throw new MangleSettingsError('plugins', 'the CNI config has no plugin of type "hostnic"');
  const text = (key: string): string | undefined => {
    const v = entry[key];
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string') throw new MangleSettingsError(key, `${key} must be a string, got ${JSON.stringify(v)}`);
    return v;
  };
  return { serviceCIDR: text('serviceCIDR'), natMark: text('natMark') ?? '0x10000', interface: text('interface') ?? 'eth0' };
}

/** The first IPv4 address of `ifName` in kernel order, as the original took it. */
export async function nodeIpOf(ifName: string, netns: Netns | undefined): Promise<string> {
  const addresses = await readAddresses({ netns });
  const first = addresses.find((a) => a.family === 4 && a.ifName === ifName);
  if (!first) {
    throw new MangleSettingsError('interface', `interface ${ifName} has no IPv4 address: set "interface" in the CNI config to the node's primary NIC`);
  }
  return first.address;
}

/** The wanted rule set, or undefined with the reason when the config asks for none. */
export async function wantedMangleRuleSet(
  settings: MangleSettings,
  netns: Netns | undefined,
): Promise<{ ruleSet: IptablesRuleSet } | { ruleSet: undefined; reason: string }> {
  if (!settings.serviceCIDR) {
    return { ruleSet: undefined, reason: 'serviceCIDR is not set in the CNI config: the mangle chains are not installed' };
  }
  const nodeIP = await nodeIpOf(settings.interface, netns);
  return { ruleSet: hostnicMangleRuleSet({ nodeIP, serviceCIDR: settings.serviceCIDR, natMark: settings.natMark }) };
}

/** Makes the chains exact (one save, a restore only when something differs). */
export async function ensureMangleChains(settings: MangleSettings, options: IptablesOptions = {}): Promise<IptablesChange & { skipped?: string }> {
  const wanted = await wantedMangleRuleSet(settings, options.netns);
  if (!wanted.ruleSet) return { changed: false, reasons: [], skipped: wanted.reason };
  return ensureIptablesRuleSet(wanted.ruleSet, options);
}

/** Removes the chains and the jumps into them, whatever rules they hold. */
export async function removeMangleChains(options: IptablesOptions = {}): Promise<IptablesChange> {
  // The rules inside do not matter for removal: any node IP and range name the same two chains.
  const ruleSet = hostnicMangleRuleSet({ nodeIP: '127.0.0.1', serviceCIDR: '127.0.0.0/8' });
  return removeIptablesRuleSet(ruleSet, options);
}
