/** Typed results of the QingCloud actions hostnic uses. Names are camelCase versions of the wire fields. */

export type NicStatus = 'available' | 'in-use' | (string & {});

export interface Nic {
  /** The NIC's id, which is also its MAC address (lower-case `52:54:xx:xx:xx:xx`). */
  nicId: string;
  nicName: string;
  vxnetId: string;
  /** 1 primary, 0 secondary. */
  role: number;
  status: NicStatus;
  /** Null when the NIC was created without an address (disable_ip=1). */
  privateIp: string | null;
  /** Empty when not attached. */
  instanceId: string;
  sequence: number | undefined;
  securityGroup: string | undefined;
  tags: string[];
  owner: string | undefined;
  createTime: string | undefined;
  statusTime: string | undefined;
}

export interface CreatedNic {
  nicId: string;
  privateIp: string | null;
}

export interface VxnetRouter {
  routerId: string | undefined;
  routerName: string | undefined;
  /** The vxnet's gateway address. */
  managerIp: string;
  /** The vxnet's CIDR. */
  ipNetwork: string;
  /** First DHCP address; empty when DHCP is off. */
  dynIpStart: string;
  /** Last DHCP address; empty when DHCP is off. */
  dynIpEnd: string;
  mode: number | undefined;
}

export interface Vxnet {
  vxnetId: string;
  vxnetName: string | undefined;
  /** 0 self-managed, 1 managed, 2 basic. */
  vxnetType: number | undefined;
  /** `vxlan` or `vlan`; undocumented, absent on some clouds. */
  tunnelType: string | undefined;
  vpcRouterId: string | undefined;
  /** Null when the vxnet is not in a VPC. */
  router: VxnetRouter | null;
}

export type JobStatusValue = 'pending' | 'working' | 'successful' | 'failed' | (string & {});

export interface Job {
  jobId: string;
  jobAction: string | undefined;
  status: JobStatusValue | undefined;
  resourceIds: string[];
  /** The job's directive, parsed when it is JSON. */
  directive: unknown;
  owner: string | undefined;
  createTime: string | undefined;
  statusTime: string | undefined;
}

export interface Vip {
  vipId: string;
  vipName: string;
  vipAddr: string;
  vxnetId: string;
  nicId: string | undefined;
  instanceId: string | undefined;
  createTime: string | undefined;
}

export interface SecurityGroupRule {
  securityGroupRuleId: string;
  securityGroupRuleName: string;
  securityGroupId: string;
  action: string;
  /** 0 ingress, 1 egress. */
  direction: number;
  priority: number;
  protocol: string;
  val1: string;
  val2: string;
  val3: string;
}

export interface NewSecurityGroupRule {
  protocol: string;
  priority: number;
  action?: 'accept' | 'drop';
  direction?: 0 | 1;
  securityGroupRuleName?: string;
  val1?: string;
  val2?: string;
  val3?: string;
}

export interface Cluster {
  clusterId: string;
  securityGroupId: string;
  status: string | undefined;
}

export interface ClusterNode {
  nodeId: string;
  instanceId: string;
  hostMachine: string;
  privateIp: string;
  clusterId: string;
  status: string;
}

export interface AccessKey {
  accessKeyId: string;
  owner: string;
  status: string | undefined;
}

/** Result of an action that starts an asynchronous job. */
export interface JobRef {
  /**
   * The job to wait for. Undefined only when a retried request found that the first attempt had already
   * taken full effect and its job could no longer be identified; there is then nothing to wait for.
   */
  jobId: string | undefined;
}
