import { describe, expect, it } from 'vitest';
import { KubeApiError, TokenBucket, describeError, httpStatusOf, isConflict, isNotFound } from '../src/kube/http/index.ts';

describe('httpStatusOf', () => {
  it('reads KubeApiError.code and Watch errors statusCode; network codes are no status', () => {
    const api = new KubeApiError('GET', '/api/v1/namespaces/default/pods/x', 404, { kind: 'Status', message: 'pods "x" not found' });
    expect(httpStatusOf(api)).toBe(404);
    expect(isNotFound(api)).toBe(true);
    expect(httpStatusOf(Object.assign(new Error('watch'), { statusCode: 409 }))).toBe(409);
    expect(isConflict(Object.assign(new Error('watch'), { statusCode: 409 }))).toBe(true);
    expect(httpStatusOf(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toBeUndefined();
    expect(httpStatusOf(undefined)).toBeUndefined();
  });

  it('describeError keeps the Status message and drops the rest of the body', () => {
    const api = new KubeApiError('PUT', '/api/v1/namespaces/default/pods/x', 409, JSON.stringify({ kind: 'Status', message: 'the object has been modified' }));
    expect(describeError(api)).toBe('HTTP 409: the object has been modified');
    expect(describeError(new Error('plain'))).toBe('plain');
  });
});

describe('TokenBucket', () => {
  it('lets a burst through, then spaces requests at 1/qps', () => {
    let now = 0;
    const bucket = new TokenBucket({ qps: 10, burst: 3 }, () => now);
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve()]).toEqual([0, 0, 0]);
    expect(bucket.reserve()).toBeCloseTo(100);
    expect(bucket.reserve()).toBeCloseTo(200);
    now = 1000; // 10 tokens refilled, 2 owed, capped at the burst
    expect(bucket.reserve()).toBe(0);
    expect(bucket.reserve()).toBe(0);
    expect(bucket.reserve()).toBe(0);
    expect(bucket.reserve()).toBeGreaterThan(0);
  });

  it('names the flag of a bad limit', () => {
    expect(() => new TokenBucket({ qps: 0, burst: 1 })).toThrow(/--k8s-api-qps: must be a positive number/);
    expect(() => new TokenBucket({ qps: 5, burst: 0 })).toThrow(/--k8s-api-burst: must be a whole number/);
  });
});
