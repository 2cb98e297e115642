/**
 * The rule for `vethPrefix`, apart from the name derivation: config validation runs on every call and must
 * not load node:crypto, which costs milliseconds of start-up; only DEL's own cleanup needs the hash.
 */

/** prefix + 11 hex characters must fit in IFNAMSIZ-1 = 15. */
export const MAX_VETH_PREFIX = 4;

export function validVethPrefix(prefix: string): boolean {
  return prefix.length <= MAX_VETH_PREFIX && /^[A-Za-z0-9_.-]*$/.test(prefix);
}
