import type { QingCloudApi } from '../api.ts';
import { IaasInputError } from '../errors.ts';
import type { JobRef, NewSecurityGroupRule, SecurityGroupRule } from '../types.ts';
import { decodeSecurityGroupRule } from './decoders.ts';
import { listAll, type PageOptions } from './paging.ts';
import { requireIntRange, requireList, requireNonEmpty } from './validate.ts';

export interface DescribeSecurityGroupRulesFilter {
  securityGroup?: string;
  direction?: 0 | 1;
  securityGroupRules?: readonly string[];
}

export async function describeSecurityGroupRules(
  api: QingCloudApi,
  filter: DescribeSecurityGroupRulesFilter,
  options?: PageOptions,
): Promise<SecurityGroupRule[]> {
  return listAll(
    api,
    'DescribeSecurityGroupRules',
    { security_group: filter.securityGroup, direction: filter.direction, security_group_rules: filter.securityGroupRules },
    'security_group_rule_set',
    decodeSecurityGroupRule,
    options,
  );
}

export interface AddSecurityGroupRulesInput {
  securityGroup: string;
  rules: readonly NewSecurityGroupRule[];
}

/**
 * Adds rules (not yet effective: call applySecurityGroup). An attempt with an unknown outcome is retried
 * only when every rule is named, after checking that no rule of that name exists yet.
 */
export async function addSecurityGroupRules(
  api: QingCloudApi,
  input: AddSecurityGroupRulesInput,
  signal?: AbortSignal,
): Promise<string[]> {
  const action = 'AddSecurityGroupRules';
  requireNonEmpty(action, 'securityGroup', input.securityGroup);
  if (input.rules.length === 0) throw new IaasInputError(action, 'rules', 'must contain at least one rule');
  input.rules.forEach((rule, i) => {
    requireNonEmpty(action, `rules[${i}].protocol`, rule.protocol);
    requireIntRange(action, `rules[${i}].priority`, rule.priority, 0, 100);
  });
  const names = input.rules.map((r) => r.securityGroupRuleName);
  const allNamed = names.every((n): n is string => n !== undefined && n !== '');
  return api.call(
    action,
    {
      security_group: input.securityGroup,
      rules: input.rules.map((r) => ({
        protocol: r.protocol,
        priority: r.priority,
        action: r.action,
        direction: r.direction,
        security_group_rule_name: r.securityGroupRuleName,
        val1: r.val1,
        val2: r.val2,
        val3: r.val3,
      })),
    },
    {
      signal,
      idempotent: false,
      decode: (r) => r.strList('security_group_rules'),
      ...(allNamed
        ? {
            recover: async () => {
              const existing = await describeSecurityGroupRules(api, { securityGroup: input.securityGroup }, { signal });
              const matches = input.rules.map((rule) =>
                existing.find(
                  (e) =>
                    e.securityGroupRuleName === rule.securityGroupRuleName &&
                    e.protocol === rule.protocol &&
                    e.val3 === (rule.val3 ?? ''),
                ),
              );
              if (matches.every((m) => m === undefined)) return undefined;
              return matches.flatMap((m) => (m ? [m.securityGroupRuleId] : []));
            },
          }
        : {}),
    },
  );
}

/** Makes the security group's rules effective; repeating it is harmless, so it is retried freely. */
export async function applySecurityGroup(
  api: QingCloudApi,
  securityGroup: string,
  options: { instances?: readonly string[]; signal?: AbortSignal } = {},
): Promise<JobRef> {
  requireNonEmpty('ApplySecurityGroup', 'securityGroup', securityGroup);
  return api.call(
    'ApplySecurityGroup',
    { security_group: securityGroup, instances: options.instances },
    { signal: options.signal, idempotent: true, decode: (r) => ({ jobId: r.str('job_id') }) },
  );
}

export async function deleteSecurityGroupRules(
  api: QingCloudApi,
  rules: readonly string[],
  signal?: AbortSignal,
): Promise<void> {
  const action = 'DeleteSecurityGroupRules';
  requireList(action, 'securityGroupRules', rules);
  await api.call(
    action,
    { security_group_rules: rules },
    {
      signal,
      idempotent: false,
      decode: () => undefined,
      recover: async () => {
        const left = await describeSecurityGroupRules(api, { securityGroupRules: rules }, { signal });
        return left.length === 0 ? null : undefined;
      },
    },
  );
}

/** Page options re-exported for callers that list rules of large groups. */
export type { PageOptions };
