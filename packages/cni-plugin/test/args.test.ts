import { describe, expect, it } from 'vitest';
import { attachmentOf, parseCniArgs, podKey, requirePod } from '../src/args.ts';
import type { CniEnv } from '../src/env.ts';
import { CniError } from '../src/errors.ts';

function error(fn: () => unknown): CniError {
  try {
    fn();
  } catch (e) {
    if (e instanceof CniError) return e;
    throw e;
  }
  throw new Error('did not throw');
}

const env: CniEnv = { verb: 'ADD', containerId: 'abc123', netns: '/var/run/netns/cni-1', ifName: 'eth0', args: '', path: '' };

describe('CNI_ARGS', () => {
  it('reads the pod identity', () => {
    const a = parseCniArgs('K8S_POD_NAME=nginx;K8S_POD_NAMESPACE=default;K8S_POD_INFRA_CONTAINER_ID=abc123');
    expect(a).toEqual({ podName: 'nginx', podNamespace: 'default', infraContainerId: 'abc123', ignored: [] });
  });

  it('is empty for an empty string and tolerates a trailing ";"', () => {
    expect(parseCniArgs('')).toEqual({ podName: '', podNamespace: '', infraContainerId: '', ignored: [] });
    expect(parseCniArgs('K8S_POD_NAME=a;').podName).toBe('a');
  });

  it('names the pair that is not KEY=VALUE', () => {
    const e = error(() => parseCniArgs('K8S_POD_NAME=a=b'));
    expect([e.code, e.message]).toEqual([4, 'CNI_ARGS: invalid pair "K8S_POD_NAME=a=b"']);
    expect(error(() => parseCniArgs('FOO')).message).toBe('CNI_ARGS: invalid pair "FOO"');
  });

  it('names unknown keys unless IgnoreUnknown is true', () => {
    const e = error(() => parseCniArgs('K8S_POD_UID=x;K8S_POD_NAME=a'));
    expect(e.code).toBe(4);
    expect(e.message).toBe('CNI_ARGS: unknown args [K8S_POD_UID]');
    expect(e.details).toContain('IgnoreUnknown=1');
    for (const on of ['1', 'true', 'TRUE', 'True']) {
      expect(parseCniArgs(`IgnoreUnknown=${on};K8S_POD_UID=x;K8S_POD_NAME=a`).ignored).toEqual(['K8S_POD_UID']);
    }
    expect(error(() => parseCniArgs('IgnoreUnknown=0;K8S_POD_UID=x')).message).toContain('K8S_POD_UID');
    expect(error(() => parseCniArgs('IgnoreUnknown=yes')).message).toBe('CNI_ARGS: IgnoreUnknown=yes is not a boolean');
  });

  it('matches keys case-sensitively', () => {
    expect(error(() => parseCniArgs('k8s_pod_name=a')).message).toContain('k8s_pod_name');
  });

  it('requires the pod name and namespace for ADD', () => {
    const e = error(() => requirePod(parseCniArgs('K8S_POD_NAME=a')));
    expect([e.code, e.message]).toEqual([4, 'CNI_ARGS has no K8S_POD_NAMESPACE']);
    expect(error(() => requirePod(parseCniArgs(''))).message).toBe('CNI_ARGS has no K8S_POD_NAMESPACE and K8S_POD_NAME');
    expect(() => requirePod(parseCniArgs('K8S_POD_NAME=a;K8S_POD_NAMESPACE=b'))).not.toThrow();
  });

  it('falls back to CNI_CONTAINERID for the infra container id', () => {
    expect(attachmentOf(env, parseCniArgs('K8S_POD_NAME=nginx;K8S_POD_NAMESPACE=default')).infraContainerId).toBe('abc123');
    expect(attachmentOf(env, parseCniArgs('K8S_POD_INFRA_CONTAINER_ID=zzz')).infraContainerId).toBe('zzz');
    expect(podKey({ podNamespace: 'default', podName: 'nginx' })).toBe('default/nginx');
    expect(podKey({ podNamespace: '', podName: '' })).toBeUndefined();
  });
});
