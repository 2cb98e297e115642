/**
 * Records and contracts shared by the agent's modules (datastore, NIC manager, API, reconciler).
 * Field names of persisted records are part of the datastore schema: add optional fields, never rename.
 */

/** Phases of a NIC's host setup, named as in hostnic-cni (ShowNics, metrics) [compat]. */
export type NicPhase = 'Init' | 'CreateAndAttach' | 'JoinBridge' | 'SetRouteTable' | 'Succeeded';

/** What the agent needs to know of a vxnet to set up its NIC (from DescribeVxnets). */
export interface VxnetInfo {
  vxnetId: string;
  /** The vxnet's gateway (router manager_ip). */
  gateway: string;
  /** The vxnet's CIDR (router ip_network). */
  network: string;
  /** `vlan` NICs get an empty route table; anything else is vxlan. */
  tunnelType: 'vxlan' | 'vlan';
}

/** One hostnic NIC of this node: one per vxnet. */
export interface NicRecord {
  /** The NIC id, which is its MAC, lower-case. */
  nicId: string;
  vxnet: VxnetInfo;
  /** Policy routing table, lowest free from routeTableBase (260). */
  routeTable: number;
  /** Kernel name after setup: hostnic_<vxnet id without vxnet->. */
  linkName: string;
  /** br_<routeTable>. */
  bridge: string;
  phase: NicPhase;
  /** RFC 3339. */
  createdAt: string;
  /** RFC 3339; set when the last pod left, cleared when one arrives. */
  idleSince?: string;
  /** Last error of setup or repair, for introspection. */
  lastError?: string;
  /** VLAN vxnets: the DHCP lease of br_N's address, kept across restarts and renewed from half its time. */
  dhcpLease?: BridgeLease;
}

/** A DHCP lease of a VLAN bridge's address. */
export interface BridgeLease {
  address: string;
  prefixLength: number;
  /** The lease time the server granted, in seconds. */
  leaseSec: number;
  /** RFC 3339: when the server granted (or renewed) it. */
  obtainedAt: string;
}

/** One pod attachment wired by this agent. Keyed by `${containerId}/${ifName}`. */
export interface PodRecord {
  containerId: string;
  ifName: string;
  podNamespace: string;
  podName: string;
  infraContainerId: string;
  netns: string;
  /** IPAM handle id. */
  handleId: string;
  ip: string;
  /** Pool name = vxnet id. */
  vxnetId: string;
  nicId: string;
  hostVeth: string;
  hostVethMac: string;
  podMac: string;
  /** RFC 3339. */
  createdAt: string;
}

/**
 * An intent is written before an IaaS call or a kernel change that could outlive a crash, and finished
 * after it; a restart finds unfinished intents and completes or undoes them (docs/state.md#the-intent-journal).
 */
export type IntentKind =
  | 'create-nic'
  | 'attach-nic'
  | 'setup-nic'
  | 'release-nic'
  | 'allocate-ip'
  | 'wire-pod'
  | 'unwire-pod'
  | 'release-ip';

export interface Intent {
  id: string;
  kind: IntentKind;
  /** What is needed to finish or undo it, e.g. { vxnetId, nicName } or { containerId, ifName, ip }. */
  data: Record<string, string | number | boolean | null>;
  /** RFC 3339. */
  startedAt: string;
}

/**
 * The part of the datastore the NIC manager uses. Every method is atomic on its own; route tables are
 * handed out inside one transaction so two NICs never get the same number.
 */
export interface NicStore {
  getNic(nicId: string): Promise<NicRecord | undefined>;
  nicForVxnet(vxnetId: string): Promise<NicRecord | undefined>;
  listNics(): Promise<NicRecord[]>;
  putNic(nic: NicRecord): Promise<void>;
  deleteNic(nicId: string): Promise<void>;
  /**
   * Lowest free table >= base, not used by any NIC record and not in `exclude` (tables seen in the kernel);
   * `prefer` when no record holds it (an adopted NIC's table).
   */
  allocateRouteTable(base: number, exclude?: readonly number[], prefer?: number): Promise<number>;
  /** Held tables; `nicId` absent for a reservation no record uses yet (or any more, after a crash). */
  listRouteTables(): Promise<{ table: number; nicId?: string }[]>;
  /** Gives back a reservation no record uses; false when it was not held. */
  releaseRouteTable(table: number): Promise<boolean>;
  beginIntent(kind: IntentKind, data: Intent['data']): Promise<Intent>;
  finishIntent(id: string): Promise<void>;
  listIntents(): Promise<Intent[]>;
  /** Pods wired on the NIC (the free policy and idle tracking need them). */
  podsOnNic(nicId: string): Promise<PodRecord[]>;
}
