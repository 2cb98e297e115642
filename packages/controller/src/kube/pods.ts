/** Which pods hold addresses: shared by the controller's caches and the `ipam` commands. */
import type { Pod } from './objects.ts';
import type { LivePod } from '@hostnic/ipam';

const FINISHED_PHASES: ReadonlySet<string> = new Set(['Succeeded', 'Failed']);

/** A pod whose phase is final (Succeeded or Failed): it holds no address any more. */
export function isFinishedPod(pod: Pod): boolean {
  return FINISHED_PHASES.has(pod.status?.phase ?? '');
}

/**
 * The live pod of an API Pod, or undefined for a finished one. The sandbox container ID is not part of the
 * Pod API, so `containerID` stays unknown; the consistency check then matches handles by `<ns>-<pod>-` prefix.
 * Its IP goes along (so the check can find addresses a block forgot) unless the pod shares its node's network
 * or is terminating: a DEL may have released its address already, which must not be recorded back.
 * @param pod - a Pod from the API
 */
export function livePodOf(pod: Pod): LivePod | undefined {
  const namespace = pod.metadata?.namespace;
  const name = pod.metadata?.name;
  if (namespace === undefined || name === undefined) return undefined;
  if (isFinishedPod(pod)) return undefined;
  const ip = pod.spec?.hostNetwork === true || pod.metadata?.deletionTimestamp !== undefined ? undefined : pod.status?.podIP;
  return {
    namespace,
    name,
    ...(ip ? { ip } : {}),
    ...(pod.spec?.nodeName ? { node: pod.spec.nodeName } : {}),
  };
}
