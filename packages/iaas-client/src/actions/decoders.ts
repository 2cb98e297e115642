import type { FieldReader } from '../decode.ts';
import type {
  AccessKey,
  Cluster,
  ClusterNode,
  CreatedNic,
  Job,
  Nic,
  SecurityGroupRule,
  Vip,
  Vxnet,
} from '../types.ts';

export function decodeNic(r: FieldReader): Nic {
  const tags = r.list('tags').map((t) => t.optStr('tag_id') ?? t.optStr('tag_name') ?? '');
  return {
    nicId: r.str('nic_id').toLowerCase(),
    nicName: r.optStr('nic_name') ?? '',
    vxnetId: r.str('vxnet_id'),
    role: r.int('role'),
    status: r.str('status'),
    privateIp: r.optStr('private_ip') || null,
    instanceId: r.optStr('instance_id') ?? '',
    sequence: r.optInt('sequence'),
    securityGroup: r.optStr('security_group'),
    tags,
    owner: r.optStr('owner'),
    createTime: r.optStr('create_time'),
    statusTime: r.optStr('status_time'),
  };
}

export function decodeCreatedNic(r: FieldReader): CreatedNic {
  return { nicId: r.str('nic_id').toLowerCase(), privateIp: r.optStr('private_ip') || null };
}

export function decodeVxnet(r: FieldReader): Vxnet {
  const router = r.optObj('router');
  return {
    vxnetId: r.str('vxnet_id'),
    vxnetName: r.optStr('vxnet_name'),
    vxnetType: r.optInt('vxnet_type'),
    tunnelType: r.optStr('tunnel_type'),
    vpcRouterId: r.optStr('vpc_router_id'),
    router:
      router === null
        ? null
        : {
            routerId: router.optStr('router_id'),
            routerName: router.optStr('router_name'),
            managerIp: router.str('manager_ip'),
            ipNetwork: router.str('ip_network'),
            dynIpStart: router.str('dyn_ip_start'),
            dynIpEnd: router.str('dyn_ip_end'),
            mode: router.optInt('mode'),
          },
  };
}

function parseDirective(text: string | undefined): unknown {
  if (text === undefined || text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function decodeJob(r: FieldReader): Job {
  const resourceIds = r.optStr('resource_ids') ?? '';
  return {
    jobId: r.str('job_id'),
    jobAction: r.optStr('job_action'),
    status: r.optStr('status'),
    resourceIds: resourceIds.split(/[\s,]+/).filter((s) => s !== ''),
    directive: parseDirective(r.optStr('directive')),
    owner: r.optStr('owner'),
    createTime: r.optStr('create_time'),
    statusTime: r.optStr('status_time'),
  };
}

export function decodeVip(r: FieldReader): Vip {
  return {
    vipId: r.str('vip_id'),
    vipName: r.str('vip_name'),
    vipAddr: r.str('vip_addr'),
    vxnetId: r.str('vxnet_id'),
    nicId: r.optStr('nic_id'),
    instanceId: r.optStr('instance_id'),
    createTime: r.optStr('create_time'),
  };
}

export function decodeSecurityGroupRule(r: FieldReader): SecurityGroupRule {
  return {
    securityGroupRuleId: r.str('security_group_rule_id'),
    securityGroupRuleName: r.str('security_group_rule_name'),
    securityGroupId: r.str('security_group_id'),
    action: r.str('action'),
    direction: r.int('direction'),
    priority: r.int('priority'),
    protocol: r.str('protocol'),
    val1: r.optStr('val1') ?? '',
    val2: r.optStr('val2') ?? '',
    val3: r.str('val3'),
  };
}

export function decodeCluster(r: FieldReader): Cluster {
  return { clusterId: r.str('cluster_id'), securityGroupId: r.str('security_group_id'), status: r.optStr('status') };
}

export function decodeClusterNode(r: FieldReader): ClusterNode {
  return {
    nodeId: r.str('node_id'),
    instanceId: r.str('instance_id'),
    hostMachine: r.str('host_machine'),
    privateIp: r.str('private_ip'),
    clusterId: r.str('cluster_id'),
    status: r.str('status'),
  };
}

export function decodeAccessKey(r: FieldReader): AccessKey {
  return { accessKeyId: r.str('access_key_id'), owner: r.str('owner'), status: r.optStr('status') };
}
