import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  blockKey,
  blockName,
  blockNameFromKey,
  cidrName,
  handleMatchesPod,
  InvalidArgumentError,
  InvalidCidrError,
  isDns1123Subdomain,
  podHandleId,
} from '../src/index.ts';
import { catchError } from './helpers.ts';

describe('block names', () => {
  it('names blocks from the masked CIDR and keys them by the CIDR verbatim', () => {
    expect(blockName(3, '192.168.0.0/24')).toBe('3-192-168-0-0-24');
    expect(blockKey(3, '192.168.0.0/24')).toBe('3-192.168.0.0/24');
    expect(blockNameFromKey('4100-172.16.3.0/27')).toBe('4100-172-16-3-0-27');
    expect(blockName(4100, '172.16.3.0/27')).toBe('4100-172-16-3-0-27');
    expect(cidrName('172.16.3.5/27')).toBe('172-16-3-0-27');
    expect(blockKey(4100, '172.16.3.5/27')).toBe('4100-172.16.3.5/27');
  });

  it('refuses malformed keys naming them', () => {
    const error = catchError(() => blockNameFromKey('172.16.3.0/27'));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toContain('"172.16.3.0/27"');
    expect(catchError(() => blockNameFromKey('4100-172.16.3.0'))).toBeInstanceOf(InvalidCidrError);
  });
});

describe('pod handle IDs', () => {
  it('is <namespace>-<pod>-<containerID> [compat]', () => {
    expect(podHandleId('default', 'nginx', 'abc123')).toEqual({ id: 'default-nginx-abc123', shortened: false });
  });

  it('lower-cases hex container IDs', () => {
    expect(podHandleId('default', 'nginx', 'ABC123')).toEqual({ id: 'default-nginx-abc123', shortened: false });
  });

  it('keeps a <ns>-<pod>- prefix and appends a hash when too long', () => {
    const ns = 'n'.repeat(63);
    const pod = `${'p'.repeat(120)}.${'q'.repeat(60)}`;
    const cid = 'f'.repeat(64);
    const { id, shortened } = podHandleId(ns, pod, cid);
    expect(shortened).toBe(true);
    expect(id.length).toBeLessThanOrEqual(253);
    expect(isDns1123Subdomain(id)).toBe(true);
    expect(id.startsWith(`${ns}-p`)).toBe(true);
    expect(id).toMatch(/-[0-9a-f]{32}$/);
    expect(podHandleId(ns, pod, cid).id).toBe(id);
    expect(podHandleId(ns, pod, 'e'.repeat(64)).id).not.toBe(id);
    // A prefix that fits is kept whole.
    const mid = podHandleId(ns, 'p'.repeat(150), cid);
    expect(mid.id.startsWith(`${ns}-${'p'.repeat(150)}-`)).toBe(true);
  });

  it('hashes container IDs with characters not allowed in names', () => {
    const { id, shortened } = podHandleId('default', 'nginx', 'abc_123');
    expect(shortened).toBe(true);
    expect(id).toMatch(/^default-nginx-[0-9a-f]{32}$/);
  });

  it('never returns an invalid name', () => {
    const label = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
    const sub = fc
      .array(fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,70}[a-z0-9])?$/), { minLength: 1, maxLength: 5 })
      .map((labels) => labels.join('.').slice(0, 253))
      .filter(isDns1123Subdomain);
    fc.assert(
      fc.property(label, sub, fc.stringMatching(/^[0-9a-zA-Z_]{1,80}$/), (ns, pod, cid) => {
        const { id } = podHandleId(ns, pod, cid);
        return isDns1123Subdomain(id) && id.length <= 253 && id.startsWith(`${ns}-`);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses invalid namespaces, pods and empty container IDs naming the argument', () => {
    expect((catchError(() => podHandleId('Default', 'nginx', 'a')) as InvalidArgumentError).field).toBe('namespace');
    expect((catchError(() => podHandleId('default', 'Nginx', 'a')) as InvalidArgumentError).field).toBe('pod');
    expect((catchError(() => podHandleId('default', 'nginx', '')) as InvalidArgumentError).field).toBe('containerID');
  });

  it('matches a pod by prefix without taking web-1 for web', () => {
    expect(handleMatchesPod('default-web-abc123', { namespace: 'default', name: 'web' })).toBe(true);
    expect(handleMatchesPod('default-web-1-abc123', { namespace: 'default', name: 'web' })).toBe(false);
    expect(handleMatchesPod('default-web-1-abc123', { namespace: 'default', name: 'web-1' })).toBe(true);
    expect(handleMatchesPod('default-web-abc123', { namespace: 'default', name: 'web', containerID: 'ABC123' })).toBe(true);
    expect(handleMatchesPod('default-web-abc123', { namespace: 'default', name: 'web', containerID: 'def456' })).toBe(false);
  });
});
