/**
 * The typed view of kernel networking state that every read returns.
 *
 * @packageDocumentation
 */

/** Well-known routing tables. */
export const RouteTable = {
  unspec: 0,
  default: 253,
  main: 254,
  local: 255,
} as const;

/** Route scopes by name, as `ip` prints them. */
export type RouteScope = 'global' | 'site' | 'link' | 'host' | 'nowhere' | `scope-${number}`;

/** A network interface. */
export interface Link {
  readonly index: number;
  readonly name: string;
  /** Normalised MAC (lowercase, two digits per octet); empty for links without one. */
  readonly mac: string;
  readonly mtu: number;
  /** Administratively up (the UP flag). */
  readonly up: boolean;
  /** Carrier up (LOWER_UP). */
  readonly lowerUp: boolean;
  /** Kernel operational state: UP, DOWN, UNKNOWN, LOWERLAYERDOWN, ... */
  readonly operState: string;
  readonly flags: readonly string[];
  /** `veth`, `bridge`, `vxlan`, `dummy`, ...; undefined for plain devices (physical NICs, loopback). */
  readonly kind?: string | undefined;
  /** Kind of the master when enslaved (`bridge`, `bond`). */
  readonly slaveKind?: string | undefined;
  /** Name of the master device, when enslaved. */
  readonly master?: string | undefined;
  /** The link alias (`ip link set X alias Y`). */
  readonly alias?: string | undefined;
  /** For a veth (and other stacked links): ifindex of the peer/lower link, in its own namespace. */
  readonly peerIndex?: number | undefined;
  /** Name of the peer when it is in the same namespace (ip prints `link: name` then). */
  readonly peerName?: string | undefined;
  /** The namespace id of the peer's namespace as seen from this one, when the peer lives elsewhere. */
  readonly linkNetnsId?: number | undefined;
}

/** An interface address. */
export interface Address {
  readonly family: 4 | 6;
  readonly ifIndex: number;
  readonly ifName: string;
  readonly address: string;
  readonly prefixLength: number;
  /** `address/prefixLength`. */
  readonly cidr: string;
  readonly scope: RouteScope;
  readonly label?: string | undefined;
  readonly broadcast?: string | undefined;
  /** The peer address of a point-to-point address. */
  readonly peer?: string | undefined;
}

/** A route. */
export interface Route {
  readonly family: 4 | 6;
  /** `unicast`, `local`, `broadcast`, `blackhole`, ... */
  readonly type: string;
  /** Destination prefix in normal form (`0.0.0.0/0` for default, `/32` kept for hosts). */
  readonly dst: string;
  readonly gateway?: string | undefined;
  readonly dev?: string | undefined;
  readonly table: number;
  readonly scope: RouteScope;
  /** `kernel`, `boot`, `static`, `dhcp`, ... or the number. */
  readonly protocol: string;
  /** Preferred source (`src` in `ip route`). */
  readonly src?: string | undefined;
  readonly onlink: boolean;
  readonly metric?: number | undefined;
  readonly flags: readonly string[];
  /** True for a multipath route (its nexthops are not modelled). */
  readonly multipath: boolean;
}

/** A policy routing rule. */
export interface Rule {
  readonly family: 4 | 6;
  readonly priority: number;
  /** Source selector in normal form; undefined for `from all`. */
  readonly src?: string | undefined;
  /** Destination selector in normal form; undefined when absent. */
  readonly dst?: string | undefined;
  /** Table looked up; undefined for rules whose action is not `lookup`. */
  readonly table?: number | undefined;
  /** `lookup`, or another action (`blackhole`, `unreachable`, `prohibit`, `goto`, `nop`). */
  readonly action: string;
  readonly not: boolean;
  readonly iif?: string | undefined;
  readonly oif?: string | undefined;
  readonly fwmark?: string | undefined;
  readonly fwmask?: string | undefined;
  /**
   * Names of further selectors or modifiers present on the rule (e.g. `tos`, `uidrange`, `ipproto`,
   * `suppress_prefixlen`): a rule with any of them is not the plain priority/from/to/table rule.
   */
  readonly extra: readonly string[];
}

/** A neighbour (ARP/NDP) entry. */
export interface Neighbour {
  readonly family: 4 | 6;
  readonly dst: string;
  readonly dev: string;
  /** Normalised MAC, when the entry has one. */
  readonly lladdr?: string | undefined;
  /** NUD states, e.g. `['PERMANENT']`. */
  readonly state: readonly string[];
  readonly router: boolean;
}

/** Everything of a namespace that one snapshot read returns. */
export interface Snapshot {
  readonly links: readonly Link[];
  readonly addresses: readonly Address[];
  readonly routes: readonly Route[];
  readonly rules: readonly Rule[];
  readonly neighbours: readonly Neighbour[];
}
