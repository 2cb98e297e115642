/**
 * Names [compat]: block names and string keys and pod handle IDs.
 *
 * @packageDocumentation
 */
import { createHash } from 'node:crypto';
import { formatCidr, parseCidr } from './address.ts';
import { InvalidArgumentError } from './errors.ts';

/** Longest Kubernetes object name (RFC 1123 subdomain). */
export const MAX_OBJECT_NAME_LENGTH = 253;
/** Longest namespace name (RFC 1123 label). */
export const MAX_NAMESPACE_LENGTH = 63;
/** Hex characters of SHA-256 appended to shortened handle IDs (128 bits). */
export const HANDLE_HASH_LENGTH = 32;

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * Whether `name` is a lower-case RFC 1123 label of at most 63 characters (a valid namespace name).
 * @param name - the candidate
 */
export function isDns1123Label(name: string): boolean {
  return name.length <= MAX_NAMESPACE_LENGTH && DNS1123_LABEL.test(name);
}

/**
 * Whether `name` is a lower-case RFC 1123 subdomain of at most 253 characters (a valid object name).
 * @param name - the candidate
 */
export function isDns1123Subdomain(name: string): boolean {
  return name.length <= MAX_OBJECT_NAME_LENGTH && DNS1123_SUBDOMAIN.test(name);
}

/**
 * The CIDR part of a block name: the **masked** CIDR with `.` and `/` replaced by `-`
 * (`172.16.3.5/27` → `172-16-3-0-27`).
 * @param cidr - an IPv4 CIDR
 * @throws {@link InvalidCidrError}
 */
export function cidrName(cidr: string): string {
  const parsed = parseCidr(cidr, 'cidr');
  return formatCidr(parsed.network, parsed.prefix).replace(/[./]/g, '-');
}

/**
 * The IPAMBlock object name `<id>-<cidrName>`, e.g. `4100-172-16-3-0-27`.
 * @param id - the pool ID (`spec.id`)
 * @param cidr - the block CIDR (`spec.cidr`)
 * @throws {@link InvalidCidrError}
 */
export function blockName(id: number, cidr: string): string {
  return `${id}-${cidrName(cidr)}`;
}

/**
 * The block string key used inside handles: `<id>-<cidr as written>`, e.g. `4100-172.16.3.0/27`.
 * @param id - the pool ID (`spec.id`)
 * @param cidr - the block CIDR (`spec.cidr`), verbatim
 */
export function blockKey(id: number, cidr: string): string {
  return `${id}-${cidr}`;
}

/**
 * The block name of a block string key: split at the first `-` into ID and CIDR, then
 * `<id>-<cidrName(CIDR)>`: `4100-172.16.3.0/27` → `4100-172-16-3-0-27`.
 * @param key - a block string key
 * @throws {@link InvalidArgumentError} when the key has no `<id>-` prefix
 * @throws {@link InvalidCidrError} when the CIDR part is malformed
 */
export function blockNameFromKey(key: string): string {
  const dash = key.indexOf('-');
  const id = dash < 0 ? '' : key.slice(0, dash);
  if (!/^[0-9]+$/.test(id)) {
    throw new InvalidArgumentError('block key', `${JSON.stringify(key)} is not of the form <id>-<cidr> (e.g. 4100-172.16.3.0/27)`);
  }
  return `${id}-${cidrName(key.slice(dash + 1))}`;
}

/** A pod handle ID and whether it differs from the plain triple. */
export interface PodHandleId {
  /** The handle ID: a valid object name. */
  readonly id: string;
  /**
   * True when `id` is not `<namespace>-<pod>-<containerID>`: the triple was longer than 253 characters or
   * the container ID contained characters not allowed in object names. The caller should then record the full
   * triple elsewhere (e.g. an annotation), because the ID alone no longer carries it.
   */
  readonly shortened: boolean;
}

/**
 * The handle ID of a pod sandbox, `<namespace>-<pod>-<containerID>` [compat].
 *
 * Container IDs are lower-cased: runtimes print them as hex, where case carries no meaning, and object names
 * must be lower-case. When the result would not be a valid object name (longer than 253 characters, or the
 * container ID has other characters), the ID becomes `<namespace>-<pod>-` (the pod part cut so that the whole
 * fits) followed by 32 hex characters of SHA-256 over the exact triple, and `shortened` is true. Equal inputs
 * always give equal IDs.
 *
 * @param namespace - pod namespace (RFC 1123 label)
 * @param pod - pod name (RFC 1123 subdomain)
 * @param containerId - the infra (sandbox) container ID
 * @throws {@link InvalidArgumentError} when the namespace or pod name is not valid or the container ID is empty
 */
export function podHandleId(namespace: string, pod: string, containerId: string): PodHandleId {
  if (!isDns1123Label(namespace)) {
    throw new InvalidArgumentError('namespace', `${JSON.stringify(namespace)} is not a valid namespace name`);
  }
  if (!isDns1123Subdomain(pod)) {
    throw new InvalidArgumentError('pod', `${JSON.stringify(pod)} is not a valid pod name`);
  }
  if (containerId === '') throw new InvalidArgumentError('containerID', 'is empty; pass the sandbox container ID');

  const plain = `${namespace}-${pod}-${containerId.toLowerCase()}`;
  if (isDns1123Subdomain(plain)) return { id: plain, shortened: false };

  const hash = createHash('sha256').update(`${namespace}/${pod}/${containerId}`).digest('hex').slice(0, HANDLE_HASH_LENGTH);
  // Trailing dots would form an empty or '-'-led DNS label next to the separator, so they go too.
  const head = `${namespace}-${pod}`.slice(0, MAX_OBJECT_NAME_LENGTH - HANDLE_HASH_LENGTH - 1).replace(/[.-]+$/, '');
  return { id: `${head}-${hash}`, shortened: true };
}

/** The identity of a pod as the consistency check and recovery see it. */
export interface PodRef {
  /** Namespace. */
  readonly namespace: string;
  /** Pod name. */
  readonly name: string;
  /** The current sandbox container ID, when known. */
  readonly containerID?: string | undefined;
}

/**
 * Whether a handle ID belongs to a pod. With a container ID the handle must equal {@link podHandleId};
 * without one it must be `<namespace>-<pod>-` followed by a single run of `[a-z0-9]` (a container ID or a
 * hash), so `default-web-1-…` does not match pod `web`. Handles shortened by cutting the
 * pod name are matched only through the container ID.
 * @param handleId - the handle ID
 * @param pod - the pod
 */
export function handleMatchesPod(handleId: string, pod: PodRef): boolean {
  if (pod.containerID !== undefined && pod.containerID !== '') {
    if (!isDns1123Label(pod.namespace) || !isDns1123Subdomain(pod.name)) return false;
    return podHandleId(pod.namespace, pod.name, pod.containerID).id === handleId;
  }
  const prefix = `${pod.namespace}-${pod.name}-`;
  return handleId.startsWith(prefix) && /^[a-z0-9]+$/.test(handleId.slice(prefix.length));
}
