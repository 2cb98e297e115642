/**
 * The messages of the agent API in the current protocol version (HTTP/1.1 + JSON on the agent's unix socket).
 * Field names are the contract: a new field is optional or comes with a new protocol version, never a rename.
 */

/** The workload attachment a CNI call is about, from the CNI environment and CNI_ARGS. */
export interface Attachment {
  /** CNI_CONTAINERID: the sandbox. */
  containerId: string;
  /** CNI_NETNS; may be empty on DEL. */
  netns: string;
  /** CNI_IFNAME, e.g. eth0. */
  ifName: string;
  /** K8S_POD_NAMESPACE, or the conflist's defaultNamespace for a non-Kubernetes container; may be empty on DEL. */
  podNamespace: string;
  /** K8S_POD_NAME, or the container id for a non-Kubernetes container; may be empty on DEL. */
  podName: string;
  /** K8S_POD_INFRA_CONTAINER_ID, or CNI_CONTAINERID when absent; part of the IPAM handle. */
  infraContainerId: string;
  /**
   * Whether the workload is a Kubernetes pod (protocol 2). When false the agent reads no annotations and
   * patches no pod: there is no pod object. Protocol 1 requests came from Kubernetes only: true.
   */
  kubernetesPod: boolean;
}

/** The plugin's network configuration after validation and defaulting (the keys of hostnic-cni). */
export interface PluginConfig {
  cniVersion: string;
  name: string;
  vethPrefix: string;
  mtu: number;
  /** The cluster's service range, when the config names one. */
  serviceCIDR?: string | undefined;
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
  /** The pool (vxnet id) the address came from, for logs; may be empty. */
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

/** One entry of `cni.dev/valid-attachments`. */
export interface AttachmentRef {
  containerId: string;
  ifName: string;
}

export interface GcRequest {
  /** Every attachment the runtime still knows; the agent releases the others. */
  validAttachments: AttachmentRef[];
  config: PluginConfig;
  timeoutMs: number;
}

export interface GcResponse {
  /** Attachments the agent released. */
  released: AttachmentRef[];
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
