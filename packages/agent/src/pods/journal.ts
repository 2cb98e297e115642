/**
 * The pod side of the intent journal: what an ADD or DEL wrote before each step, read back so that a later DEL
 * or the replay at start can finish or undo a pod operation that a crash (or a failed rollback) cut off.
 * Pure: the service reads and writes the store, this module only interprets intents.
 */

import type { Attachment } from '@hostnic/protocol';
import type { Intent } from '../types.ts';
import { attachmentKey } from './records.ts';

export type PodIntentKind = 'wire-pod' | 'unwire-pod';
export const POD_INTENT_KINDS: ReadonlySet<string> = new Set<PodIntentKind>(['wire-pod', 'unwire-pod']);

/** What the journal knows about one attachment, merged over its open intents (later ones win). */
export interface JournaledPod {
  readonly containerId: string;
  readonly ifName: string;
  readonly podNamespace?: string;
  readonly podName?: string;
  readonly infraContainerId?: string;
  readonly netns?: string;
  readonly handleId?: string;
  /** Addresses the handle held (an ADD writes the allocated one; a DEL what `ipam.release` returned). */
  readonly ips: readonly string[];
  readonly hostVeth?: string;
  readonly hostMac?: string;
  /** An unwire-pod intent is open: a DEL was cut off. */
  readonly deleting: boolean;
  readonly intentIds: readonly string[];
}

const FACT_KEYS = ['podNamespace', 'podName', 'infraContainerId', 'netns', 'handleId', 'hostVeth', 'hostMac'] as const;

function text(intent: Intent, key: string): string | undefined {
  const v = intent.data[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The `ips` value of an intent: comma-separated addresses. */
export function joinIps(ips: readonly string[]): string {
  return ips.join(',');
}

function ipsOf(intent: Intent): string[] {
  return (text(intent, 'ips') ?? '').split(',').filter((s) => s !== '');
}

/** Open pod intents grouped by attachment, in journal order. */
export function journaledPods(intents: readonly Intent[]): JournaledPod[] {
  const byKey = new Map<string, Intent[]>();
  for (const i of intents) {
    if (!POD_INTENT_KINDS.has(i.kind)) continue;
    const containerId = text(i, 'containerId');
    const ifName = text(i, 'ifName');
    if (containerId === undefined || ifName === undefined) continue;
    const key = attachmentKey(containerId, ifName);
    byKey.set(key, [...(byKey.get(key) ?? []), i]);
  }
  return [...byKey.values()].map(merge);
}

function merge(intents: Intent[]): JournaledPod {
  const first = intents[0] as Intent;
  const facts: Record<string, string> = {};
  let ips: string[] = [];
  for (const i of intents) {
    for (const k of FACT_KEYS) {
      const v = text(i, k);
      if (v !== undefined) facts[k] = v;
    }
    const listed = ipsOf(i);
    if (listed.length > 0) ips = listed;
  }
  return {
    ...facts,
    containerId: text(first, 'containerId') as string,
    ifName: text(first, 'ifName') as string,
    ips,
    deleting: intents.some((i) => i.kind === 'unwire-pod'),
    intentIds: intents.map((i) => i.id),
  };
}

/** The journal's entry for one attachment, if any. */
export function journaledPod(intents: readonly Intent[], containerId: string, ifName: string): JournaledPod | undefined {
  return journaledPods(intents).find((j) => j.containerId === containerId && j.ifName === ifName);
}

/** The attachment a replayed DEL works on: the journal's identity, empty where it has none. */
export function attachmentOfJournal(j: JournaledPod): Attachment {
  return {
    containerId: j.containerId,
    ifName: j.ifName,
    netns: j.netns ?? '',
    podNamespace: j.podNamespace ?? '',
    podName: j.podName ?? '',
    infraContainerId: j.infraContainerId ?? '',
    // DEL does not read it; the journal of a non-Kubernetes workload undoes the same way.
    kubernetesPod: true,
  };
}
