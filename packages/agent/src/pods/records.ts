/** The pod record as the pod service writes it: PodRecord plus the ARP responder form (optional fields). */

import type { CniResult } from '@hostnic/protocol';
import { POD_GATEWAY } from '@hostnic/netlink';
import type { ArpReplyEntry, ArpReplyMatch } from '@hostnic/netlink';
import type { PodRecord } from '../types.ts';

export interface PodServiceRecord extends PodRecord {
  /**
   * How ADD set up the pod's ARP answer: `proxy`, a proxy neighbour entry on the bridge (this release), or the
   * ebtables arpreply form earlier releases installed; absent on records of other writers (DEL then removes
   * both kinds by IP).
   */
  arpMatch?: ArpReplyMatch | 'proxy';
  /** The bridge (`proxy`, `logical-in`) or NIC link (`in`) of the answer. */
  arpDev?: string;
  /** MTU of the veth pair. */
  mtu?: number;
  /** False for a container that is not a Kubernetes pod (no pod object: never looked up, never "gone"). */
  kubernetesPod?: false;
  /** The kernel's boot id when the pod was wired: a record of another boot has no kernel state left. */
  bootId?: string;
}

export function attachmentKey(containerId: string, ifName: string): string {
  return `${containerId}/${ifName}`;
}

/** The ebtables arpreply entry of a record wired by an earlier release, if that is its ARP answer. */
export function arpOfRecord(record: PodServiceRecord): ArpReplyEntry | undefined {
  if (record.arpMatch === undefined || record.arpMatch === 'proxy' || record.arpDev === undefined) return undefined;
  return { match: record.arpMatch, dev: record.arpDev, ip: record.ip, mac: record.nicId };
}

/** The device of the record's proxy neighbour entry, if that is its ARP answer. */
export function proxyArpDevOf(record: PodServiceRecord): string | undefined {
  return record.arpMatch === 'proxy' ? record.arpDev : undefined;
}

/** The CNI result of a recorded attachment (also the answer to a repeated ADD). */
export function resultOfRecord(record: PodRecord): CniResult {
  return {
    interfaces: [
      { name: record.ifName, mac: record.podMac, sandbox: record.netns },
      { name: record.hostVeth, mac: record.hostVethMac },
    ],
    ips: [{ interface: 0, address: `${record.ip}/32`, gateway: POD_GATEWAY }],
    dns: {},
  };
}

/** The pod IP of a prevResult: the address of the pod interface, else the first one. */
export function ipOfResult(result: CniResult | undefined, ifName: string): string | undefined {
  if (!result) return undefined;
  const podIf = result.interfaces.findIndex((i) => i.name === ifName && i.sandbox !== undefined);
  const ip = result.ips.find((c) => c.interface === podIf) ?? result.ips[0];
  const address = ip?.address.split('/')[0];
  return address === undefined || address === '' ? undefined : address;
}
