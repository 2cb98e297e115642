/**
 * Protocol version 1, frozen: the message shapes of the first release (the plugin sent `x-hostnic-protocol: 1`
 * and the agent read no header), and one sample of each message as that release wrote it. Skew tests replay
 * these against the current code; never edit them, add a v2.ts beside them when version 3 comes.
 */

export const V1 = 1;

export interface V1Attachment {
  containerId: string;
  netns: string;
  ifName: string;
  podNamespace: string;
  podName: string;
  infraContainerId: string;
}

export interface V1PluginConfig {
  cniVersion: string;
  name: string;
  vethPrefix: string;
  mtu: number;
  serviceCIDR?: string;
  natMark: string;
  interface: string;
  hairpin: boolean;
}

export interface V1CniResult {
  interfaces: { name: string; mac: string; sandbox?: string; mtu?: number }[];
  ips: { interface?: number; address: string; gateway?: string }[];
  routes?: { dst: string; gw?: string }[];
  dns: { nameservers?: string[]; domain?: string; search?: string[]; options?: string[] };
}

export interface V1AddRequest {
  attachment: V1Attachment;
  config: V1PluginConfig;
  timeoutMs: number;
}
export interface V1AddResponse {
  result: V1CniResult;
  vxnet: string;
}
export interface V1DelRequest {
  attachment: V1Attachment;
  config: V1PluginConfig;
  prevResult?: V1CniResult;
  timeoutMs: number;
}
export interface V1CheckRequest {
  attachment: V1Attachment;
  config: V1PluginConfig;
  prevResult: V1CniResult;
  timeoutMs: number;
}
export interface V1GcRequest {
  validAttachments: { containerId: string; ifName: string }[];
  config: V1PluginConfig;
  timeoutMs: number;
}
export interface V1GcResponse {
  released: { containerId: string; ifName: string }[];
}
export interface V1StatusResponse {
  ready: boolean;
  reason?: string;
  code?: 50 | 51;
}
export interface V1AgentErrorBody {
  code: number;
  msg: string;
  details?: string;
}
export interface V1SpooledRelease {
  version: 1;
  attachment: V1Attachment;
  ip?: string;
  spooledAt: string;
}

/** The headers of a version 1 plugin's requests. */
export const V1_HEADERS = { 'x-hostnic-protocol': '1', 'user-agent': 'hostnic-cni/0.1.0' } as const;

const config: V1PluginConfig = {
  cniVersion: '1.0.0',
  name: 'hostnic',
  vethPrefix: 'vnic',
  mtu: 1500,
  serviceCIDR: '10.96.0.0/12',
  natMark: '0x10000/0x10000',
  interface: 'eth0',
  hairpin: false,
};

const attachment: V1Attachment = {
  containerId: 'c0ffee0000000000000000000000000000000000000000000000000000000001',
  netns: '/var/run/netns/cni-6d4a1c3b-0000-4000-8000-000000000001',
  ifName: 'eth0',
  podNamespace: 'default',
  podName: 'nginx-7d9f8c6b5-x2x4q',
  infraContainerId: 'c0ffee0000000000000000000000000000000000000000000000000000000001',
};

const result: V1CniResult = {
  interfaces: [
    { name: 'eth0', mac: '02:11:22:33:44:55', sandbox: attachment.netns, mtu: 1500 },
    { name: 'vnic0a1b2c3d4e5', mac: '02:66:77:88:99:aa', mtu: 1500 },
  ],
  ips: [{ interface: 0, address: '172.16.3.7/32', gateway: '169.254.1.1' }],
  dns: {},
};

/** One message of each kind, as the version 1 plugin and agent wrote them. */
export const v1Samples = {
  config,
  attachment,
  addRequest: { attachment, config, timeoutMs: 54_000 } satisfies V1AddRequest,
  addResponse: { result, vxnet: 'vxnet-pods001' } satisfies V1AddResponse,
  delRequest: { attachment, config, prevResult: result, timeoutMs: 27_000 } satisfies V1DelRequest,
  checkRequest: { attachment, config, prevResult: result, timeoutMs: 27_000 } satisfies V1CheckRequest,
  gcRequest: { validAttachments: [{ containerId: attachment.containerId, ifName: 'eth0' }], config, timeoutMs: 54_000 } satisfies V1GcRequest,
  gcResponse: { released: [{ containerId: 'deadbeef', ifName: 'eth0' }] } satisfies V1GcResponse,
  statusReady: { ready: true } satisfies V1StatusResponse,
  statusNotReady: { ready: false, code: 50, reason: 'hostnic-agent is starting' } satisfies V1StatusResponse,
  errorBody: { code: 11, msg: 'allocate-ip failed: store unavailable', details: 'retry' } satisfies V1AgentErrorBody,
  spooledRelease: { version: 1, attachment, ip: '172.16.3.7', spooledAt: '2026-01-02T03:04:05.678Z' } satisfies V1SpooledRelease,
} as const;
