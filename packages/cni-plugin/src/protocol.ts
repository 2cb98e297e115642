/**
 * The wire protocol between the hostnic CNI plugin and hostnic-agent: HTTP/1.1 with JSON bodies on the
 * agent's unix socket (default /var/run/hostnic/hostnic.socket, mode 0600). The agent imports these types;
 * the plugin only sends requests. Field names are part of the contract: add optional fields, never rename.
 */

export const DEFAULT_AGENT_SOCKET = '/var/run/hostnic/hostnic.socket';
export const PROTOCOL_VERSION = 1;

export const AgentPath = {
  add: '/v1/cni/add',
  del: '/v1/cni/del',
  check: '/v1/cni/check',
  gc: '/v1/cni/gc',
  status: '/v1/status',
  pods: '/v1/pods',
  nics: '/v1/nics',
  pools: '/v1/pools',
} as const;

/** The pod attachment a CNI call is about, from the CNI environment and CNI_ARGS. */
export interface Attachment {
  /** CNI_CONTAINERID: the sandbox. */
  containerId: string;
  /** CNI_NETNS; may be empty on DEL. */
  netns: string;
  /** CNI_IFNAME, e.g. eth0. */
  ifName: string;
  /** K8S_POD_NAMESPACE. */
  podNamespace: string;
  /** K8S_POD_NAME. */
  podName: string;
  /** K8S_POD_INFRA_CONTAINER_ID, or CNI_CONTAINERID when absent; part of the IPAM handle. */
  infraContainerId: string;
}

/** The plugin's network configuration after validation and defaulting (the keys of hostnic-cni). */
export interface PluginConfig {
  cniVersion: string;
  name: string;
  vethPrefix: string;
  mtu: number;
  serviceCIDR: string | undefined;
  natMark: string;
  /** Host interface whose first IPv4 address is the node IP (mangle rules). */
  interface: string;
  hairpin: boolean;
}

export interface CniInterface {
  name: string;
  mac: string;
  sandbox?: string;
  mtu?: number;
}

export interface CniIpConfig {
  /** Index into `interfaces`. */
  interface?: number;
  /** CIDR form, e.g. 172.22.0.239/32. */
  address: string;
  gateway?: string;
}

export interface CniRoute {
  dst: string;
  gw?: string;
}

export interface CniDns {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

/** A CNI result in the 1.1.0 shape; the plugin converts it to the version the runtime asked for. */
export interface CniResult {
  interfaces: CniInterface[];
  ips: CniIpConfig[];
  routes?: CniRoute[];
  dns: CniDns;
}

export interface AddRequest {
  attachment: Attachment;
  config: PluginConfig;
  /** Bound the agent should respect (ms); the plugin gives up a little after it. */
  timeoutMs: number;
}

export interface AddResponse {
  result: CniResult;
  /** The pool (vxnet id) the address came from, for logs. */
  vxnet: string;
}

export interface DelRequest {
  attachment: Attachment;
  config: PluginConfig;
  /** The result of the ADD, when the runtime passed it (CNI >= 0.4.0). */
  prevResult?: CniResult;
  timeoutMs: number;
}

export type DelResponse = Record<string, never>;

export interface CheckRequest {
  attachment: Attachment;
  config: PluginConfig;
  prevResult: CniResult;
  timeoutMs: number;
}

export type CheckResponse = Record<string, never>;

export interface GcRequest {
  /** `cni.dev/valid-attachments`: every attachment the runtime still knows; the agent releases the others. */
  validAttachments: { containerId: string; ifName: string }[];
  config: PluginConfig;
  timeoutMs: number;
}

export interface GcResponse {
  /** Attachments the agent released. */
  released: { containerId: string; ifName: string }[];
}

export interface StatusResponse {
  ready: boolean;
  /** Why not ready, for the runtime's logs. */
  reason?: string;
  /** CNI STATUS code when not ready: 50 (not available) or 51 (existing pods may have limited connectivity). */
  code?: 50 | 51;
}

/** Every non-2xx answer of the agent carries a CNI error: code, message naming the problem, details. */
export interface AgentErrorBody {
  code: number;
  msg: string;
  details?: string;
}

/** A release the plugin could not deliver (agent down): written under the spool directory, replayed by the agent. */
export interface SpooledRelease {
  version: typeof PROTOCOL_VERSION;
  attachment: Attachment;
  /** The pod IP, when the plugin knew it (prevResult). */
  ip?: string;
  /** RFC 3339. */
  spooledAt: string;
}

/** Where the plugin spools releases; the agent replays every file here at start and on a timer. */
export const DEFAULT_SPOOL_DIR = '/var/lib/hostnic/spool';
