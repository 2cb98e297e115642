/**
 * Interface addresses with replace/remove semantics.
 *
 * @packageDocumentation
 */

import { checkPrefix } from './addr-util.ts';
import { InvalidArgumentError } from './errors.ts';
import type { BatchOp } from './batch.ts';
import { applyBatchOrThrow, op } from './batch.ts';
import { validateIfName } from './names.ts';
import type { LinkOptions } from './links.ts';

/** An address to put on (or take off) a link. */
export interface AddressSpec {
  /** `a.b.c.d/n` (a bare address means /32). */
  readonly cidr: string;
  readonly dev: string;
  /** Broadcast address, or `+` to derive it; default none (a /32 has none anyway). */
  readonly broadcast?: string | undefined;
  readonly scope?: 'global' | 'link' | 'host' | undefined;
  /** Seconds the address stays valid (default forever): a DHCP lease's time, so it lapses unless renewed. */
  readonly validLft?: number | undefined;
  /** Seconds it stays preferred (default: as valid). */
  readonly preferredLft?: number | undefined;
}

function lifetime(field: string, value: number): string {
  if (!Number.isInteger(value) || value < 0 || value >= 0xffffffff) {
    throw new InvalidArgumentError(field, String(value), 'must be a whole number of seconds below 2^32-1');
  }
  return String(value);
}

/** `addr replace <cidr> dev <dev> ...`: adds, or leaves an identical address as it is. */
export function addrReplaceOp(spec: AddressSpec): BatchOp {
  const args = ['addr', 'replace', checkPrefix('address', spec.cidr), 'dev', validateIfName(spec.dev)];
  if (spec.broadcast !== undefined) args.push('broadcast', spec.broadcast);
  if (spec.scope !== undefined) args.push('scope', spec.scope);
  if (spec.validLft !== undefined) {
    args.push('valid_lft', lifetime('validLft', spec.validLft), 'preferred_lft', lifetime('preferredLft', spec.preferredLft ?? spec.validLft));
  } else if (spec.preferredLft !== undefined) {
    throw new InvalidArgumentError('preferredLft', String(spec.preferredLft), 'needs validLft as well');
  }
  return op(args);
}

/** `addr del <cidr> dev <dev>`; a missing address or device counts as removed. */
export function addrDelOp(spec: Pick<AddressSpec, 'cidr' | 'dev'>): BatchOp {
  return op(['addr', 'del', checkPrefix('address', spec.cidr), 'dev', validateIfName(spec.dev)], [
    'EADDRNOTAVAIL',
    'ENODEV',
  ]);
}

/** Makes sure the address is on the link. */
export async function ensureAddress(spec: AddressSpec, options?: LinkOptions): Promise<void> {
  await applyBatchOrThrow([addrReplaceOp(spec)], options);
}

/** Makes sure the address is not on the link. */
export async function removeAddress(spec: Pick<AddressSpec, 'cidr' | 'dev'>, options?: LinkOptions): Promise<void> {
  await applyBatchOrThrow([addrDelOp(spec)], options);
}
