import type { Vxnet } from '@hostnic/iaas-client';
import type { VxNetIaasInfo } from '@hostnic/ipam';

/** The fields of a described vxnet that decide its pod range (spec ipam-controller 2.2). */
export function iaasInfoOf(vxnet: Vxnet): VxNetIaasInfo {
  const router = vxnet.router;
  return {
    vxnetId: vxnet.vxnetId,
    ipNetwork: router?.ipNetwork,
    managerIp: router?.managerIp,
    dynIpStart: router?.dynIpStart,
    dynIpEnd: router?.dynIpEnd,
    tunnelType: vxnet.tunnelType === 'vlan' ? 'vlan' : vxnet.tunnelType === undefined ? undefined : 'vxlan',
  };
}
