/** The fixed-IP request of a pod: annotation `cni.projectcalico.org/ipAddrs` [compat]. */

import { isIPv4 } from 'node:net';

export const FIXED_IPS_ANNOTATION = 'cni.projectcalico.org/ipAddrs';

export class BadAnnotationError extends Error {
  override name = 'BadAnnotationError';
}

/** Absent or "" or [] → none; otherwise a JSON array of IPv4 strings. */
export function fixedIpsOf(annotations: Readonly<Record<string, string>> | undefined): string[] {
  const value = annotations?.[FIXED_IPS_ANNOTATION];
  if (value === undefined || value.trim() === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (e) {
    throw new BadAnnotationError(`failed to parse '${value}' as JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!Array.isArray(parsed)) throw new BadAnnotationError(`failed to parse '${value}' as JSON: not an array`);
  return parsed.map((ip: unknown) => {
    if (typeof ip !== 'string' || !isIPv4(ip)) throw new BadAnnotationError(`ip[${String(ip)}] failed to parse err`);
    return ip;
  });
}
