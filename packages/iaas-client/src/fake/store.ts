import { LagTracker } from './lag.ts';
import { parseIpv4 } from './ipv4.ts';
import type {
  AccessKeyRecord,
  ClusterRecord,
  FakeStateSnapshot,
  InstanceRecord,
  JobRecord,
  NicRecord,
  Quotas,
  SecurityGroupRecord,
  SecurityGroupRuleRecord,
  TagRecord,
  VipRecord,
  VxnetRecord,
} from './types.ts';

export interface Tables {
  accessKeys: Map<string, AccessKeyRecord>;
  instances: Map<string, InstanceRecord>;
  vxnets: Map<string, VxnetRecord>;
  nics: Map<string, NicRecord>;
  jobs: Map<string, JobRecord>;
  vips: Map<string, VipRecord>;
  securityGroups: Map<string, SecurityGroupRecord>;
  securityGroupRules: Map<string, SecurityGroupRuleRecord>;
  tags: Map<string, TagRecord>;
  clusters: Map<string, ClusterRecord>;
}

export type TableName = keyof Tables;

export const DEFAULT_QUOTAS: Readonly<Quotas> = {
  nics: 1000,
  vips: 5000,
  security_group_rules: 100,
  nics_per_instance: 64,
};

function emptyTables(): Tables {
  return {
    accessKeys: new Map(),
    instances: new Map(),
    vxnets: new Map(),
    nics: new Map(),
    jobs: new Map(),
    vips: new Map(),
    securityGroups: new Map(),
    securityGroupRules: new Map(),
    tags: new Map(),
    clusters: new Map(),
  };
}

/** Everything the fake cloud knows. Insertion order of each table is creation order, and listing order. */
export class FakeStore {
  zones: string[] = [];
  quotas: Quotas = { ...DEFAULT_QUOTAS };
  tables: Tables = emptyTables();
  readonly lag = new LagTracker();
  /** Bumped on every wholesale replacement, so that in-flight job work can tell its state is gone. */
  generation = 0;

  clear(): void {
    this.tables = emptyTables();
    this.zones = [];
    this.quotas = { ...DEFAULT_QUOTAS };
    this.lag.clear();
    this.generation++;
  }

  snapshot(): FakeStateSnapshot {
    const t = this.tables;
    return structuredClone({
      zones: this.zones,
      quotas: this.quotas,
      accessKeys: [...t.accessKeys.values()],
      instances: [...t.instances.values()],
      vxnets: [...t.vxnets.values()],
      nics: [...t.nics.values()],
      jobs: [...t.jobs.values()],
      vips: [...t.vips.values()],
      securityGroups: [...t.securityGroups.values()],
      securityGroupRules: [...t.securityGroupRules.values()],
      tags: [...t.tags.values()],
      clusters: [...t.clusters.values()],
    });
  }

  /** Whether any table already uses this id (ids are unique across kinds in QingCloud). */
  hasId(id: string): boolean {
    return Object.values(this.tables).some((table: Map<string, unknown>) => table.has(id));
  }

  /** The tables lag applies to: jobs are excluded so that a lagged call never hides its own job. */
  laggedTables(): Map<string, Map<string, unknown>> {
    const { jobs: _jobs, ...rest } = this.tables;
    return new Map(Object.entries(rest));
  }

  /** Runs a mutation; with `lagMs` > 0, Describe* keeps the pre-mutation view of what it touched. */
  mutate<T>(lagMs: number, nowMs: number, fn: () => T): T {
    if (lagMs <= 0) return fn();
    const before = this.lag.capture(this.laggedTables());
    try {
      return fn();
    } finally {
      this.lag.commit(before, this.laggedTables(), lagMs, nowMs);
    }
  }

  /** Addresses of a vxnet that are spoken for: NICs, VIPs (pending too), reservations, the gateway. */
  usedAddresses(vxnetId: string): Set<number> {
    const used = new Set<number>();
    const add = (ip: string | null | undefined): void => {
      const value = ip ? parseIpv4(ip) : undefined;
      if (value !== undefined) used.add(value);
    };
    for (const nic of this.tables.nics.values()) if (nic.vxnet_id === vxnetId) add(nic.private_ip);
    for (const vip of this.tables.vips.values()) if (vip.vxnet_id === vxnetId) add(vip.vip_addr);
    const vxnet = this.tables.vxnets.get(vxnetId);
    if (vxnet) {
      for (const ip of vxnet.reserved_ips) add(ip);
      add(vxnet.router?.manager_ip);
    }
    return used;
  }
}
