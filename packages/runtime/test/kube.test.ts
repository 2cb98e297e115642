import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiException, KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { KubeConfigNotFoundError, RateLimitedKubeConfig, TokenBucket, describeError, httpStatusOf, isConflict, isNotFound, loadKubeConfig } from '../src/kube/index.ts';

describe('httpStatusOf', () => {
  it('reads ApiException.code and Watch errors statusCode; network codes are no status', () => {
    const api = new ApiException(404, 'not found', { kind: 'Status', message: 'pods "x" not found' }, {});
    expect(httpStatusOf(api)).toBe(404);
    expect(isNotFound(api)).toBe(true);
    expect(httpStatusOf(Object.assign(new Error('watch'), { statusCode: 409 }))).toBe(409);
    expect(isConflict(Object.assign(new Error('watch'), { statusCode: 409 }))).toBe(true);
    expect(httpStatusOf(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toBeUndefined();
    expect(httpStatusOf(undefined)).toBeUndefined();
  });

  it('describeError keeps the Status message and drops the rest of the body', () => {
    const api = new ApiException(409, 'conflict', JSON.stringify({ kind: 'Status', message: 'the object has been modified' }), {});
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

describe('loadKubeConfig', () => {
  const yaml = (server: string): string => `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "${server}" } }]
users: [{ name: u, user: { token: t } }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
current-context: x
`;

  it('prefers the flag over KUBECONFIG, and rate-limits when asked', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hostnic-runtime-kc-'));
    try {
      const flag = join(dir, 'flag.yaml');
      const env = join(dir, 'env.yaml');
      await writeFile(flag, yaml('https://flag.example:6443'));
      await writeFile(env, yaml('https://env.example:6443'));
      const a = loadKubeConfig(flag, { KUBECONFIG: env });
      expect(a.source).toBe(flag);
      expect(a.kc.getCurrentCluster()?.server).toBe('https://flag.example:6443');
      expect(a.kc).not.toBeInstanceOf(RateLimitedKubeConfig);
      const b = loadKubeConfig(undefined, { KUBECONFIG: env }, { rateLimit: { qps: 5, burst: 10 } });
      expect(b.source).toBe(env);
      expect(b.kc).toBeInstanceOf(RateLimitedKubeConfig);
      expect(b.kc).toBeInstanceOf(KubeConfig);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('without a file outside a cluster it fails naming the service account', () => {
    expect(() => loadKubeConfig(undefined, {})).toThrow(KubeConfigNotFoundError);
    expect(() => loadKubeConfig(undefined, {})).toThrow(/no kubeconfig found: pass --kubeconfig <file>, set KUBECONFIG/);
  });
});
