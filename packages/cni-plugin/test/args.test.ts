import { describe, expect, it } from 'vitest';
import { attachmentOf, checkWorkloadArgs, parseCniArgs, podKey, workloadOf } from '../src/args.ts';
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

  it('names a Kubernetes pod from CNI_ARGS, and any other container from the conflist and its id', () => {
    expect(workloadOf(env, parseCniArgs('K8S_POD_NAME=nginx;K8S_POD_NAMESPACE=web'), 'default')).toEqual({ namespace: 'web', name: 'nginx', kubernetesPod: true });
    // podman and nerdctl pass no CNI_ARGS, or only IgnoreUnknown and their own keys.
    expect(workloadOf(env, parseCniArgs(''), 'containers')).toEqual({ namespace: 'containers', name: 'abc123', kubernetesPod: false });
    expect(workloadOf(env, parseCniArgs('IgnoreUnknown=1;K8S_POD_NAME=box;PODMAN_X=1'), 'default')).toEqual({
      namespace: 'default',
      name: 'box',
      kubernetesPod: false,
    });
    // podman's container names need not be Kubernetes object names; the container id stands in.
    for (const name of ['admiring_aryabhata', 'Web', 'x'.repeat(254), '-a']) {
      expect(workloadOf(env, parseCniArgs(`IgnoreUnknown=1;K8S_POD_NAME=${name}`), 'default').name).toBe('abc123');
    }
  });

  it('refuses on ADD a namespace without a pod name, and nothing else', () => {
    const e = error(() => checkWorkloadArgs(parseCniArgs('K8S_POD_NAMESPACE=b')));
    expect([e.code, e.message]).toEqual([4, 'CNI_ARGS has K8S_POD_NAMESPACE=b but no K8S_POD_NAME']);
    for (const ok of ['', 'K8S_POD_NAME=a', 'K8S_POD_NAME=a;K8S_POD_NAMESPACE=b']) expect(() => checkWorkloadArgs(parseCniArgs(ok))).not.toThrow();
  });

  it('builds the attachment from the workload; the infra container id falls back to CNI_CONTAINERID', () => {
    const pod = parseCniArgs('K8S_POD_NAME=nginx;K8S_POD_NAMESPACE=default');
    const { containerId, netns, ifName } = env;
    expect(attachmentOf(env, pod, workloadOf(env, pod, 'default'))).toEqual({ containerId, netns, ifName, podNamespace: 'default', podName: 'nginx', infraContainerId: 'abc123', kubernetesPod: true });
    const other = parseCniArgs('K8S_POD_INFRA_CONTAINER_ID=zzz');
    expect(attachmentOf(env, other, workloadOf(env, other, 'podman'))).toMatchObject({ podNamespace: 'podman', podName: 'abc123', infraContainerId: 'zzz', kubernetesPod: false });
    expect(podKey({ podNamespace: 'default', podName: 'nginx' })).toBe('default/nginx');
  });
});
