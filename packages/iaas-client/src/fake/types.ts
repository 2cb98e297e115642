/**
 * Public types of the fake QingCloud server. State records use the API's snake_case field names so that
 * what a test seeds, what `getState()` returns and what the API emits read the same.
 */

export interface AccessKeyRecord {
  access_key_id: string;
  secret_access_key: string;
  access_key_name: string;
  owner: string;
  status: string;
  create_time: string;
}

export interface InstanceRecord {
  instance_id: string;
  instance_name: string;
  /** Only `running` instances accept AttachNics. */
  status: string;
  /** Vxnet of the primary NIC (`vxnet-0` is QingCloud's base network and needs no vxnet record). */
  vxnet_id: string;
  private_ip: string | null;
  /** NICs this instance may carry, primary included; null = the `nics_per_instance` quota. */
  max_nics: number | null;
  host_machine: string;
  owner: string;
  zone: string;
  create_time: string;
}

export interface RouterRecord {
  router_id: string;
  router_name: string;
  manager_ip: string;
  ip_network: string;
  /** "" means DHCP is off. */
  dyn_ip_start: string;
  dyn_ip_end: string;
  /** A number on the wire (the Go SDK decodes it into `*int`). */
  mode: number;
}

export type VxnetType = 0 | 1 | 2;
export type TunnelType = 'vxlan' | 'vlan';

export interface VxnetRecord {
  vxnet_id: string;
  vxnet_name: string;
  vxnet_type: VxnetType;
  tunnel_type: TunnelType;
  /** null = not in a VPC. */
  router: RouterRecord | null;
  /** Addresses nobody may take (neither NICs nor VIPs). */
  reserved_ips: string[];
  owner: string;
  zone: string;
  create_time: string;
}

export type NicStatus = 'available' | 'in-use';

export interface NicRecord {
  /** The MAC address, lower case. */
  nic_id: string;
  nic_name: string;
  vxnet_id: string;
  private_ip: string | null;
  status: NicStatus;
  /** "" when available. */
  instance_id: string;
  /** 1 = primary, 0 = secondary. */
  role: 0 | 1;
  sequence: number;
  security_group: string;
  owner: string;
  zone: string;
  create_time: string;
  status_time: string;
  /** Id of the running job that holds this NIC, or null. */
  lock: string | null;
}

export type JobStatus = 'pending' | 'working' | 'successful' | 'failed';
export type JobOutcome = 'successful' | 'failed' | 'stuck';

/** Internal schedule of a job; times are the fake clock's milliseconds (unskewed). */
export interface JobPlan {
  outcome: JobOutcome;
  /** A vanished job is unknown to DescribeJobs (empty set) but still runs its course. */
  hidden: boolean;
  working_at: number | null;
  done_at: number | null;
  lag_ms: number;
}

export interface JobRecord {
  job_id: string;
  job_action: string;
  status: JobStatus;
  /** Space separated. */
  resource_ids: string;
  /** A JSON string, e.g. `{"nics":["52:54:..."],"instance":"i-..."}`. */
  directive: string;
  owner: string;
  zone: string;
  create_time: string;
  status_time: string;
  plan: JobPlan;
  /** Request log sequence number of the call that created the job. */
  request_seq: number | null;
}

export interface VipRecord {
  vip_id: string;
  vip_name: string;
  vip_addr: string;
  vxnet_id: string;
  nic_id: string;
  instance_id: string;
  /** `pending` VIPs own their address but are not yet visible to DescribeVips. */
  status: 'available' | 'pending';
  lock: string | null;
  owner: string;
  zone: string;
  create_time: string;
}

export interface SecurityGroupRecord {
  security_group_id: string;
  security_group_name: string;
  is_applied: 0 | 1;
  owner: string;
  zone: string;
  create_time: string;
}

export interface SecurityGroupRuleRecord {
  security_group_rule_id: string;
  security_group_id: string;
  security_group_rule_name: string;
  action: 'accept' | 'drop';
  direction: 0 | 1;
  priority: number;
  protocol: string;
  val1: string;
  val2: string;
  val3: string;
}

export interface ResourceTagPair {
  resource_id: string;
  resource_type: string;
}

export interface TagRecord {
  tag_id: string;
  tag_name: string;
  color: string;
  resource_tag_pairs: ResourceTagPair[];
  owner: string;
  zone: string;
  create_time: string;
}

export interface ClusterNodeRecord {
  node_id: string;
  name: string;
  cluster_id: string;
  instance_id: string;
  host_machine: string;
  private_ip: string;
  status: string;
}

export interface ClusterRecord {
  cluster_id: string;
  name: string;
  security_group_id: string;
  vxnet_id: string;
  status: string;
  nodes: ClusterNodeRecord[];
  owner: string;
  zone: string;
  create_time: string;
}

export interface Quotas {
  /** Secondary NICs per owner. */
  nics: number;
  vips: number;
  /** Rules per security group. */
  security_group_rules: number;
  /** Default per-instance NIC limit, primary included. */
  nics_per_instance: number;
}

export interface FakeStateSnapshot {
  zones: string[];
  quotas: Quotas;
  accessKeys: AccessKeyRecord[];
  instances: InstanceRecord[];
  vxnets: VxnetRecord[];
  nics: NicRecord[];
  jobs: JobRecord[];
  vips: VipRecord[];
  securityGroups: SecurityGroupRecord[];
  securityGroupRules: SecurityGroupRuleRecord[];
  tags: TagRecord[];
  clusters: ClusterRecord[];
}

// ---- seeding inputs: every field optional except what cannot be made up ----

export interface AccessKeyInput {
  accessKeyId?: string;
  secretAccessKey?: string;
  owner?: string;
  status?: string;
  name?: string;
}

export interface InstanceInput {
  instance_id?: string;
  instance_name?: string;
  status?: string;
  /** Vxnet of the primary NIC; default `vxnet-0`. */
  vxnet_id?: string;
  /** Primary IP; default: the highest free DHCP address of `vxnet_id` (out of the way of ranges taken from the bottom), or null. */
  private_ip?: string | null;
  max_nics?: number | null;
  host_machine?: string;
  owner?: string;
  zone?: string;
  create_time?: string;
  /** MAC of the primary NIC; generated when absent. */
  primary_nic_id?: string;
}

export interface RouterInput {
  router_id?: string;
  router_name?: string;
  manager_ip?: string;
  ip_network?: string;
  dyn_ip_start?: string;
  dyn_ip_end?: string;
  mode?: number;
}

export interface VxnetInput {
  vxnet_id?: string;
  vxnet_name?: string;
  vxnet_type?: VxnetType;
  tunnel_type?: TunnelType;
  /** Absent: the next free /24 of 172.16.0.0/12 with manager .1 and DHCP .2-.254. null: not in a VPC. */
  router?: RouterInput | null;
  reserved_ips?: string[];
  owner?: string;
  zone?: string;
  create_time?: string;
}

export interface NicInput {
  nic_id?: string;
  nic_name?: string;
  vxnet_id: string;
  private_ip?: string | null;
  status?: NicStatus;
  instance_id?: string;
  role?: 0 | 1;
  sequence?: number;
  security_group?: string;
  owner?: string;
  zone?: string;
  create_time?: string;
  status_time?: string;
  lock?: string | null;
}

export interface SecurityGroupRuleInput {
  security_group_rule_id?: string;
  security_group_rule_name?: string;
  action?: 'accept' | 'drop';
  direction?: 0 | 1;
  priority?: number;
  protocol: string;
  val1?: string;
  val2?: string;
  val3?: string;
}

export interface SecurityGroupInput {
  security_group_id?: string;
  security_group_name?: string;
  is_applied?: 0 | 1;
  rules?: SecurityGroupRuleInput[];
  owner?: string;
  zone?: string;
  create_time?: string;
}

export interface ClusterNodeInput {
  node_id?: string;
  name?: string;
  instance_id?: string;
  host_machine?: string;
  private_ip?: string;
  status?: string;
}

export interface ClusterInput {
  cluster_id?: string;
  name?: string;
  security_group_id?: string;
  vxnet_id?: string;
  status?: string;
  nodes?: ClusterNodeInput[];
  owner?: string;
  zone?: string;
  create_time?: string;
}

export interface TagInput {
  tag_id?: string;
  tag_name?: string;
  color?: string;
  resource_tag_pairs?: ResourceTagPair[];
  owner?: string;
  zone?: string;
  create_time?: string;
}

// ---- host events ----

export type HostEventKind = 'nic-attached' | 'nic-detached';

export interface HostEvent {
  event: HostEventKind;
  /** The NIC's MAC. */
  nicId: string;
  instanceId: string;
  vxnetId: string;
}

export type HostHook = (event: HostEvent) => void | Promise<void>;

// ---- faults and rate limits ----

export type JobFault =
  | 'fail'
  | 'stuck'
  | 'vanish'
  | { outcome?: 'successful' | 'fail' | 'stuck' | 'vanish'; pendingMs?: number; workMs?: number };

export interface FieldValue {
  path: string;
  value: unknown;
}

export interface FaultRule {
  /** Assigned by `faults.add` when absent. */
  id?: string;

  // -- which calls: every given criterion must hold --
  action?: string | readonly string[];
  /** Exact decoded parameter values. */
  params?: Readonly<Record<string, string>>;
  /** Matches when any parameter value equals it. */
  resourceId?: string;
  /** 1-based sequence number of the API call (the request log's `seq`). */
  callIndex?: number | readonly number[];

  // -- gates --
  /** Skip the first N matching calls. */
  afterN?: number;
  /** Apply to at most N calls. */
  times?: number;
  /** 0..1, rolled with the seeded generator. */
  probability?: number;

  // -- effects (combinable) --
  retCode?: number;
  message?: string;
  /** Real milliseconds before anything else happens. */
  latencyMs?: number | readonly [number, number];
  hang?: boolean;
  drop?: boolean;
  dropAfterEffect?: boolean;
  /** Stop listening for this many real milliseconds, then listen again on the same port. */
  refuseMs?: number;
  httpStatus?: number;
  contentType?: string;
  rawBody?: string;
  /** Dotted paths into the response; `*` matches every element, e.g. `nic_set.*.role`. */
  omitField?: string | readonly string[];
  nullField?: string | readonly string[];
  wrongType?: FieldValue | readonly FieldValue[];
  job?: JobFault;
  lagMs?: number;
}

export interface FaultRuleStatus {
  rule: FaultRule & { id: string };
  matched: number;
  applied: number;
}

export interface RateLimitRule {
  id?: string;
  /** One bucket per access key, or one per action. */
  per: 'accessKey' | 'action';
  /** Only these actions consume tokens; all when absent. */
  action?: string | readonly string[];
  ratePerSecond: number;
  burst: number;
  retCode?: number;
  message?: string;
}

// ---- request log ----

export interface RequestLogEntry {
  seq: number;
  /** Fake clock time (RFC 3339, milliseconds). */
  time: string;
  method: string;
  path: string;
  action: string | null;
  params: Record<string, string>;
  /** `ok`, `failed: <reason>` or `skipped`. */
  auth: string;
  /** The server's string to sign, when it computed one. */
  stringToSign: string | null;
  fault: { ruleId: string; effects: string[] } | null;
  rateLimited: string | null;
  retCode: number | null;
  /** null when nothing was sent back (drop, hang, refuse). */
  httpStatus: number | null;
  /** The body as an object, or the raw text for `rawBody`/HTML bodies. */
  response: unknown;
  outcome: 'answered' | 'dropped' | 'hung' | 'refused';
  /** Later remarks, e.g. a host hook failure of the job this call created. */
  notes: string[];
}

// ---- options ----

export interface AccessKeyOption {
  accessKeyId: string;
  secretAccessKey: string;
  owner?: string;
}

export type ClockMode = 'virtual' | 'realtime';

export interface FakeQingCloudOptions {
  host?: string;
  port?: number;
  accessKeys?: AccessKeyOption[];
  zones?: string[];
  verifySignature?: boolean;
  /** Allowed |server now - time_stamp| in seconds; 0 = no check. */
  timestampWindowSec?: number;
  clock?: ClockMode;
  /** Start of the virtual clock (realtime: the clock starts at this time and then runs). */
  startTime?: Date | string | number;
  jobDurations?: { pendingMs?: number; workMs?: number };
  maxLimit?: number;
  seed?: number;
  hostHook?: HostHook;
  /** When the host hook throws, fail the job instead of only logging. */
  hookFailureFailsJob?: boolean;
  oneNicPerVxnetPerInstance?: boolean;
  describeJobsUnknownIsError?: boolean;
  /** Without `vxnet_type`, DescribeVxnets omits type-2 vxnets. */
  hideVxnetType2ByDefault?: boolean;
  /** AllocateVips' VIPs show up at once instead of when the job succeeds. */
  vipsVisibleImmediately?: boolean;
  /** ret_code when CreateNics finds no free address. */
  noFreeIpRetCode?: number;
  /** ret_code for a zone the fake does not know. */
  unknownZoneRetCode?: number;
  /** Decode `+` as a space (real clients never send a bare `+`). */
  plusIsSpace?: boolean;
  quotas?: Partial<Quotas>;
  rateLimits?: RateLimitRule[];
  /** Initial state; `reset()` returns to it. */
  state?: FakeStateSnapshot;
  log?: (line: string) => void;
}
