/**
 * CNI_ARGS (`K=V;K=V`): the pod identity the runtime passes. Parsed as the CNI library does:
 * known keys are case-sensitive, unknown keys are an error unless `IgnoreUnknown` is true, values are
 * verbatim. Unlike the original, every error names the pair or key at fault.
 */

import type { Attachment } from '@hostnic/protocol';
import type { CniEnv } from './env.ts';
import { InvalidEnvironmentError } from './errors.ts';

export interface CniArgs {
  podName: string;
  podNamespace: string;
  infraContainerId: string;
  /** Keys hostnic does not know that IgnoreUnknown allowed. */
  ignored: string[];
}

const KNOWN = ['K8S_POD_NAME', 'K8S_POD_NAMESPACE', 'K8S_POD_INFRA_CONTAINER_ID', 'IgnoreUnknown'] as const;
type Known = (typeof KNOWN)[number];

function isKnown(key: string): key is Known {
  return (KNOWN as readonly string[]).includes(key);
}

function parseBool(key: string, value: string): boolean {
  const v = value.toLowerCase();
  if (v === '1' || v === 'true') return true;
  if (v === '0' || v === 'false') return false;
  throw new InvalidEnvironmentError(
    `CNI_ARGS: ${key}=${value} is not a boolean`,
    `use ${key}=1 or ${key}=true (or 0/false)`,
  );
}

export function parseCniArgs(text: string): CniArgs {
  const values = new Map<Known, string>();
  const unknown: string[] = [];
  if (text !== '') {
    for (const piece of text.split(';')) {
      // A trailing ";" leaves an empty piece: harmless, so skipped rather than failing the pod.
      if (piece === '') continue;
      const kv = piece.split('=');
      if (kv.length !== 2) {
        throw new InvalidEnvironmentError(
          `CNI_ARGS: invalid pair "${piece}"`,
          'CNI_ARGS is KEY=VALUE pairs separated by ";", and values may not contain "=" or ";"',
        );
      }
      const [key = '', value = ''] = kv;
      if (isKnown(key)) values.set(key, value);
      else if (!unknown.includes(key)) unknown.push(key);
    }
  }
  const ignoreUnknown = values.has('IgnoreUnknown') ? parseBool('IgnoreUnknown', values.get('IgnoreUnknown') ?? '') : false;
  if (unknown.length > 0 && !ignoreUnknown) {
    throw new InvalidEnvironmentError(
      `CNI_ARGS: unknown args [${unknown.join(' ')}]`,
      `hostnic knows ${KNOWN.join(', ')}; add IgnoreUnknown=1 to CNI_ARGS to pass other keys (containerd and CRI-O do)`,
    );
  }
  return {
    podName: values.get('K8S_POD_NAME') ?? '',
    podNamespace: values.get('K8S_POD_NAMESPACE') ?? '',
    infraContainerId: values.get('K8S_POD_INFRA_CONTAINER_ID') ?? '',
    ignored: unknown,
  };
}

/**
 * Who a call is for. A Kubernetes runtime names the pod in CNI_ARGS; other runtimes (podman, nerdctl with
 * their CNI backends) send no K8S_POD_NAMESPACE, and the container then gets the conflist's
 * `defaultNamespace` (which picks its subnets, as a pod's namespace does) and K8S_POD_NAME or its container
 * id as its name (which the veth name and the IPAM handle take, as a pod's name). podman passes its
 * container name there (`admiring_aryabhata`), which is no Kubernetes object name: the id stands in then.
 */
export interface Workload {
  namespace: string;
  name: string;
  /** Whether CNI_ARGS named a Kubernetes pod: only then is there a pod object to read or patch. */
  kubernetesPod: boolean;
}

export function workloadOf(env: Pick<CniEnv, 'containerId'>, args: CniArgs, defaultNamespace: string): Workload {
  if (args.podNamespace !== '' && args.podName !== '') {
    return { namespace: args.podNamespace, name: args.podName, kubernetesPod: true };
  }
  return {
    namespace: args.podNamespace !== '' ? args.podNamespace : defaultNamespace,
    name: OBJECT_NAME.test(args.podName) && args.podName.length <= 253 ? args.podName : env.containerId,
    kubernetesPod: false,
  };
}

/** A Kubernetes object name (an RFC 1123 subdomain, at most 253 characters). */
const OBJECT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * ADD refuses a namespace without a pod name: that is a Kubernetes runtime that lost the name, and the pod
 * would be wired under its container id where kubelet and Calico expect the pod's name.
 */
export function checkWorkloadArgs(args: CniArgs): void {
  if (args.podNamespace === '' || args.podName !== '') return;
  throw new InvalidEnvironmentError(
    `CNI_ARGS has K8S_POD_NAMESPACE=${args.podNamespace} but no K8S_POD_NAME`,
    'Kubernetes runtimes set both; other runtimes set neither (the container then gets the conflist\'s "defaultNamespace" and its container id as its name)',
  );
}

/** The attachment of a call; the infra container id falls back to the CNI container id. */
export function attachmentOf(env: CniEnv, args: CniArgs, workload: Workload): Attachment {
  return {
    containerId: env.containerId,
    netns: env.netns,
    ifName: env.ifName,
    podNamespace: workload.namespace,
    podName: workload.name,
    infraContainerId: args.infraContainerId !== '' ? args.infraContainerId : env.containerId,
    kubernetesPod: workload.kubernetesPod,
  };
}

export function podKey(a: Pick<Attachment, 'podNamespace' | 'podName'>): string {
  return `${a.podNamespace}/${a.podName}`;
}
