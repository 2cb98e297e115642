import { describe, expect, it } from 'vitest';
import { IaasError, IaasTransportError } from '@hostnic/iaas-client';
import { CniCode, NicUnavailableError, stepError } from '../../src/pods/errors.ts';

describe('NicUnavailableError: a cold ADD whose vxnet has no NIC and none can be made', () => {
  it('an IaaS that does not answer: names the vxnet, says why and that a retry works; code 11', () => {
    const cause = new IaasTransportError('DescribeVxnets', 'connection closed by the server before a complete response', { delivery: 'maybe-sent' });
    const e = stepError('describe-vxnet', CniCode.nic, new NicUnavailableError('vxnet-cold01', cause));
    expect(e.cniCode).toBe(CniCode.tryAgain);
    expect(e.message).toBe(
      'describe-vxnet failed: no NIC on this node for vxnet vxnet-cold01 and none can be made now (the QingCloud API did not answer; ' +
        'pods of vxnets with a NIC here are still served, this ADD succeeds on a retry once it answers): ' +
        'DescribeVxnets: connection closed by the server before a complete response',
    );
  });

  it('a refusal that does not pass: names the vxnet, keeps the step\'s code', () => {
    const e = stepError('ensure-nic', CniCode.nic, new NicUnavailableError('vxnet-cold01', new IaasError('CreateNics', 1400, 'vxnet not found')));
    expect(e.cniCode).toBe(CniCode.nic);
    expect(e.message).toMatch(/^ensure-nic failed: no NIC on this node for vxnet vxnet-cold01: /);
    expect(e.message).not.toContain('did not answer');
  });
});
