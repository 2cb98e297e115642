import { paginate } from '../api-params.ts';
import { badParam, missingParam, quotaExceeded } from '../errors.ts';
import { SG_PROTOCOLS } from '../records.ts';
import type { SecurityGroupRuleRecord } from '../types.ts';
import type { ActionContext, ActionHandler, ActionResult } from './context.ts';
import { createJob, idFilter, inScope, lookup } from './context.ts';

function ruleView(rule: SecurityGroupRuleRecord): ActionResult {
  return {
    security_group_rule_id: rule.security_group_rule_id,
    security_group_rule_name: rule.security_group_rule_name,
    security_group_id: rule.security_group_id,
    action: rule.action,
    direction: rule.direction,
    priority: rule.priority,
    protocol: rule.protocol,
    val1: rule.val1,
    val2: rule.val2,
    val3: rule.val3,
    disabled: 0,
  };
}

const INTEGER = /^\d+$/;

function ruleFromFields(
  ctx: ActionContext,
  groupId: string,
  index: number,
  fields: Readonly<Record<string, string>>,
): SecurityGroupRuleRecord {
  const at = (name: string): string => `rules.${index}.${name}`;
  const protocol = fields['protocol'];
  if (!protocol) throw missingParam(at('protocol'));
  if (!(SG_PROTOCOLS as readonly string[]).includes(protocol)) {
    throw badParam(`${at('protocol')} [${protocol}] should be one of ${SG_PROTOCOLS.join(', ')}`);
  }
  const priorityText = fields['priority'];
  if (priorityText === undefined || priorityText === '') throw missingParam(at('priority'));
  const priority = INTEGER.test(priorityText) ? Number(priorityText) : Number.NaN;
  if (!(priority >= 0 && priority <= 100)) throw badParam(`${at('priority')} should be in 0..100, got [${priorityText}]`);
  const action = fields['action'] || 'accept';
  if (action !== 'accept' && action !== 'drop') throw badParam(`${at('action')} should be accept or drop, got [${action}]`);
  const directionText = fields['direction'] || '0';
  if (directionText !== '0' && directionText !== '1') throw badParam(`${at('direction')} should be 0 or 1, got [${directionText}]`);
  return {
    security_group_rule_id: ctx.ids.id('sgr-', 8, (id) => ctx.store.hasId(id)),
    security_group_id: groupId,
    security_group_rule_name: fields['security_group_rule_name'] ?? '',
    action,
    direction: directionText === '1' ? 1 : 0,
    priority,
    protocol,
    val1: fields['val1'] ?? '',
    val2: fields['val2'] ?? '',
    val3: fields['val3'] ?? '',
  };
}

export const addSecurityGroupRules: ActionHandler = (ctx) => {
  const group = lookup(ctx, ctx.store.tables.securityGroups, ctx.params.required('security_group'));
  const items = ctx.params.objects('rules');
  if (items.length === 0) throw missingParam('rules.1.protocol');
  const rules = items.map(({ index, fields }) => ruleFromFields(ctx, group.security_group_id, index, fields));
  const table = ctx.store.tables.securityGroupRules;
  const existing = [...table.values()].filter((r) => r.security_group_id === group.security_group_id).length;
  if (existing + rules.length > ctx.store.quotas.security_group_rules) {
    throw quotaExceeded(`security group [${group.security_group_id}] can have at most ${ctx.store.quotas.security_group_rules} rules`);
  }
  for (const rule of rules) table.set(rule.security_group_rule_id, rule);
  group.is_applied = 0;
  return { security_group_rules: rules.map((r) => r.security_group_rule_id) };
};

export const applySecurityGroup: ActionHandler = (ctx) => {
  const group = lookup(ctx, ctx.store.tables.securityGroups, ctx.params.required('security_group'));
  const instances = ctx.params.list('instances').map((id) => lookup(ctx, ctx.store.tables.instances, id).instance_id);
  const job = createJob(ctx, {
    action: 'ApplySecurityGroup',
    resourceIds: [group.security_group_id, ...instances],
    directive: { security_group: group.security_group_id, instances },
  });
  return { job_id: job.job_id };
};

export const describeSecurityGroupRules: ActionHandler = (ctx) => {
  const p = ctx.params;
  const group = p.str('security_group');
  const direction = p.int('direction', { min: 0, max: 1 });
  const byId = idFilter(p.list('security_group_rules'));
  const groups = ctx.store.tables.securityGroups;
  const matches = ctx.store.lag.view('securityGroupRules', ctx.store.tables.securityGroupRules, ctx.nowMs).filter((rule) => {
    const owner = groups.get(rule.security_group_id);
    if (owner === undefined || !inScope(ctx, owner)) return false;
    return (group === undefined || rule.security_group_id === group) &&
      (direction === undefined || rule.direction === direction) &&
      byId(rule.security_group_rule_id);
  });
  // Array.prototype.sort is stable, so equal priorities keep creation order.
  matches.sort((a, b) => a.priority - b.priority);
  const page = paginate(matches, p, ctx.settings.maxLimit);
  return { security_group_rule_set: page.items.map(ruleView), total_count: page.total_count };
};

export const deleteSecurityGroupRules: ActionHandler = (ctx) => {
  const ids = ctx.params.list('security_group_rules');
  if (ids.length === 0) throw missingParam('security_group_rules.1');
  const table = ctx.store.tables.securityGroupRules;
  const groups = ctx.store.tables.securityGroups;
  // Rules carry no owner of their own; their group's scope decides.
  const scoped = new Map<string, { owner: string; zone: string }>();
  for (const [id, rule] of table) {
    const group = groups.get(rule.security_group_id);
    if (group) scoped.set(id, group);
  }
  for (const id of ids) lookup(ctx, scoped, id);
  for (const id of ids) {
    const rule = table.get(id);
    const group = rule ? groups.get(rule.security_group_id) : undefined;
    if (group) group.is_applied = 0;
    table.delete(id);
  }
  return { security_group_rules: ids };
};
