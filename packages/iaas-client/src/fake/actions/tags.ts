import { badParam, missingParam } from '../errors.ts';
import type { ActionContext, ActionHandler } from './context.ts';
import { lookup } from './context.ts';

/** The resource must exist (2100) in a table that taggable resources of that type live in (1100). */
function checkResource(ctx: ActionContext, type: string, id: string): void {
  const t = ctx.store.tables;
  const tables: Record<string, ReadonlyMap<string, { owner: string; zone: string }>> = {
    nic: t.nics,
    instance: t.instances,
    vxnet: t.vxnets,
    security_group: t.securityGroups,
    vip: t.vips,
    cluster: t.clusters,
  };
  const table = tables[type];
  if (table === undefined) throw badParam(`resource_type [${type}] is not supported`);
  lookup(ctx, table, id);
}

export const attachTags: ActionHandler = (ctx) => {
  const pairs = ctx.params.objects('resource_tag_pairs');
  if (pairs.length === 0) throw missingParam('resource_tag_pairs.1.tag_id');
  const checked = pairs.map(({ index, fields }) => {
    const tagId = fields['tag_id'];
    const type = fields['resource_type'];
    const resourceId = fields['resource_id'];
    if (!tagId) throw missingParam(`resource_tag_pairs.${index}.tag_id`);
    if (!type) throw missingParam(`resource_tag_pairs.${index}.resource_type`);
    if (!resourceId) throw missingParam(`resource_tag_pairs.${index}.resource_id`);
    const tag = lookup(ctx, ctx.store.tables.tags, tagId);
    checkResource(ctx, type, resourceId);
    return { tag, pair: { resource_id: resourceId, resource_type: type } };
  });
  for (const { tag, pair } of checked) {
    const present = tag.resource_tag_pairs.some((p) => p.resource_id === pair.resource_id && p.resource_type === pair.resource_type);
    if (!present) tag.resource_tag_pairs.push(pair);
  }
  return {};
};
