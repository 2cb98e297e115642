/** Loading a whole state snapshot (from `getState()`, a JSON file or the control API) into a store. */
import { FakeInputError } from './errors.ts';
import type { IdGenerator } from './random.ts';
import {
  accessKeyFromRecord,
  clusterFromInput,
  instanceFromInput,
  jobFromRecord,
  nicFromInput,
  securityGroupFromInput,
  securityGroupRuleFromInput,
  tagFromInput,
  vipFromRecord,
  vxnetFromInput,
} from './records.ts';
import type { RecordContext } from './records.ts';
import { DEFAULT_QUOTAS, FakeStore } from './store.ts';
import type { Quotas } from './types.ts';
import { Reader, stringItem } from './validate.ts';

export const DEFAULT_OWNER = 'usr-example1';

function quotasFrom(reader: Reader, key: string, base: Quotas): Quotas {
  if (!reader.has(key)) {
    reader.raw(key);
    return { ...base };
  }
  const r = new Reader(reader.raw(key), reader.field(key));
  const quotas: Quotas = {
    nics: r.optInt('nics', { min: 0 }) ?? base.nics,
    vips: r.optInt('vips', { min: 0 }) ?? base.vips,
    security_group_rules: r.optInt('security_group_rules', { min: 0 }) ?? base.security_group_rules,
    nics_per_instance: r.optInt('nics_per_instance', { min: 1 }) ?? base.nics_per_instance,
  };
  r.done();
  return quotas;
}

export function parseQuotas(value: unknown, base: Quotas): Quotas {
  return quotasFrom(new Reader({ quotas: value }, ''), 'quotas', base);
}

/**
 * Builds a new store from a snapshot. Missing collections are empty, missing zones default to
 * `defaultZones`. Nothing is half-loaded: the caller swaps the result in only when this returns.
 */
export function loadSnapshot(input: unknown, ids: IdGenerator, nowIso: string, defaultZones: readonly string[]): FakeStore {
  const store = new FakeStore();
  const r = new Reader(input, '');
  const zones = r.optArray('zones', stringItem) ?? [...defaultZones];
  if (zones.length === 0) throw new FakeInputError('zones', 'must name at least one zone');
  store.zones = [...new Set(zones)];
  store.quotas = quotasFrom(r, 'quotas', DEFAULT_QUOTAS);
  const t = store.tables;

  const firstKey = r.has('accessKeys') ? (r.raw('accessKeys') as unknown[] | undefined)?.[0] : undefined;
  const firstOwner = typeof firstKey === 'object' && firstKey !== null ? (firstKey as Record<string, unknown>)['owner'] : undefined;
  const ctx: RecordContext = {
    store,
    ids,
    nowIso,
    owner: typeof firstOwner === 'string' ? firstOwner : DEFAULT_OWNER,
    zone: store.zones[0] ?? '',
  };
  const each = (key: string, load: (item: unknown, path: string) => void): void => {
    r.optArray(key, (item, path) => load(item, path));
  };
  each('accessKeys', (item, path) => {
    const key = accessKeyFromRecord(item, path, ctx);
    t.accessKeys.set(key.access_key_id, key);
  });
  each('vxnets', (item, path) => {
    const vxnet = vxnetFromInput(item, path, ctx);
    t.vxnets.set(vxnet.vxnet_id, vxnet);
  });
  each('instances', (item, path) => {
    const { instance } = instanceFromInput(item, path, ctx, 'restore');
    t.instances.set(instance.instance_id, instance);
  });
  each('nics', (item, path) => {
    const nic = nicFromInput(item, path, ctx, 'restore');
    t.nics.set(nic.nic_id, nic);
  });
  each('jobs', (item, path) => {
    const job = jobFromRecord(item, path, ctx);
    t.jobs.set(job.job_id, job);
  });
  each('vips', (item, path) => {
    const vip = vipFromRecord(item, path, ctx);
    t.vips.set(vip.vip_id, vip);
  });
  each('securityGroups', (item, path) => {
    const { group, rules } = securityGroupFromInput(item, path, ctx);
    t.securityGroups.set(group.security_group_id, group);
    for (const rule of rules) t.securityGroupRules.set(rule.security_group_rule_id, rule);
  });
  each('securityGroupRules', (item, path) => {
    const rule = securityGroupRuleFromInput(item, path, ctx, undefined);
    if (!t.securityGroups.has(rule.security_group_id)) {
      throw new FakeInputError(`${path}.security_group_id`, `security group ${rule.security_group_id} is not in securityGroups`);
    }
    t.securityGroupRules.set(rule.security_group_rule_id, rule);
  });
  each('tags', (item, path) => {
    const tag = tagFromInput(item, path, ctx);
    t.tags.set(tag.tag_id, tag);
  });
  each('clusters', (item, path) => {
    const cluster = clusterFromInput(item, path, ctx);
    t.clusters.set(cluster.cluster_id, cluster);
  });
  r.done();
  return store;
}
