import { describe, expect, it } from 'vitest';
import {
  FieldReader,
  IaasError,
  IaasProtocolError,
  IaasResponseError,
  IaasTransportError,
  isAuthFailure,
  isNotFound,
  isPermissionDenied,
  isQuotaExceeded,
  isServerBusy,
  parseEnvelope,
} from '../src/index.ts';

const JSON_CT = 'application/json; charset=utf-8';

describe('parseEnvelope', () => {
  it('returns a reader for ret_code 0', () => {
    const r = parseEnvelope('DescribeNics', 200, JSON_CT, '{"ret_code":0,"total_count":1,"nic_set":[]}');
    expect(r.int('total_count')).toBe(1);
  });

  it('turns a non-zero ret_code into IaasError with the Go SDK text', () => {
    const body = '{"ret_code":2100,"message":"ResourceNotFound, resource [52:54:00:00:00:01] not found"}';
    let err: unknown;
    try {
      parseEnvelope('DeleteNics', 200, JSON_CT, body);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IaasError);
    const e = err as IaasError;
    expect([e.action, e.retCode]).toEqual(['DeleteNics', 2100]);
    expect(e.message).toContain('QingCloud Error: Code (2100), Message (ResourceNotFound, resource [52:54:00:00:00:01] not found)');
    expect(isNotFound(e)).toBe(true);
  });

  it('isNotFound also matches the ResourceNotFound text under another code', () => {
    expect(isNotFound(new IaasError('DetachNics', 1400, 'ResourceNotFound, gone'))).toBe(true);
    expect(isNotFound(new IaasError('DetachNics', 1400, 'PermissionDenied, locked'))).toBe(false);
    expect(isPermissionDenied(new IaasError('A', 1400, 'x'))).toBe(true);
    expect(isQuotaExceeded(new IaasError('A', 2500, 'x'))).toBe(true);
    expect(isServerBusy(new IaasError('A', 5100, 'x'))).toBe(true);
    expect(isAuthFailure(new IaasError('A', 1300, 'x'))).toBe(true);
    expect(isNotFound(new Error('ResourceNotFound'))).toBe(false);
  });

  it('keeps a missing message as null, like the Go SDK', () => {
    expect(() => parseEnvelope('A', 200, JSON_CT, '{"ret_code":5000}')).toThrow('Message (null)');
  });

  it('HTTP status other than 200 is a transport error carrying the status, body not parsed', () => {
    let err: unknown;
    try {
      parseEnvelope('A', 503, 'text/html', '<html>busy</html>');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IaasTransportError);
    expect((err as IaasTransportError).httpStatus).toBe(503);
  });

  it.each([
    ['text/html', '{"ret_code":0}', /content type "text\/html"/],
    [JSON_CT, '{"ret_code":0', /malformed JSON/],
    [JSON_CT, '[1]', /not a JSON object/],
    [JSON_CT, '{"action":"X"}', /no integer ret_code/],
    [JSON_CT, '{"ret_code":"0"}', /no integer ret_code/],
  ])('protocol error for %s %s', (ct, body, pattern) => {
    expect(() => parseEnvelope('A', 200, ct, body)).toThrow(IaasProtocolError);
    expect(() => parseEnvelope('A', 200, ct, body)).toThrow(pattern);
  });
});

describe('FieldReader', () => {
  const r = new FieldReader('DescribeNics', { nic_set: [{ nic_id: 'x', role: '0' }], n: null });

  it('names action and field path for a wrong type or a missing field', () => {
    const item = r.list('nic_set')[0] as FieldReader;
    expect(() => item.int('role')).toThrow(IaasResponseError);
    expect(() => item.int('role')).toThrow('DescribeNics: response field nic_set.0.role is not an integer');
    expect(() => item.str('vxnet_id')).toThrow('nic_set.0.vxnet_id is missing');
    expect(r.optObj('n')).toBeNull();
    expect(r.list('absent')).toEqual([]);
  });
});
