import { describe, expect, it } from 'vitest';
import { checkAttachmentEnv, checkContainerId, checkIfName, readEnv } from '../src/env.ts';
import { CniError } from '../src/errors.ts';

function codeOf(fn: () => unknown): [number, string, string | undefined] {
  try {
    fn();
  } catch (e) {
    if (e instanceof CniError) return [e.code, e.message, e.details];
    throw e;
  }
  throw new Error('did not throw');
}

const full = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'abc123', CNI_NETNS: '/var/run/netns/cni-1', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin' };

describe('readEnv', () => {
  it('asks for the about string when CNI_COMMAND is empty', () => {
    expect(readEnv({})).toEqual({ kind: 'about' });
    expect(readEnv({ CNI_COMMAND: '' })).toEqual({ kind: 'about' });
  });

  it('names every missing variable in the skel order, without spaces', () => {
    expect(codeOf(() => readEnv({ CNI_COMMAND: 'ADD' }))[0]).toBe(4);
    expect(codeOf(() => readEnv({ CNI_COMMAND: 'ADD' }))[1]).toBe('required env variables [CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME] missing');
    expect(codeOf(() => readEnv({ ...full, CNI_NETNS: '' }))[1]).toBe('required env variables [CNI_NETNS] missing');
    expect(codeOf(() => readEnv({ ...full, CNI_NETNS: undefined }))[2]).toContain('CNI_NETNS=/var/run/netns/');
  });

  it('lets DEL go without CNI_NETNS and every verb without CNI_PATH', () => {
    const del = readEnv({ ...full, CNI_COMMAND: 'DEL', CNI_NETNS: undefined, CNI_PATH: undefined });
    expect(del.kind === 'call' && del.env.netns).toBe('');
    expect(readEnv({ ...full, CNI_PATH: undefined }).kind).toBe('call');
    expect(codeOf(() => readEnv({ CNI_COMMAND: 'CHECK', CNI_CONTAINERID: 'x' }))[1]).toBe('required env variables [CNI_NETNS,CNI_IFNAME] missing');
  });

  it('needs only CNI_COMMAND for VERSION, GC and STATUS', () => {
    for (const verb of ['VERSION', 'GC', 'STATUS']) expect(readEnv({ CNI_COMMAND: verb }).kind).toBe('call');
  });

  it('rejects an unknown command with code 4', () => {
    expect(codeOf(() => readEnv({ ...full, CNI_COMMAND: 'FOO' }))).toEqual([4, 'unknown CNI_COMMAND: FOO', expect.stringContaining('ADD, DEL, CHECK')]);
  });
});

describe('container id and interface name', () => {
  it('follows the skel: empty id is code 3, bad characters code 4', () => {
    expect(codeOf(() => checkContainerId(''))[0]).toBe(3);
    expect(codeOf(() => checkContainerId(''))[1]).toBe('missing containerID');
    expect(codeOf(() => checkContainerId('-abc'))).toEqual([4, 'invalid characters in containerID', expect.stringContaining('-abc')]);
    expect(() => checkContainerId('abc123_.-x')).not.toThrow();
  });

  it('checks the interface name as the kernel does', () => {
    expect(codeOf(() => checkIfName(''))[1]).toBe('interface name is empty');
    expect(codeOf(() => checkIfName('a'.repeat(16)))).toEqual([4, 'interface name is too long', expect.stringContaining('less than 16 characters')]);
    expect(() => checkIfName('a'.repeat(15))).not.toThrow();
    expect(codeOf(() => checkIfName('.'))[1]).toBe('interface name is . or ..');
    expect(codeOf(() => checkIfName('..'))[1]).toBe('interface name is . or ..');
    for (const bad of ['et/h0', 'eth:0', 'eth 0', 'eth\t0']) {
      expect(codeOf(() => checkIfName(bad))[1]).toBe('interface name contains / or : or whitespace characters');
    }
  });

  it('applies only to the verbs about one attachment', () => {
    const gc = readEnv({ CNI_COMMAND: 'GC' });
    if (gc.kind !== 'call') throw new Error('expected a call');
    expect(() => checkAttachmentEnv(gc.env)).not.toThrow();
    const add = readEnv({ ...full, CNI_CONTAINERID: 'a b' });
    if (add.kind !== 'call') throw new Error('expected a call');
    expect(codeOf(() => checkAttachmentEnv(add.env))[0]).toBe(4);
  });
});
