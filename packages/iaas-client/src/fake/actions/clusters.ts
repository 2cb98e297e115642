import { paginate } from '../api-params.ts';
import type { ClusterNodeRecord, ClusterRecord } from '../types.ts';
import type { ActionHandler, ActionResult } from './context.ts';
import { idFilter, visible } from './context.ts';

function clusterView(cluster: ClusterRecord): ActionResult {
  return {
    cluster_id: cluster.cluster_id,
    name: cluster.name,
    security_group_id: cluster.security_group_id,
    vxnet_id: cluster.vxnet_id,
    status: cluster.status,
    node_count: cluster.nodes.length,
    owner: cluster.owner,
    create_time: cluster.create_time,
  };
}

function nodeView(node: ClusterNodeRecord): ActionResult {
  return {
    node_id: node.node_id,
    name: node.name,
    cluster_id: node.cluster_id,
    instance_id: node.instance_id,
    host_machine: node.host_machine,
    private_ip: node.private_ip,
    status: node.status,
  };
}

export const describeClusters: ActionHandler = (ctx) => {
  const byId = idFilter(ctx.params.list('clusters'));
  const matches = visible(ctx, 'clusters', ctx.store.tables.clusters).filter((c) => byId(c.cluster_id));
  const page = paginate(matches, ctx.params, ctx.settings.maxLimit);
  return { cluster_set: page.items.map(clusterView), total_count: page.total_count };
};

export const describeClusterNodes: ActionHandler = (ctx) => {
  const cluster = ctx.params.str('cluster');
  const byNode = idFilter(ctx.params.list('nodes'));
  const nodes = visible(ctx, 'clusters', ctx.store.tables.clusters)
    .filter((c) => cluster === undefined || c.cluster_id === cluster)
    .flatMap((c) => c.nodes)
    .filter((n) => byNode(n.node_id));
  const page = paginate(nodes, ctx.params, ctx.settings.maxLimit);
  return { node_set: page.items.map(nodeView), total_count: page.total_count };
};
