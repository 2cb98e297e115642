/**
 * Names of a node's address claim: the IPAMHandle `claim.<node>` owns the addresses a node holds ready for its
 * next pods (docs/ipam.md#node-claims). A pod handle (`<namespace>-<pod>-<containerID>`) can never take this
 * form: a namespace has no dot, so a pod handle's text before its first dot always holds a `-`.
 *
 * @packageDocumentation
 */
import { InvalidArgumentError } from '../errors.ts';
import { isDns1123Subdomain } from '../naming.ts';

/** Prefix of claim handles. */
export const CLAIM_HANDLE_PREFIX = 'claim.';
/** `secondary.note` of a claimed address that no pod uses (as far as the cluster was last told). */
export const CLAIM_NOTE = 'node claim';
/** Secondary key of a claimed address assigned to a pod: the pod's own handle ID. */
export const CLAIM_POD_HANDLE_KEY = 'podHandle';

/**
 * The claim handle of a node.
 * @param node - the node name
 * @throws {@link InvalidArgumentError} when `claim.<node>` is not a valid object name
 */
export function claimHandleId(node: string): string {
  const id = `${CLAIM_HANDLE_PREFIX}${node}`;
  if (node === '' || !isDns1123Subdomain(id)) {
    throw new InvalidArgumentError('node', `${JSON.stringify(node)} gives no valid claim handle name (claim.<node> must be a lower-case RFC 1123 name of at most 253 characters)`);
  }
  return id;
}

/** The node of a claim handle, or undefined when the handle is not a claim. */
export function claimNodeOf(handleId: string | undefined): string | undefined {
  if (handleId === undefined || !handleId.startsWith(CLAIM_HANDLE_PREFIX)) return undefined;
  const node = handleId.slice(CLAIM_HANDLE_PREFIX.length);
  return node === '' ? undefined : node;
}
