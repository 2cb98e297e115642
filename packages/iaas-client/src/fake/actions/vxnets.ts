import { paginate } from '../api-params.ts';
import type { VxnetRecord } from '../types.ts';
import type { ActionHandler, ActionResult } from './context.ts';
import { idFilter, visible } from './context.ts';

function vxnetView(vxnet: VxnetRecord): ActionResult {
  const router = vxnet.router;
  return {
    vxnet_id: vxnet.vxnet_id,
    vxnet_name: vxnet.vxnet_name,
    vxnet_type: vxnet.vxnet_type,
    vpc_router_id: router?.router_id ?? '',
    router: router === null
      ? null
      : {
          router_id: router.router_id,
          router_name: router.router_name,
          manager_ip: router.manager_ip,
          ip_network: router.ip_network,
          dyn_ip_start: router.dyn_ip_start,
          dyn_ip_end: router.dyn_ip_end,
          mode: router.mode,
        },
    tunnel_type: vxnet.tunnel_type,
    description: '',
    owner: vxnet.owner,
    create_time: vxnet.create_time,
  };
}

export const describeVxnets: ActionHandler = (ctx) => {
  const p = ctx.params;
  const byId = idFilter(p.list('vxnets'));
  const types = p.listOrScalar('vxnet_type');
  const search = p.str('search_word')?.toLowerCase();
  const matches = visible(ctx, 'vxnets', ctx.store.tables.vxnets).filter((vxnet) => {
    if (!byId(vxnet.vxnet_id)) return false;
    if (types.length > 0) {
      if (!types.includes(String(vxnet.vxnet_type))) return false;
    } else if (ctx.settings.hideVxnetType2ByDefault && vxnet.vxnet_type === 2) {
      return false;
    }
    if (search !== undefined && !`${vxnet.vxnet_id} ${vxnet.vxnet_name}`.toLowerCase().includes(search)) return false;
    return true;
  });
  const page = paginate(matches, p, ctx.settings.maxLimit);
  return { vxnet_set: page.items.map(vxnetView), total_count: page.total_count };
};
