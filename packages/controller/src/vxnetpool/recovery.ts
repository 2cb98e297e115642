/**
 * Before a block is created (again), addresses that running pods already use inside it are marked as
 * allocated (spec ipam-controller 2.12, with its weaknesses fixed: handles matched by `<ns>-<pod>-` prefix,
 * not substring; every block, not only namespace-mapped ones; no dependency on the mapping ConfigMap).
 * A block re-created empty under running pods would hand their addresses out a second time.
 */
import { assignFixedAddress, blockContains, handleMatchesPod, podHandleId } from '@hostnic/ipam';
import type { IPAMBlock } from '@hostnic/ipam';

export interface PodAddress {
  readonly namespace: string;
  readonly name: string;
  readonly ip: string;
  readonly node: string;
}

export interface RecoveredAddress {
  readonly ip: string;
  readonly handleId: string;
  readonly pod: string;
}

export interface RecoveryOutcome {
  readonly block: IPAMBlock;
  readonly recovered: readonly RecoveredAddress[];
  /** Addresses that could not be recovered (reserved, or claimed by two pods), with why. */
  readonly conflicts: readonly { readonly ip: string; readonly pod: string; readonly reason: string }[];
}

/** The handle the pod's agent used, when one exists; else one that the leak check will recognise as the pod's. */
function handleFor(pod: PodAddress, handles: readonly string[]): string {
  const matching = handles.filter((h) => handleMatchesPod(h, { namespace: pod.namespace, name: pod.name })).sort();
  return matching[0] ?? podHandleId(pod.namespace, pod.name, 'recovered').id;
}

export function recoverBlock(block: IPAMBlock, pods: readonly PodAddress[], handles: readonly string[], now: Date): RecoveryOutcome {
  let spec = block.spec;
  const recovered: RecoveredAddress[] = [];
  const conflicts: { ip: string; pod: string; reason: string }[] = [];
  const sorted = [...pods].sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
  for (const pod of sorted) {
    if (!blockContains(spec, pod.ip)) continue;
    const podName = `${pod.namespace}/${pod.name}`;
    const handleId = handleFor(pod, handles);
    try {
      const result = assignFixedAddress(spec, {
        handleId,
        address: pod.ip,
        secondary: { namespace: pod.namespace, pod: pod.name, node: pod.node },
        now,
        cooldownMs: 0,
        allowCoolingDown: true,
      });
      spec = result.block;
      if (!result.alreadyOwned) recovered.push({ ip: pod.ip, handleId, pod: podName });
    } catch (e) {
      conflicts.push({ ip: pod.ip, pod: podName, reason: e instanceof Error ? e.message : String(e) });
    }
  }
  return { block: { ...block, spec }, recovered, conflicts };
}
