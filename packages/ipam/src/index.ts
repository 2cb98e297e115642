/**
 * `@hostnic/ipam`: block IPAM for QingCloud VPC subnets — the pure, storage-agnostic core.
 *
 * Functions here work on plain CRD-shaped data, never perform I/O and never read a clock: time is passed in.
 * They return new objects and leave their inputs untouched, so a store can keep what it read and
 * compare-and-swap the result. Errors are {@link IpamError}s with a stable `code`.
 *
 * @packageDocumentation
 */

export type {
  AllocationAttribute,
  DNS,
  IPAMBlock,
  IPAMBlockSpec,
  IPAMHandle,
  IPAMHandleSpec,
  IPPool,
  IPPoolSpec,
  IPPoolStatus,
  ObjectMeta,
  PoolInfo,
  Route,
  VLANConfig,
  VxNetPool,
  VxNetPoolSpec,
  VxNetPoolStatus,
  VxNetRef,
} from './types.ts';
export {
  API_GROUP,
  API_VERSION,
  AttributeKey,
  CONFIG_KEY_AUTO_ASSIGN,
  CONFIG_KEY_IPAM,
  DEFAULT_MAPPING_KEY,
  FINALIZER_IPPOOL,
  IPAM_CONFIGMAP_NAME,
  IPAM_CONFIGMAP_NAMESPACE,
  Kind,
  LABEL_CONTROLLER,
  LABEL_POOL_DEFAULT,
  LABEL_POOL_ID,
  LABEL_POOL_NAME,
  LABEL_POOL_TYPE,
  RESERVED_HANDLE,
  RESERVED_NOTE,
  VXNET_POOL_NAME,
} from './types.ts';

export type { BlockProblem, BlockProblemKind, ConfigProblem } from './errors.ts';
export {
  AddressOutOfRangeError,
  FixedIpCoolingDownError,
  FixedIpReservedError,
  FixedIpTakenError,
  HandleNotLinkedError,
  HandleUnderflowError,
  InvalidAddressError,
  InvalidArgumentError,
  InvalidBlockError,
  InvalidBlockSizeError,
  InvalidCidrError,
  InvalidConfigError,
  InvalidCustomReservedCountError,
  InvalidPoolSpecError,
  InvalidVxnetError,
  IpamError,
  MaxRetriesError,
  IpamErrorCode,
  MappingRefusedError,
  NoPoolOrBlockError,
  NoQualifiedPoolError,
  NoSubnetForNamespaceError,
  PoolExhaustedError,
  UnknownPoolTypeError,
  VxnetDhcpDisabledError,
  VxnetNotInVpcError,
  VxNetPoolNotReadyError,
} from './errors.ts';

export type { Ipv4Cidr } from './address.ts';
export {
  cidrContains,
  cidrsOverlap,
  formatCidr,
  formatIPv4,
  isIPv4,
  normaliseCidr,
  ordinalFrom,
  parseCidr,
  parseIPv4,
  poolOrdinal,
  prefixMask,
  prefixSize,
  tryParseIPv4,
} from './address.ts';

export { formatGoTimestamp, parseTimestamp } from './time.ts';

export type { VxNetIaasInfo, VxNetPodRange } from './pool-range.ts';
export { podRangeOfVxnet, VXLAN_TAIL_RESERVED } from './pool-range.ts';

export type { PoolAddressCounts } from './pool.ts';
export {
  assertPoolAllocatable,
  ippoolLabels,
  isAllocatablePoolType,
  isKnownPoolType,
  newIPPool,
  poolAddressCounts,
  PoolId,
  poolIdOf,
  PoolType,
} from './pool.ts';

export type { PodHandleId, PodRef } from './naming.ts';
export {
  blockKey,
  blockName,
  blockNameFromKey,
  cidrName,
  HANDLE_HASH_LENGTH,
  handleMatchesPod,
  isDns1123Label,
  isDns1123Subdomain,
  MAX_NAMESPACE_LENGTH,
  MAX_OBJECT_NAME_LENGTH,
  podHandleId,
} from './naming.ts';

export type { BlockReservation, ParsedBlockName, PoolRange } from './blocks.ts';
export {
  blockCount,
  blockReservation,
  blocksOfPool,
  compareBlockNames,
  compareBlockSpecs,
  DEFAULT_BLOCK_SIZE,
  generateBlockCidrs,
  MAX_RECOMMENDED_BLOCK_SIZE,
  missingBlocks,
  newBlock,
  newBlockSpec,
  normalisePoolCidr,
  parseBlockName,
  RESERVED_ATTRIBUTE,
  resolveBlockSize,
  sortBlocks,
} from './blocks.ts';

export type {
  AddressUse,
  AssignRequest,
  AssignResult,
  BlockAddress,
  CooldownOptions,
  FixedAssignRequest,
  FixedAssignResult,
  ReleaseResult,
} from './block.ts';
export {
  addressOfOrdinal,
  addressUse,
  allocatedCount,
  assignAddresses,
  assignFixedAddress,
  availableCount,
  blockContains,
  blockSizeOf,
  checkBlock,
  coolingUntil,
  DEFAULT_RELEASE_COOLDOWN_MS,
  freeCount,
  handleAddresses,
  handleHasAddresses,
  handleOrdinals,
  isBlockEmpty,
  isReservedAttribute,
  ordinalOfAddress,
  releaseByHandle,
  releaseOrdinals,
  reservedCount,
} from './block.ts';

export {
  decrementHandle,
  handleCount,
  incrementHandle,
  isHandleEmpty,
  newHandle,
  removeBlockFromHandle,
} from './handle.ts';

export type {
  AllocationSource,
  BlockState,
  IpamConfig,
  IpamConfigMapData,
  MappingRefusal,
  NamespaceMappingDecision,
  NamespaceMappingInput,
  ResolvedIpamConfig,
} from './mapping.ts';
export {
  allocationSources,
  decideNamespaceMapping,
  EMPTY_IPAM_CONFIG,
  isNamespaceExhausted,
  MappingMode,
  parseIpamConfig,
  pickFreeBlock,
  resolveIpamConfig,
  resolvedAllocationSources,
  serializeIpamMapping,
  usedBlocks,
  validateIpamConfig,
} from './mapping.ts';

export type { Utilisation } from './utilisation.ts';
export { blockUtilisation, ippoolStatus, poolsWithFreeAddresses, poolUtilisation } from './utilisation.ts';

export { overlappingPools, validateIPPoolSpec, validateVxNetPoolSpec } from './validation.ts';

export type {
  ConsistencyInput,
  ConsistencyReport,
  Finding,
  HandleAction,
  LivePod,
  RecordAction,
  ReleaseAction,
  RepairPlan,
} from './consistency.ts';
export { checkConsistency, DEFAULT_LEAK_GRACE_MS, stableRepairPlan } from './consistency.ts';

export type { IpamConfigData, IpamStore, ListBlocksOptions, Versioned } from './store.ts';
export {
  AlreadyExistsError,
  ConflictError,
  isStoreErrorCode,
  NotFoundError,
  StoreError,
  StoreIncompatibleError,
  StoreKind,
  StoreRejectedError,
  StoreUnavailableError,
} from './store-errors.ts';
export type { KvCondition, KvEngine, KvEntry, KvOutcome, KvStoreHooks, WriteCall, WriteOp } from './stores/kv.ts';
export { KvIpamStore } from './stores/kv.ts';
export type { MemoryStoreOptions, WriteFault } from './stores/memory.ts';
export { MemoryIpamStore } from './stores/memory.ts';

export type { IpamOptions, TimeOption } from './allocator.ts';
export { DEFAULT_MAX_ATTEMPTS, Ipam } from './allocator.ts';
export type { IpamOperation, ReadEvent, WriteEvent, WriteOutcome } from './allocator/events.ts';
export { StoreCallCounter } from './allocator/events.ts';
export type { BackoffOptions } from './allocator/retry.ts';
export { DEFAULT_BACKOFF_BASE_MS, DEFAULT_BACKOFF_MAX_MS } from './allocator/retry.ts';
export { fnv1a, nodeOffset } from './allocator/spread.ts';
export type {
  AllocateRequest,
  Allocation,
  BlockUsage,
  EnsurePoolResult,
  HeldAddress,
  IpamUtilisation,
  NamespaceUsage,
  PoolUsage,
  RepairResult,
} from './allocator/types.ts';

export { CLAIM_HANDLE_PREFIX, CLAIM_NOTE, CLAIM_POD_HANDLE_KEY, claimHandleId, claimNodeOf } from './claim/naming.ts';
export type { ClaimedAddress, ClaimedAssignment, PublishResult, ReturnedAddress } from './claim/rows.ts';
export { claimedAddresses, claimSecondary, publishClaimView, returnClaimed } from './claim/rows.ts';
export type { ClaimEntry, ClaimLedger } from './claim/ledger.ts';
export { MemoryClaimLedger } from './claim/ledger.ts';
export type { WarmIps } from './claim/warm.ts';
export { DEFAULT_WARM_IPS, MAX_WARM_IPS, validateWarmIps } from './claim/warm.ts';
export { eligibleFor, isReady, readyFor, trimChoice } from './claim/pick.ts';
export type { HeldClaimAddress } from './claim/store-ops.ts';
export type { ClaimCounts, ClaimIpam, ClaimProblem, ClaimSyncReport, NodeClaimOptions } from './claim/node-claim.ts';
export { DEFAULT_CLAIM_BATCH_MS, NodeClaim } from './claim/node-claim.ts';
