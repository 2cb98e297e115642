/**
 * Validation of IPPool and VxNetPool specs, for admission webhooks and the controller.
 * Each function returns every problem found instead of stopping at the first.
 *
 * @packageDocumentation
 */
import type { Ipv4Cidr } from './address.ts';
import { cidrsOverlap, formatCidr, parseCidr, tryParseIPv4 } from './address.ts';
import { resolveBlockSize } from './blocks.ts';
import type { IpamError } from './errors.ts';
import { InvalidAddressError, InvalidBlockSizeError, InvalidCidrError, InvalidPoolSpecError } from './errors.ts';
import { isDns1123Subdomain } from './naming.ts';
import { isKnownPoolType, poolIdOf, PoolType } from './pool.ts';
import type { IPPool, IPPoolSpec, VxNetPoolSpec } from './types.ts';

function rangeBound(
  text: string | undefined,
  field: string,
  cidr: Ipv4Cidr | undefined,
  problems: IpamError[],
): number | undefined {
  if (text === undefined || text === '') return undefined;
  const value = tryParseIPv4(text);
  if (value === undefined) {
    problems.push(new InvalidAddressError(text, field));
    return undefined;
  }
  if (cidr !== undefined && (value < cidr.network || value >= cidr.network + cidr.size)) {
    problems.push(new InvalidPoolSpecError(field, `${text} is outside spec.cidr ${formatCidr(cidr.network, cidr.prefix)}`));
  }
  return value;
}

/**
 * Checks an IPPool spec: known `type`; `cidr` an IPv4 network with no host bits set and shorter than /32;
 * `blockSize` (default 26) from the CIDR's prefix to 32; `rangeStart`/`rangeEnd` IPv4 addresses inside the CIDR
 * with start ≤ end; for `vlan` pools a `vlanConfig.vlanId` from 0 to 4096.
 * @param spec - the spec
 * @returns every problem found, each naming its field; empty when valid
 */
export function validateIPPoolSpec(spec: IPPoolSpec): IpamError[] {
  const problems: IpamError[] = [];
  if (!isKnownPoolType(spec.type)) {
    problems.push(
      new InvalidPoolSpecError('spec.type', `${JSON.stringify(spec.type)} is not a pool type; use local (what hostnic creates), vlan, porter, pod or calico`),
    );
  }
  let cidr: Ipv4Cidr | undefined;
  try {
    cidr = parseCidr(spec.cidr, 'spec.cidr');
  } catch (error) {
    problems.push(error as InvalidCidrError);
  }
  if (cidr !== undefined) {
    if (cidr.address !== cidr.network) {
      problems.push(
        new InvalidCidrError(spec.cidr, 'spec.cidr', `host bits are set; write the network address ${formatCidr(cidr.network, cidr.prefix)}`),
      );
    }
    if (cidr.prefix === 32) {
      problems.push(new InvalidCidrError(spec.cidr, 'spec.cidr', 'a /32 pool has no room for pods; use the vxnet network'));
    }
    try {
      resolveBlockSize(spec.blockSize, spec.cidr);
    } catch (error) {
      problems.push(error as InvalidBlockSizeError);
    }
  }
  const start = rangeBound(spec.rangeStart, 'spec.rangeStart', cidr, problems);
  const end = rangeBound(spec.rangeEnd, 'spec.rangeEnd', cidr, problems);
  if (start !== undefined && end !== undefined && start > end) {
    problems.push(new InvalidPoolSpecError('spec.rangeEnd', `${spec.rangeEnd} is below spec.rangeStart ${spec.rangeStart}`));
  }
  if (spec.type === PoolType.Vlan) {
    const vlanId = spec.vlanConfig.vlanId;
    if (!Number.isInteger(vlanId) || vlanId < 0 || vlanId > 4096) {
      problems.push(new InvalidPoolSpecError('spec.vlanConfig.vlanId', `${vlanId} must be an integer from 0 to 4096`));
    }
  }
  return problems;
}

/**
 * The pools with the same pool ID whose CIDR overlaps `candidate`'s (such a pair would hand out the same
 * address twice). Pools with malformed CIDRs are ignored.
 * @param candidate - the pool being admitted
 * @param pools - the existing pools
 * @returns the names of the overlapping pools (the candidate itself excluded by name)
 */
export function overlappingPools(candidate: IPPool, pools: readonly IPPool[]): string[] {
  let own: Ipv4Cidr;
  try {
    own = parseCidr(candidate.spec.cidr);
  } catch {
    return [];
  }
  const id = poolIdOf(candidate.spec);
  return pools
    .filter((pool) => {
      if (pool.metadata.name === candidate.metadata.name || poolIdOf(pool.spec) !== id) return false;
      try {
        return cidrsOverlap(own, parseCidr(pool.spec.cidr));
      } catch {
        return false;
      }
    })
    .map((pool) => pool.metadata.name);
}

/**
 * Checks a VxNetPool spec: at least one vxnet, names that are valid object names and unique; `blockSize`
 * (default 26) an integer from 1 to 32 (the vxnet prefix is checked when the pool is created);
 * `customReservedIPCount` an integer ≥ 0 when set.
 * @param spec - the spec
 * @returns every problem found, each naming its field; empty when valid
 */
export function validateVxNetPoolSpec(spec: VxNetPoolSpec): IpamError[] {
  const problems: IpamError[] = [];
  if (spec.vxnets.length === 0) {
    problems.push(new InvalidPoolSpecError('spec.vxnets', 'is empty; list the vxnet IDs pods should use'));
  }
  const seen = new Set<string>();
  spec.vxnets.forEach((vxnet, i) => {
    const field = `spec.vxnets[${i}].name`;
    if (!isDns1123Subdomain(vxnet.name)) {
      problems.push(new InvalidPoolSpecError(field, `${JSON.stringify(vxnet.name)} is not a vxnet ID like vxnet-abc1234`));
    } else if (seen.has(vxnet.name)) {
      problems.push(new InvalidPoolSpecError(field, `${vxnet.name} is listed twice; list each vxnet once`));
    }
    seen.add(vxnet.name);
  });
  const blockSize = spec.blockSize as number | undefined;
  if (blockSize !== undefined && (!Number.isInteger(blockSize) || blockSize < 1 || blockSize > 32)) {
    problems.push(new InvalidBlockSizeError('spec.blockSize', blockSize));
  }
  const custom = spec.customReservedIPCount;
  if (custom !== undefined && (!Number.isInteger(custom) || custom < 0)) {
    problems.push(new InvalidPoolSpecError('spec.customReservedIPCount', `${custom} must be an integer ≥ 0`));
  }
  return problems;
}
