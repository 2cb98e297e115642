/**
 * `@hostnic/netlink`: the typed layer through which the hostnic agent and CNI plugin change the kernel's
 * networking — network namespaces, links, addresses, routes, rules, neighbours, sysctls, and the iptables
 * and ebtables rules hostnic owns — through iproute2 batch mode and nsenter.
 *
 * @packageDocumentation
 */

export type { CommandErrorDetails } from './errors.ts';
export {
  CommandError,
  ExistsError,
  InvalidArgumentError,
  LockTimeoutError,
  NetlinkError,
  NetlinkErrorCode,
  NetnsGoneError,
  NotFoundError,
  ParseError,
  PermissionError,
  TimeoutError,
  errnoOf,
} from './errors.ts';

export type { ExecOptions, ExecRequest, ExecResult, Executor } from './exec.ts';
export { DEFAULT_TIMEOUT_MS, onSpawn, run, spawnCount, spawnProcess } from './exec.ts';

export type { CreateNetnsOptions, Netns } from './netns.ts';
export {
  CURRENT_NETNS,
  NETNS_RUN_DIR,
  argvInNetns,
  assertLiveNetns,
  createNamedNetns,
  deleteNamedNetns,
  describeNetns,
  isLiveNetns,
  isLiveNetnsPath,
  listNamedNetns,
  namedNetns,
  netnsAtPath,
  openNetns,
} from './netns.ts';

export type {
  BatchFailure,
  BatchOp,
  BatchOptions,
  BatchResult,
  OpOutcome,
  OpStatus,
  ParsedBatchStderr,
  Prelude,
  ReadOutcome,
} from './batch.ts';
export {
  applyBatch,
  applyBatchOrThrow,
  batchText,
  interpretBatch,
  interpretReadBatch,
  op,
  parseBatchStderr,
  readBatch,
  readOne,
  throwIfFailed,
} from './batch.ts';

export type { Address, Link, Neighbour, Route, RouteScope, Rule, Snapshot } from './types.ts';
export { RouteTable } from './types.ts';
export { parseAddresses, parseLinks, parseNeighbours, parseRoutes, parseRules } from './parse.ts';
export type { ReadOptions, SnapshotOptions, SnapshotPart } from './snapshot.ts';
export { readAddresses, readLinks, readNeighbours, readRoutes, readRules, readSnapshot } from './snapshot.ts';

export { ipv4Network, normalizeMac, normalizePrefix, randomMac, sameMac } from './addr-util.ts';
export {
  DEFAULT_VETH_PREFIX,
  MAX_VETH_PREFIX_LENGTH,
  bridgeName,
  nicLinkName,
  validateIfName,
  validateVethPrefix,
  vethPrefixProblem,
} from './names.ts';
export { hostVethName } from './host-veth.ts';

export type { LinkAttrs, LinkOptions, VethSpec } from './links.ts';
export {
  bridgeAddOp,
  deleteLink,
  ensureBridge,
  ensureVeth,
  findLink,
  findLinksByMac,
  getLink,
  linkDelOp,
  linkSetOp,
  moveLink,
  moveOp,
  renameLink,
  renameOps,
  setLink,
  vethAddOp,
} from './links.ts';
export type { AddressSpec } from './addresses.ts';
export { addrDelOp, addrReplaceOp, ensureAddress, removeAddress } from './addresses.ts';
export type { RouteSpec } from './routes.ts';
export { ensureRoute, findRoutes, removeRoute, routeDelOp, routeFlushTableOp, routeMatches, routeReplaceOp } from './routes.ts';
export type { RuleRemovalPlan, RuleSpec } from './rules.ts';
export { ensureRule, isExactRule, planRuleRemoval, removeRule, ruleAddOp, ruleDelOp, ruleRemovalOps } from './rules.ts';
export type { NeighbourSpec, ProxyNeighbour } from './neigh.ts';
export {
  ensureNeighbour,
  ensureProxyNeighbour,
  ensureProxyNeighbours,
  findNeighbours,
  listProxyNeighbours,
  neighFlushOp,
  neighReplaceOp,
  parseProxyNeighbours,
  proxyNeighFlushOp,
  proxyNeighReplaceOp,
  removeNeighbour,
  removeProxyNeighbour,
} from './neigh.ts';
export type { ConfSetting, SysctlEntry, SysctlOptions } from './sysctl.ts';
export { confSysctl, ipForwardSysctl, proxyDelaySysctl, readSysctl, readSysctls, sysctlPath, writeSysctls } from './sysctl.ts';

export type { LockOptions, Locker } from './lock.ts';
export { DEFAULT_LOCK_PATH, noLock, withFileLock } from './lock.ts';
export type {
  HostnicMangleParams,
  IptablesChain,
  IptablesChange,
  IptablesJump,
  IptablesOptions,
  IptablesPlan,
  IptablesRuleSet,
  SavedTable,
} from './iptables.ts';
export {
  HOSTNIC_OUTPUT,
  HOSTNIC_PREROUTING,
  ensureIptablesRuleSet,
  hostnicMangleRuleSet,
  parseIptablesSave,
  parseNatMark,
  planIptablesRemoval,
  planIptablesRuleSet,
  readIptablesTable,
  removeIptablesRuleSet,
} from './iptables.ts';
export type {
  ArpReplyEntry,
  ArpReplyFilter,
  ArpReplyMatch,
  ArpReplyTarget,
  EbtablesChange,
  EbtablesOptions,
  EbtablesRule,
  ListedEbtablesRule,
} from './ebtables.ts';
export {
  arpReplyRule,
  asArpReply,
  countArpReply,
  ensureArpReply,
  installArpReply,
  ensureEbtablesRule,
  listArpReplies,
  listEbtablesChain,
  normalizeEbtablesRule,
  parseEbtablesList,
  removeArpReplies,
  removeArpReply,
  removeEbtablesRule,
  removeEbtablesRules,
  sameArpReply,
  sameEbtablesRule,
} from './ebtables.ts';

export type {
  CheckPodOptions,
  PodAddPlan,
  PodCheckResult,
  PodCheckSpec,
  PodObservedState,
  PodUnwireResult,
  PodUnwireSpec,
  PodWiring,
  PodWiringSpec,
  WirePodOptions,
} from './pod-wiring.ts';
export {
  DEFAULT_MTU,
  POD_GATEWAY,
  POD_RULE_PRIORITY,
  checkPod,
  diffPodState,
  planPodAdd,
  podRule,
  unwirePod,
  wirePod,
} from './pod-wiring.ts';
export type { HostNicCleanupResult, HostNicOptions, HostNicPlan, HostNicResult, HostNicSpec } from './host-nic.ts';
export {
  NIC_RULE_PRIORITY,
  cleanupHostNic,
  diffHostNic,
  findNicLink,
  nicRule,
  nicSysctls,
  nicTableRoutes,
  planHostNic,
  planHostNicCleanup,
  setupHostNic,
} from './host-nic.ts';
