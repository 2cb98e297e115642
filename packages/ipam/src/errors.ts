/**
 * Typed errors of `@hostnic/ipam`.
 *
 * Every error derives from {@link IpamError} and carries a stable {@link IpamErrorCode} in `code`, so callers
 * branch on `err.code` (or `instanceof`) instead of parsing messages. Where the Go implementation had an
 * error text that operators grep for, the message starts with that text verbatim and adds detail after it.
 *
 * @packageDocumentation
 */

/**
 * The stable codes of {@link IpamError}. The values are part of the public API: they never change meaning.
 */
export const IpamErrorCode = {
  /** An IPv4 address could not be parsed (or was IPv6). */
  InvalidAddress: 'InvalidAddress',
  /** A CIDR could not be parsed (or was IPv6). */
  InvalidCidr: 'InvalidCidr',
  /** An address lies outside the block or pool it was looked up in. */
  AddressOutOfRange: 'AddressOutOfRange',
  /** A block size is missing its bounds: it must satisfy pool prefix ≤ blockSize ≤ 32. */
  InvalidBlockSize: 'InvalidBlockSize',
  /** An IPPool or VxNetPool spec field is invalid. */
  InvalidPoolSpec: 'InvalidPoolSpec',
  /** `customReservedIPCount` is outside the range the vxnet's DHCP range allows. */
  InvalidCustomReservedIPCount: 'InvalidCustomReservedIPCount',
  /** The vxnet is not bound to a VPC router. */
  VxnetNotInVpc: 'VxnetNotInVpc',
  /** The vxnet has no DHCP range. */
  VxnetDhcpDisabled: 'VxnetDhcpDisabled',
  /** The vxnet data from the IaaS is unusable (bad addresses, a DHCP range too small for pods). */
  InvalidVxnet: 'InvalidVxnet',
  /** The pool type cannot be allocated from (e.g. `calico`, or an unknown type). */
  UnknownPoolType: 'UnknownPoolType',
  /** The pool is disabled (being deleted) or otherwise not usable. */
  NoQualifiedPool: 'NoQualifiedPool',
  /** The namespace's entry of the mapping ConfigMap was refused and nothing stands in for it. */
  MappingRefused: 'MappingRefused',
  /** No free address is left in the pool or blocks that were searched. */
  PoolExhausted: 'PoolExhausted',
  /** A requested fixed IP is already allocated to another handle. */
  FixedIpTaken: 'FixedIpTaken',
  /** A requested fixed IP is reserved (outside the pool range, kept for the IaaS). */
  FixedIpReserved: 'FixedIpReserved',
  /** A requested fixed IP was released recently and its cooldown has not passed. */
  FixedIpCoolingDown: 'FixedIpCoolingDown',
  /** A handle decrement named a block the handle holds nothing in. */
  HandleNotLinked: 'HandleNotLinked',
  /** A handle decrement would make the handle's count negative. */
  HandleUnderflow: 'HandleUnderflow',
  /** The `hostnic-ipam-config` ConfigMap is invalid. */
  InvalidConfig: 'InvalidConfig',
  /** The pod's namespace maps to no block and no `Default` pool applies. */
  NoPoolOrBlock: 'NoPoolOrBlock',
  /** Auto mode found no unused block to give to a namespace. */
  NoSubnetForNamespace: 'NoSubnetForNamespace',
  /** The VxNetPool `v-pool` is not ready yet. */
  VxNetPoolNotReady: 'VxNetPoolNotReady',
  /** An IPAMBlock spec is malformed so that an operation cannot proceed safely. */
  InvalidBlock: 'InvalidBlock',
  /** A function argument is invalid (empty handle, negative count, bad date, ...). */
  InvalidArgument: 'InvalidArgument',
  /** Every allowed compare-and-swap attempt lost to a concurrent writer. */
  MaxRetries: 'MaxRetries',
  /** A store write carried a version that is no longer current (compare-and-swap lost). */
  Conflict: 'Conflict',
  /** A store create named an object that exists already. */
  AlreadyExists: 'AlreadyExists',
  /** A store update or delete named an object that does not exist. */
  NotFound: 'NotFound',
  /** The store could not be reached or failed transiently (network, 5xx, lock timeout); retrying may help. */
  StoreUnavailable: 'StoreUnavailable',
  /** The store refused a request for a reason retrying will not fix (permissions, validation). */
  StoreRejected: 'StoreRejected',
  /** The store's data was written by an incompatible version (e.g. a newer lmdb schema). */
  StoreIncompatible: 'StoreIncompatible',
} as const;

/** One of the values of {@link IpamErrorCode}. */
export type IpamErrorCode = (typeof IpamErrorCode)[keyof typeof IpamErrorCode];

/**
 * Base class of every error thrown by `@hostnic/ipam`. Catch it to handle the whole family.
 */
export abstract class IpamError extends Error {
  /** The stable kind of this error. */
  abstract readonly code: IpamErrorCode;
  override name = 'IpamError';
}

/** An IPv4 address could not be parsed; IPv6 addresses are rejected here too (IPv4 only). */
export class InvalidAddressError extends IpamError {
  readonly code = IpamErrorCode.InvalidAddress;
  override name = 'InvalidAddressError';
  /** The offending text. */
  readonly value: string;
  /** Where the value came from (a field path such as `spec.rangeStart`), when known. */
  readonly field: string | undefined;
  /**
   * @param value - the text that failed to parse
   * @param field - the field or argument it came from
   */
  constructor(value: string, field?: string) {
    const where = field === undefined ? '' : ` in ${field}`;
    const why = value.includes(':')
      ? 'is an IPv6 address; hostnic IPAM supports IPv4 only'
      : 'is not an IPv4 address; write it in dotted decimal like 172.16.3.2';
    super(`invalid address ${JSON.stringify(value)}${where}: it ${why}`);
    this.value = value;
    this.field = field;
  }
}

/** A CIDR could not be parsed; IPv6 CIDRs are rejected (IPv4 only). */
export class InvalidCidrError extends IpamError {
  readonly code = IpamErrorCode.InvalidCidr;
  override name = 'InvalidCidrError';
  /** The offending text. */
  readonly value: string;
  /** Where the value came from, when known. */
  readonly field: string | undefined;
  /**
   * @param value - the text that failed to parse
   * @param field - the field or argument it came from
   * @param problem - what is wrong, when more specific than "not a CIDR"
   */
  constructor(value: string, field?: string, problem?: string) {
    const where = field === undefined ? '' : ` in ${field}`;
    const why =
      problem ??
      (value.includes(':')
        ? 'it is IPv6; hostnic IPAM supports IPv4 only'
        : 'write it as an IPv4 network like 172.16.3.0/24');
    super(`invalid CIDR ${JSON.stringify(value)}${where}: ${why}`);
    this.value = value;
    this.field = field;
  }
}

/** An address lies outside the block or pool in which it was looked up. */
export class AddressOutOfRangeError extends IpamError {
  readonly code = IpamErrorCode.AddressOutOfRange;
  override name = 'AddressOutOfRangeError';
  /** The address, dotted decimal. */
  readonly address: string;
  /** The block or pool CIDR it is not in. */
  readonly cidr: string;
  /**
   * @param address - the address looked up
   * @param cidr - the block or pool CIDR searched
   */
  constructor(address: string, cidr: string) {
    super(`address ${address} is not in ${cidr}: pick an address inside that range or another block`);
    this.address = address;
    this.cidr = cidr;
  }
}

/** A block size is invalid for the pool. */
export class InvalidBlockSizeError extends IpamError {
  readonly code = IpamErrorCode.InvalidBlockSize;
  override name = 'InvalidBlockSizeError';
  /** The field holding the block size, e.g. `spec.blockSize`. */
  readonly field: string;
  /** The value given. */
  readonly value: unknown;
  /**
   * @param field - the field holding the block size
   * @param value - the value given
   * @param poolPrefix - the pool CIDR's prefix length, when known
   */
  constructor(field: string, value: unknown, poolPrefix?: number) {
    const lower = poolPrefix === undefined ? "the pool's prefix length" : `${poolPrefix} (the pool's prefix length)`;
    super(
      `${field} ${JSON.stringify(value) ?? String(value)} is invalid: it must be an integer from ${lower} to 32; ` +
        `26 to 30 is usual, 26 is the default`,
    );
    this.field = field;
    this.value = value;
  }
}

/** A field of an IPPool or VxNetPool spec is invalid. */
export class InvalidPoolSpecError extends IpamError {
  readonly code = IpamErrorCode.InvalidPoolSpec;
  override name = 'InvalidPoolSpecError';
  /** The field at fault, e.g. `spec.rangeEnd`. */
  readonly field: string;
  /**
   * @param field - the field at fault
   * @param problem - what is wrong and how to fix it
   */
  constructor(field: string, problem: string) {
    super(`${field} ${problem}`);
    this.field = field;
  }
}

/** `customReservedIPCount` lies outside `[0, maxCustom]` for a VLAN vxnet. Message text kept from Go. */
export class InvalidCustomReservedCountError extends IpamError {
  readonly code = IpamErrorCode.InvalidCustomReservedIPCount;
  override name = 'InvalidCustomReservedCountError';
  /** The count given. */
  readonly value: number;
  /** The largest count allowed for this vxnet. */
  readonly max: number;
  /**
   * @param value - the count given
   * @param max - the largest count allowed
   */
  constructor(value: number, max: number) {
    super(`invalid customReservedIPCount ${value} config in vxnetpool spec, should in range 0~${max}`);
    this.value = value;
    this.max = max;
  }
}

/** The vxnet is not bound to a VPC router. Message text kept from Go. */
export class VxnetNotInVpcError extends IpamError {
  readonly code = IpamErrorCode.VxnetNotInVpc;
  override name = 'VxnetNotInVpcError';
  /** The vxnet ID. */
  readonly vxnetId: string;
  /** @param vxnetId - the vxnet ID */
  constructor(vxnetId: string) {
    super(`vxnet ${vxnetId} should bind to vpc`);
    this.vxnetId = vxnetId;
  }
}

/** The vxnet has no DHCP range. Message text kept from Go. */
export class VxnetDhcpDisabledError extends IpamError {
  readonly code = IpamErrorCode.VxnetDhcpDisabled;
  override name = 'VxnetDhcpDisabledError';
  /** The vxnet ID. */
  readonly vxnetId: string;
  /** @param vxnetId - the vxnet ID */
  constructor(vxnetId: string) {
    super(`vxnet ${vxnetId} should open DHCP`);
    this.vxnetId = vxnetId;
  }
}

/** The IaaS data of a vxnet cannot yield a pod range. */
export class InvalidVxnetError extends IpamError {
  readonly code = IpamErrorCode.InvalidVxnet;
  override name = 'InvalidVxnetError';
  /** The vxnet ID. */
  readonly vxnetId: string;
  /**
   * @param vxnetId - the vxnet ID
   * @param problem - what is wrong and how to fix it
   */
  constructor(vxnetId: string, problem: string) {
    super(`vxnet ${vxnetId}: ${problem}`);
    this.vxnetId = vxnetId;
  }
}

/** The pool's type cannot be allocated from. Message starts with the Go text `unknow ippool type`. */
export class UnknownPoolTypeError extends IpamError {
  readonly code = IpamErrorCode.UnknownPoolType;
  override name = 'UnknownPoolTypeError';
  /** The pool's name. */
  readonly pool: string;
  /** The pool's `spec.type`. */
  readonly poolType: string;
  /**
   * @param pool - the pool's name
   * @param poolType - the pool's type
   */
  constructor(pool: string, poolType: string) {
    super(
      `unknow ippool type: pool ${pool} has spec.type ${JSON.stringify(poolType)}; ` +
        `only vlan, porter, pod and local pools can be allocated from`,
    );
    this.pool = pool;
    this.poolType = poolType;
  }
}

/** The pool is disabled or otherwise unusable. Message starts with the Go text `cannot find a qualified ippool`. */
export class NoQualifiedPoolError extends IpamError {
  readonly code = IpamErrorCode.NoQualifiedPool;
  override name = 'NoQualifiedPoolError';
  /** The pool's name. */
  readonly pool: string;
  /**
   * @param pool - the pool's name
   * @param reason - why it is not usable
   */
  constructor(pool: string, reason: string) {
    super(`cannot find a qualified ippool: pool ${pool} ${reason}`);
    this.pool = pool;
  }
}

/** No free address is left where the allocator looked. */
export class PoolExhaustedError extends IpamError {
  readonly code = IpamErrorCode.PoolExhausted;
  override name = 'PoolExhaustedError';
  /** The pools or blocks that were searched. */
  readonly searched: readonly string[];
  /**
   * @param searched - names of the pools or blocks that were searched
   * @param detail - extra context, e.g. how many addresses are cooling down
   */
  constructor(searched: readonly string[], detail?: string) {
    const extra = detail === undefined ? '' : `; ${detail}`;
    super(
      `no free address in [${searched.join(' ')}]${extra}: ` +
        `map more subnets to the namespace or add a vxnet to the VxNetPool`,
    );
    this.searched = [...searched];
  }
}

/** A requested fixed IP is already allocated to another handle. */
export class FixedIpTakenError extends IpamError {
  readonly code = IpamErrorCode.FixedIpTaken;
  override name = 'FixedIpTakenError';
  /** The requested address. */
  readonly address: string;
  /** The block it lies in. */
  readonly block: string;
  /** The handle that holds it, when known. */
  readonly owner: string | undefined;
  /**
   * @param address - the requested address
   * @param block - the block (name or CIDR) it lies in
   * @param owner - the handle holding it
   */
  constructor(address: string, block: string, owner: string | undefined) {
    const who = owner === undefined ? 'another owner' : `handle ${owner}`;
    super(
      `fixed IP ${address} in block ${block} is already allocated to ${who}: ` +
        `release it first or request another address`,
    );
    this.address = address;
    this.block = block;
    this.owner = owner;
  }
}

/** A requested fixed IP is reserved in its block (outside the pool's range). */
export class FixedIpReservedError extends IpamError {
  readonly code = IpamErrorCode.FixedIpReserved;
  override name = 'FixedIpReservedError';
  /** The requested address. */
  readonly address: string;
  /** The block it lies in. */
  readonly block: string;
  /**
   * @param address - the requested address
   * @param block - the block (name or CIDR) it lies in
   */
  constructor(address: string, block: string) {
    super(
      `fixed IP ${address} in block ${block} is reserved (outside the pool's rangeStart..rangeEnd, kept for ` +
        `the IaaS): request an address inside the pool range`,
    );
    this.address = address;
    this.block = block;
  }
}

/** A requested fixed IP was released recently; it may be reused only after the cooldown. */
export class FixedIpCoolingDownError extends IpamError {
  readonly code = IpamErrorCode.FixedIpCoolingDown;
  override name = 'FixedIpCoolingDownError';
  /** The requested address. */
  readonly address: string;
  /** When the address becomes available. */
  readonly until: Date;
  /**
   * @param address - the requested address
   * @param until - when the cooldown ends
   */
  constructor(address: string, until: Date) {
    super(
      `fixed IP ${address} is cooling down after its release until ${until.toISOString()}: retry after ` +
        `that time, or allow reuse of cooling addresses explicitly`,
    );
    this.address = address;
    this.until = until;
  }
}

/** A handle decrement named a block the handle holds nothing in. Message text kept from Go. */
export class HandleNotLinkedError extends IpamError {
  readonly code = IpamErrorCode.HandleNotLinked;
  override name = 'HandleNotLinkedError';
  /** The handle ID. */
  readonly handleId: string;
  /** The block key. */
  readonly blockKey: string;
  /**
   * @param handleId - the handle ID
   * @param blockKey - the block string key
   * @param amount - the decrement requested
   */
  constructor(handleId: string, blockKey: string, amount: number) {
    super(`Tried to decrement block ${blockKey} by ${amount} but it isn't linked to handle ${handleId}`);
    this.handleId = handleId;
    this.blockKey = blockKey;
  }
}

/** A handle decrement would go below zero. Message text kept from Go. */
export class HandleUnderflowError extends IpamError {
  readonly code = IpamErrorCode.HandleUnderflow;
  override name = 'HandleUnderflowError';
  /** The handle ID. */
  readonly handleId: string;
  /** The block key. */
  readonly blockKey: string;
  /** The count the handle holds on that block. */
  readonly current: number;
  /**
   * @param handleId - the handle ID
   * @param blockKey - the block string key
   * @param amount - the decrement requested
   * @param current - the count held
   */
  constructor(handleId: string, blockKey: string, amount: number, current: number) {
    super(
      `Tried to decrement block ${blockKey} by ${amount} but it only has ${current} addresses on handle ${handleId}`,
    );
    this.handleId = handleId;
    this.blockKey = blockKey;
    this.current = current;
  }
}

/** One problem found in the `hostnic-ipam-config` ConfigMap. */
export interface ConfigProblem {
  /** The ConfigMap data key (`ipam`, `subnet-auto-assign`) or the mapping key inside `ipam` at fault. */
  readonly key: string;
  /** What is wrong and what to do. */
  readonly message: string;
}

/** The `hostnic-ipam-config` ConfigMap is invalid; `problems` lists every problem found. */
export class InvalidConfigError extends IpamError {
  readonly code = IpamErrorCode.InvalidConfig;
  override name = 'InvalidConfigError';
  /** Every problem found, in the order found. Never empty. */
  readonly problems: readonly ConfigProblem[];
  /** The key of the first problem. */
  readonly key: string;
  /** @param problems - at least one problem */
  constructor(problems: readonly ConfigProblem[]) {
    super(problems.map((p) => p.message).join('; '));
    this.problems = [...problems];
    this.key = problems[0]?.key ?? '';
  }
}

/**
 * The namespace's entry in `hostnic-ipam-config` was refused (it clashes with another, or is malformed) and it
 * had no last good entry to keep: its pods get no address until the ConfigMap is fixed, rather than addresses
 * from pools the namespace was never meant to use.
 */
export class MappingRefusedError extends IpamError {
  readonly code = IpamErrorCode.MappingRefused;
  override name = 'MappingRefusedError';
  /** The pod's namespace. */
  readonly namespace: string;
  /** Why its entry is refused. */
  readonly reason: string;
  constructor(namespace: string, reason: string) {
    super(`namespace ${namespace}: its entry in ConfigMap kube-system/hostnic-ipam-config is refused (${reason}); fix the ConfigMap`);
    this.namespace = namespace;
    this.reason = reason;
  }
}

/** The namespace has no blocks and no `Default` pool applies. Message starts with the Go text. */
export class NoPoolOrBlockError extends IpamError {
  readonly code = IpamErrorCode.NoPoolOrBlock;
  override name = 'NoPoolOrBlockError';
  /** The pod's namespace. */
  readonly namespace: string;
  /**
   * @param namespace - the pod's namespace
   * @param mode - the mapping mode in force
   */
  constructor(namespace: string, mode: 'auto' | 'manual') {
    const fix =
      mode === 'auto'
        ? 'in auto mode wait for the controller to map a subnet to the namespace'
        : 'map subnets to the namespace or set Default pools in ConfigMap kube-system/hostnic-ipam-config';
    super(`pool or block not found for namespace ${namespace}: ${fix}`);
    this.namespace = namespace;
  }
}

/** Auto mode found no unused block. Message starts with the Go text `no free subnet was found`. */
export class NoSubnetForNamespaceError extends IpamError {
  readonly code = IpamErrorCode.NoSubnetForNamespace;
  override name = 'NoSubnetForNamespaceError';
  /** The namespace that needed a block. */
  readonly namespace: string;
  /** @param namespace - the namespace that needed a block */
  constructor(namespace: string) {
    super(
      `no free subnet was found for namespace ${namespace}: every block is mapped already; ` +
        `add a vxnet to VxNetPool v-pool or free blocks in ConfigMap kube-system/hostnic-ipam-config`,
    );
    this.namespace = namespace;
  }
}

/** The VxNetPool is not ready. Message starts with the Go text. */
export class VxNetPoolNotReadyError extends IpamError {
  readonly code = IpamErrorCode.VxNetPoolNotReady;
  override name = 'VxNetPoolNotReadyError';
  /** @param name - the VxNetPool's name */
  constructor(name: string) {
    super(`waiting for VxNetPool ${name} to be ready`);
  }
}

/** One invariant violation found in an IPAMBlock spec. */
export interface BlockProblem {
  /** The kind of violation. */
  readonly kind: BlockProblemKind;
  /** The ordinal concerned, when there is one. */
  readonly ordinal?: number;
  /** A readable description. */
  readonly message: string;
}

/** Kinds of {@link BlockProblem}. */
export type BlockProblemKind =
  | 'BadCidr'
  | 'AllocationsLength'
  | 'BadFreeOrdinal'
  | 'DuplicateFreeOrdinal'
  | 'FreeButAllocated'
  | 'LostOrdinal'
  | 'BadAttributeIndex'
  | 'BadReleasedAt';

/** An IPAMBlock spec is malformed in a way that makes the requested operation unsafe. */
export class InvalidBlockError extends IpamError {
  readonly code = IpamErrorCode.InvalidBlock;
  override name = 'InvalidBlockError';
  /** The block's CIDR (as written). */
  readonly cidr: string;
  /** The problems found. */
  readonly problems: readonly BlockProblem[];
  /**
   * @param cidr - the block's CIDR
   * @param problems - at least one problem
   */
  constructor(cidr: string, problems: readonly BlockProblem[]) {
    super(
      `block ${cidr} is inconsistent (${problems.map((p) => p.message).join('; ')}): ` +
        `run the IPAM consistency check and apply its repair plan`,
    );
    this.cidr = cidr;
    this.problems = [...problems];
  }
}

/** A function argument is invalid. */
export class InvalidArgumentError extends IpamError {
  readonly code = IpamErrorCode.InvalidArgument;
  override name = 'InvalidArgumentError';
  /** The argument or field at fault. */
  readonly field: string;
  /**
   * @param field - the argument or field at fault
   * @param problem - what is wrong and what is expected
   */
  constructor(field: string, problem: string) {
    super(`${field} ${problem}`);
    this.field = field;
  }
}

/**
 * Every allowed attempt to write a block lost to concurrent writers. The message starts with the Go text
 * `Max retries hit - excessive concurrent IPAM requests`.
 */
export class MaxRetriesError extends IpamError {
  readonly code = IpamErrorCode.MaxRetries;
  override name = 'MaxRetriesError';
  /** How many compare-and-swap writes were tried. */
  readonly attempts: number;
  /** The handle the operation was for. */
  readonly handleId: string;
  /** The object whose writes kept conflicting (a block or handle name). */
  readonly object: string;
  /**
   * @param attempts - the writes tried
   * @param handleId - the handle the operation was for
   * @param object - the block or handle whose writes conflicted
   */
  constructor(attempts: number, handleId: string, object: string) {
    super(
      `Max retries hit - excessive concurrent IPAM requests: ${attempts} writes of ${object} for handle ${handleId} ` +
        `lost to concurrent updates; retry later, or spread the namespace over more blocks`,
    );
    this.attempts = attempts;
    this.handleId = handleId;
    this.object = object;
  }
}
