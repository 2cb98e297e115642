import { describe, expect, it } from 'vitest';
import {
  ProtocolDecodeError,
  ProtocolSkewError,
  decodeSpooledRelease,
  encodeSpooledRelease,
  lockPathFor,
  newSpooledRelease,
  spoolFileName,
} from '../src/index.ts';
import { v1Samples } from '../src/testing/index.ts';

describe('spool record', () => {
  const attachment = { ...v1Samples.attachment, kubernetesPod: false };

  it('round-trips the current version and names its file after the attachment', () => {
    const release = newSpooledRelease(attachment, '172.16.3.7', new Date('2026-01-02T03:04:05Z'));
    expect(decodeSpooledRelease(encodeSpooledRelease(release))).toEqual(release);
    expect(release.version).toBe(2);
    expect(spoolFileName(attachment)).toBe(`${attachment.containerId}_eth0.json`);
    expect(newSpooledRelease(attachment, undefined, new Date(0))).not.toHaveProperty('ip');
  });

  it('reads a version 1 record as a pod', () => {
    const r = decodeSpooledRelease(JSON.stringify(v1Samples.spooledRelease));
    expect(r).toEqual({ ...v1Samples.spooledRelease, attachment: { ...v1Samples.attachment, kubernetesPod: true } });
  });

  it('a record outside the window is a skew, anything malformed a decode error', () => {
    expect(() => decodeSpooledRelease(JSON.stringify({ ...v1Samples.spooledRelease, version: 4 }))).toThrow(ProtocolSkewError);
    expect(() => decodeSpooledRelease(JSON.stringify({ ...v1Samples.spooledRelease, version: 4 }))).toThrow('plugin 4, agent 2: finish the rollout');
    expect(() => decodeSpooledRelease('{"version": 2')).toThrow(ProtocolDecodeError);
    expect(() => decodeSpooledRelease(JSON.stringify({ ...v1Samples.spooledRelease, ip: 7 }))).toThrow('ip: expected a string, got number 7');
    expect(() => decodeSpooledRelease(JSON.stringify({ ...v1Samples.spooledRelease, attachment: { containerId: 'x' } }))).toThrow('attachment.ifName');
  });
});

describe('paths', () => {
  it('puts the lock beside the socket', () => {
    expect(lockPathFor('/var/run/hostnic/hostnic.socket')).toBe('/var/run/hostnic/hostnic.lock');
    expect(lockPathFor('/tmp/x/agent.sock')).toBe('/tmp/x/hostnic.lock');
    expect(lockPathFor('agent.sock')).toBe('hostnic.lock');
  });
});
