import { describe, expect, it } from 'vitest';
import { decodeGoRecord, GoRecordError } from '../../src/migrate/go-records.ts';

// The shape the Go agent wrote: zero values omitted, enums as numbers, the misspelt "Containter".
const example = JSON.stringify({
  Nic: {
    VxNet: { ID: 'vxnet-abc1234', Gateway: '172.22.0.1', Network: '172.22.0.0/24', IPStart: '172.22.0.2', IPEnd: '172.22.0.218', TunnelType: 'vxlan' },
    ID: '52:54:9E:D0:DD:96', HardwareAddr: '52:54:9e:d0:dd:96', Reserved: true, RouteTableNum: 260, Phase: 4,
  },
  Pods: {
    '3f1c': { Name: 'web-0', Namespace: 'default', Containter: '3f1c', Netns: '/proc/1234/ns/net', IfName: 'eth0', PodIP: '172.22.0.205', VxNet: 'vxnet-abc1234', nodeName: 'node2' },
  },
});

describe('decodeGoRecord', () => {
  it('reads the Go agent\'s record of a NIC and its pods', () => {
    expect(decodeGoRecord('vxnet-abc1234', example)).toEqual({
      vxnetId: 'vxnet-abc1234', nicId: '52:54:9e:d0:dd:96', routeTable: 260, phase: 4,
      network: '172.22.0.0/24', gateway: '172.22.0.1', tunnelType: 'vxlan',
      pods: [{ containerId: '3f1c', name: 'web-0', namespace: 'default', podIp: '172.22.0.205', ifName: 'eth0', netns: '/proc/1234/ns/net' }],
    });
  });

  it('takes omitted zero values as Go meant them: phase Init, no pods, eth0', () => {
    const r = decodeGoRecord('vxnet-x', JSON.stringify({ Nic: { VxNet: { ID: 'vxnet-x' }, ID: '52:54:00:00:00:01' }, Pods: { c: { PodIP: '10.0.0.9' } } }));
    expect(r.phase).toBe(0);
    expect(r.routeTable).toBeUndefined();
    expect(r.pods[0]!.ifName).toBe('eth0');
  });

  it.each([
    ['not json', /value is not JSON/],
    ['{"Pods":{}}', /no "Nic" object/],
    ['{"Nic":{"VxNet":{"ID":"vxnet-other"},"ID":"m"}}', /Nic.VxNet.ID is "vxnet-other", not the key/],
    ['{"Nic":{"VxNet":{"ID":"vxnet-k"}}}', /Nic.ID \(the NIC's MAC\) is missing/],
    ['{"Nic":{"ID":"m","RouteTableNum":-1}}', /Nic.RouteTableNum must be a positive integer/],
    ['{"Nic":{"ID":"m"},"Pods":{"c":{"PodIP":"fe80::1"}}}', /Pods\["c"\].PodIP must be an IPv4 address/],
    ['{"Nic":{"ID":"m","VxNet":{"TunnelType":"gre"}}}', /TunnelType must be vxlan or vlan/],
  ])('refuses %s naming the field', (value, message) => {
    expect(() => decodeGoRecord('vxnet-k', value)).toThrow(GoRecordError);
    expect(() => decodeGoRecord('vxnet-k', value)).toThrow(message);
  });
});
