import { paginate } from '../api-params.ts';
import type { ActionHandler } from './context.ts';
import { idFilter } from './context.ts';

/** Keys of the caller's account only, and never their secrets. */
export const describeAccessKeys: ActionHandler = (ctx) => {
  const byId = idFilter(ctx.params.list('access_keys'));
  const matches = ctx.store.lag
    .view('accessKeys', ctx.store.tables.accessKeys, ctx.nowMs)
    .filter((key) => key.owner === ctx.owner && byId(key.access_key_id));
  const page = paginate(matches, ctx.params, ctx.settings.maxLimit);
  return {
    access_key_set: page.items.map((key) => ({
      access_key_id: key.access_key_id,
      access_key_name: key.access_key_name,
      owner: key.owner,
      status: key.status,
      create_time: key.create_time,
    })),
    total_count: page.total_count,
  };
};
