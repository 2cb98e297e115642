import { describe, expect, it } from 'vitest';
import type { VxNetIaasInfo } from '../src/index.ts';
import {
  InvalidCustomReservedCountError,
  InvalidVxnetError,
  newIPPool,
  podRangeOfVxnet,
  VxnetDhcpDisabledError,
  VxnetNotInVpcError,
} from '../src/index.ts';
import { catchError } from './helpers.ts';

const vxlan: VxNetIaasInfo = {
  vxnetId: 'vxnet-abc1234',
  ipNetwork: '172.16.3.0/24',
  managerIp: '172.16.3.1',
  dynIpStart: '172.16.3.2',
  dynIpEnd: '172.16.3.254',
  tunnelType: 'vxlan',
};
const vlan: VxNetIaasInfo = {
  vxnetId: 'vxnet-vlan001',
  ipNetwork: '192.168.10.0/24',
  managerIp: '192.168.10.1',
  dynIpStart: '192.168.10.2',
  dynIpEnd: '192.168.10.254',
  tunnelType: 'vlan',
};

describe('pod range of a vxnet', () => {
  it('VxLAN keeps the last 12 DHCP addresses and ignores the custom count', () => {
    const range = podRangeOfVxnet(vxlan);
    expect(range).toEqual({
      vxnetId: 'vxnet-abc1234',
      network: '172.16.3.0/24',
      gateway: '172.16.3.1',
      ipStart: '172.16.3.2',
      ipEnd: '172.16.3.242',
      size: 241,
      tunnelType: 'vxlan',
      customReservedIPCount: 0,
    });
    expect(podRangeOfVxnet(vxlan, 50).ipEnd).toBe('172.16.3.242');
    expect(podRangeOfVxnet(vxlan, -1).ipEnd).toBe('172.16.3.242');
    expect(podRangeOfVxnet({ ...vxlan, tunnelType: undefined }).ipEnd).toBe('172.16.3.242');
  });

  it('VLAN reserves floor(total/7) plus the custom count', () => {
    expect(podRangeOfVxnet(vlan).ipEnd).toBe('192.168.10.218');
    expect(podRangeOfVxnet(vlan).size).toBe(217);
    expect(podRangeOfVxnet(vlan, 10).ipEnd).toBe('192.168.10.208');
    const one = podRangeOfVxnet(vlan, 216);
    expect([one.ipStart, one.ipEnd, one.size, one.customReservedIPCount]).toEqual(['192.168.10.2', '192.168.10.2', 1, 216]);
  });

  it.each([217, -1, 1.5])('VLAN custom count %d is refused naming the range 0~216', (custom) => {
    const error = catchError(() => podRangeOfVxnet(vlan, custom));
    expect(error).toBeInstanceOf(InvalidCustomReservedCountError);
    expect((error as Error).message).toBe(
      `invalid customReservedIPCount ${custom} config in vxnetpool spec, should in range 0~216`,
    );
    expect((error as InvalidCustomReservedCountError).code).toBe('InvalidCustomReservedIPCount');
  });

  it('a vxnet without router or DHCP is refused with the Go texts', () => {
    const noRouter = catchError(() => podRangeOfVxnet({ ...vxlan, ipNetwork: undefined, managerIp: undefined }));
    expect(noRouter).toBeInstanceOf(VxnetNotInVpcError);
    expect((noRouter as Error).message).toBe('vxnet vxnet-abc1234 should bind to vpc');
    const noDhcp = catchError(() => podRangeOfVxnet({ ...vxlan, dynIpStart: '', dynIpEnd: '' }));
    expect(noDhcp).toBeInstanceOf(VxnetDhcpDisabledError);
    expect((noDhcp as Error).message).toBe('vxnet vxnet-abc1234 should open DHCP');
  });

  it('refuses unusable IaaS data with a typed error naming the field', () => {
    const bad = catchError(() => podRangeOfVxnet({ ...vxlan, dynIpEnd: '172.16.3.999' }));
    expect(bad).toBeInstanceOf(InvalidVxnetError);
    expect((bad as Error).message).toContain('dyn_ip_end');
    const outside = catchError(() => podRangeOfVxnet({ ...vxlan, dynIpEnd: '172.16.4.10' }));
    expect((outside as Error).message).toContain('inside 172.16.3.0/24');
    const tiny = catchError(() => podRangeOfVxnet({ ...vxlan, dynIpStart: '172.16.3.250' }));
    expect(tiny).toBeInstanceOf(InvalidVxnetError);
    expect((tiny as Error).message).toContain('widen');
  });

  it('builds the IPPool the controller creates', () => {
    const ippool = newIPPool(podRangeOfVxnet(vxlan), 27);
    expect(ippool).toEqual({
      metadata: { name: 'vxnet-abc1234', labels: { controller: 'vxnet-abc1234' } },
      spec: {
        type: 'local',
        cidr: '172.16.3.0/24',
        gateway: '172.16.3.1',
        rangeStart: '172.16.3.2',
        rangeEnd: '172.16.3.242',
        blockSize: 27,
        vlanConfig: { vlanId: 0, master: '' },
        dns: {},
      },
    });
    expect(newIPPool(podRangeOfVxnet(vlan, 10), 26).spec.customReservedIPCount).toBe(10);
  });
});
