/**
 * Policy rules (priority, from, to, table), added and removed exactly.
 *
 * The kernel's `rule del` matches on the selectors the request names and treats every other selector as a
 * wildcard: `rule del priority 1535 to X table main` would also delete `1535 from 10.0.0.0/8 to X iif lo
 * lookup main` if that came first. Removal therefore reads the rules first, deletes only when the rule the
 * kernel would pick is exactly ours, and refuses when a foreign rule would be hit.
 * Adding relies on the kernel's exact duplicate check (EEXIST for an identical rule, Linux ≥ 4.17) and
 * additionally checks the rules it read, so old kernels that accept duplicates get none either.
 *
 * @packageDocumentation
 */

import { checkPrefix } from './addr-util.ts';
import type { BatchOp } from './batch.ts';
import { applyBatchOrThrow, op } from './batch.ts';
import { CommandError, InvalidArgumentError } from './errors.ts';
import type { LinkOptions } from './links.ts';
import { readRules } from './snapshot.ts';
import type { Rule } from './types.ts';

/** A rule: `priority P [from SRC] [to DST] lookup TABLE`. */
export interface RuleSpec {
  readonly priority: number;
  /** Source prefix; undefined for `from all`. */
  readonly src?: string | undefined;
  /** Destination prefix; undefined for none. */
  readonly dst?: string | undefined;
  readonly table: number;
}

function checkSpec(spec: RuleSpec): RuleSpec {
  if (!Number.isInteger(spec.priority) || spec.priority < 0 || spec.priority > 0xffffffff) {
    throw new InvalidArgumentError('rule priority', spec.priority, 'not a priority');
  }
  if (!Number.isInteger(spec.table) || spec.table < 1 || spec.table > 0xffffffff) {
    throw new InvalidArgumentError('rule table', spec.table, 'not a table id');
  }
  return {
    priority: spec.priority,
    src: spec.src === undefined ? undefined : checkPrefix('rule from', spec.src),
    dst: spec.dst === undefined ? undefined : checkPrefix('rule to', spec.dst),
    table: spec.table,
  };
}

function ruleArgs(verb: 'add' | 'del', spec: RuleSpec): string[] {
  const s = checkSpec(spec);
  const args = ['rule', verb, 'priority', String(s.priority)];
  if (s.src !== undefined) args.push('from', s.src);
  if (s.dst !== undefined) args.push('to', s.dst);
  args.push('table', String(s.table));
  return args;
}

/** `rule add priority P [from] [to] table T`; the kernel's EEXIST for an identical rule means done. */
export function ruleAddOp(spec: RuleSpec): BatchOp {
  return op(ruleArgs('add', spec), ['EEXIST']);
}

/**
 * `rule del priority P [from] [to] table T`; missing (ENOENT) means done. Use it only after
 * {@link planRuleRemoval} said the kernel's pick is exact.
 */
export function ruleDelOp(spec: RuleSpec): BatchOp {
  return op(ruleArgs('del', spec), ['ENOENT']);
}

/** Whether `rule` is exactly `spec`: same priority, from, to, table, action lookup, no other selector. */
export function isExactRule(rule: Rule, spec: RuleSpec): boolean {
  const s = checkSpec(spec);
  return (
    rule.priority === s.priority &&
    rule.src === s.src &&
    rule.dst === s.dst &&
    rule.table === s.table &&
    rule.action === 'lookup' &&
    !rule.not &&
    rule.iif === undefined &&
    rule.oif === undefined &&
    rule.fwmark === undefined &&
    rule.extra.length === 0
  );
}

/** Whether the kernel would consider `rule` a match for a delete request naming only `spec`'s selectors. */
export function matchesDeleteRequest(rule: Rule, spec: RuleSpec): boolean {
  const s = checkSpec(spec);
  if (rule.priority !== s.priority || rule.table !== s.table || rule.action !== 'lookup') return false;
  if (s.src !== undefined && rule.src !== s.src) return false;
  if (s.dst !== undefined && rule.dst !== s.dst) return false;
  return true;
}

/** What removing `spec` from `rules` (in kernel order) takes. */
export interface RuleRemovalPlan {
  /** Exact copies present. */
  readonly present: number;
  /** How many `rule del` requests delete exact copies only (each deletes the kernel's first match). */
  readonly deletable: number;
  /** A non-exact rule would be hit before the remaining exact copies. */
  readonly blockedBy?: Rule | undefined;
}

/** Plans the removal of every exact copy of `spec` (pure). */
export function planRuleRemoval(rules: readonly Rule[], spec: RuleSpec): RuleRemovalPlan {
  const candidates = rules.filter((r) => matchesDeleteRequest(r, spec));
  const present = candidates.filter((r) => isExactRule(r, spec)).length;
  let deletable = 0;
  for (const r of candidates) {
    if (!isExactRule(r, spec)) {
      return deletable < present ? { present, deletable, blockedBy: r } : { present, deletable };
    }
    deletable++;
  }
  return { present, deletable };
}

function formatRule(r: Rule): string {
  const parts = [`${r.priority}:`, r.not ? 'not' : '', `from ${r.src ?? 'all'}`];
  if (r.dst) parts.push(`to ${r.dst}`);
  if (r.iif) parts.push(`iif ${r.iif}`);
  if (r.oif) parts.push(`oif ${r.oif}`);
  if (r.fwmark) parts.push(`fwmark ${r.fwmark}${r.fwmask ? `/${r.fwmask}` : ''}`);
  parts.push(...r.extra);
  parts.push(r.table === undefined ? r.action : `lookup ${r.table}`);
  return parts.filter((p) => p !== '').join(' ');
}

/** The ops that remove every exact copy; throws when a foreign rule would be deleted instead. */
export function ruleRemovalOps(rules: readonly Rule[], spec: RuleSpec): BatchOp[] {
  const plan = planRuleRemoval(rules, spec);
  if (plan.blockedBy) {
    throw new CommandError('refusing to delete a rule: the kernel would delete a rule with more selectors first', {
      argv: [],
      kernelMessage: `wanted "${ruleArgs('del', spec).slice(2).join(' ')}", blocked by "${formatRule(plan.blockedBy)}"`,
    });
  }
  return Array.from({ length: plan.deletable }, () => ruleDelOp(spec));
}

/** Makes sure exactly one copy of the rule exists (adds it, or deletes surplus copies). */
export async function ensureRule(spec: RuleSpec, options?: LinkOptions): Promise<void> {
  const rules = await readRules(options);
  const plan = planRuleRemoval(rules, spec);
  if (plan.present === 0) {
    await applyBatchOrThrow([ruleAddOp(spec)], options);
    return;
  }
  // Old kernels accepted identical rules twice; keep one.
  const surplus = Math.min(plan.present - 1, plan.deletable);
  if (surplus > 0) await applyBatchOrThrow(Array.from({ length: surplus }, () => ruleDelOp(spec)), options);
}

/** Removes every exact copy of the rule; leaves rules with more selectors alone. */
export async function removeRule(spec: RuleSpec, options?: LinkOptions): Promise<void> {
  const rules = await readRules(options);
  await applyBatchOrThrow(ruleRemovalOps(rules, spec), options);
}
