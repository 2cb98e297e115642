/**
 * IPv4 forwarding on the node, whole: `ip_forward` (conf/all), conf/default and every device's own
 * `conf/<dev>/forwarding`, which is what the kernel reads per packet and per ARP request.
 *
 * Every ADD writes `ip_forward=1`, and the kernel copies a change of it to conf/default and to every device. That
 * copy is lost when two writers race on the 0→1 change while rtnl is busy: the first one restores the old value
 * and restarts its write, the second one saw 1 by then and finds nothing changed. `ip_forward` then reads 1 while
 * br_N and the pods' veths stay at 0, so the node answers no ARP request for its pods (a proxy entry needs
 * forwarding on the bridge) and forwards nothing to them: every pod of the node is unreachable, every ADD succeeds.
 * This happened to the first parallel ADDs on a fresh node (docs/dataplane.md#per-nic-setup). The agent makes
 * forwarding whole itself, one writer, before it serves ADDs and on the sync timer.
 *
 * @packageDocumentation
 */

import { readdir } from 'node:fs/promises';
import { argvInNetns, confSysctl, ipForwardSysctl, readSysctls, run, writeSysctls } from '@hostnic/netlink';
import type { Netns, SysctlEntry } from '@hostnic/netlink';
import { byCodeUnits } from '../order.ts';

const CONF_DIR = '/proc/sys/net/ipv4/conf';

/** What the node's namespace holds: conf/all (ip_forward), conf/default and each device's value. */
export interface ForwardingState {
  readonly all: string | undefined;
  readonly default: string | undefined;
  /** Device name → its conf/<dev>/forwarding (undefined: gone between listing and reading). */
  readonly devices: ReadonlyMap<string, string | undefined>;
}

/**
 * The writes that make forwarding whole once conf/all is 1 (pure): conf/default, then every device still at 0.
 * Devices that vanished are left out.
 */
export function forwardingFixes(state: Pick<ForwardingState, 'default' | 'devices'>): SysctlEntry[] {
  const fixes: SysctlEntry[] = [];
  if (state.default !== '1') fixes.push(confSysctl(4, 'default', 'forwarding', 1));
  for (const [dev, value] of [...state.devices].sort(([a], [b]) => byCodeUnits(a, b))) {
    if (value !== undefined && value !== '1') fixes.push(confSysctl(4, dev, 'forwarding', 1));
  }
  return fixes;
}

async function listDevices(netns: Netns): Promise<string[]> {
  const names = netns.kind === 'current'
    ? await readdir(CONF_DIR)
    : (await run({ argv: argvInNetns(netns, ['ls', '-1', CONF_DIR]) })).stdout.split('\n');
  return names.map((n) => n.trim()).filter((n) => n !== '' && n !== 'all' && n !== 'default');
}

/** Reads conf/all, conf/default and every device's forwarding in `netns`. */
export async function readForwarding(netns: Netns): Promise<ForwardingState> {
  const devices = await listDevices(netns);
  const values = await readSysctls(
    [ipForwardSysctl(1).path, confSysctl(4, 'default', 'forwarding', 1).path, ...devices.map((d) => confSysctl(4, d, 'forwarding', 1).path)],
    { netns },
  );
  return { all: values[0], default: values[1], devices: new Map(devices.map((d, i) => [d, values[i + 2]])) };
}

/**
 * Turns forwarding on (one write of ip_forward, so the kernel copies it everywhere) and then sets every place
 * the copy missed.
 * @returns the paths it had to write, empty when forwarding was whole
 */
export async function ensureForwarding(netns: Netns): Promise<string[]> {
  const written: string[] = [];
  let state = await readForwarding(netns);
  if (state.all !== '1') {
    await writeSysctls([ipForwardSysctl(1)], { netns });
    written.push(ipForwardSysctl(1).path);
    state = await readForwarding(netns);
  }
  const fixes = forwardingFixes(state);
  // A device removed since it was listed makes its write fail: the others still count.
  for (const fix of fixes) {
    try {
      await writeSysctls([fix], { netns });
      written.push(fix.path);
    } catch (e) {
      if ((await readSysctls([fix.path], { netns }))[0] !== undefined) throw e;
    }
  }
  return written;
}
