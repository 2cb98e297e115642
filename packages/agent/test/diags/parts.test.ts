/** The bundle's parts that are pure or read files: redaction, sysctls, log tails, kubelet's log layout. */

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diagsParts, fileTail, kubeletAgentLogs, readSysctls, redactQingcloudConfig } from '../../src/diags/parts.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hostnic-diags-parts-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('redactQingcloudConfig', () => {
  it('replaces the secret whatever its quoting and keeps every other line', () => {
    for (const value of ["'s3cr3t'", '"s3cr3t"', 's3cr3t']) {
      const text = `qy_access_key_id: 'AKID'\n  qy_secret_access_key:   ${value}\nzone: 'pek3'\n`;
      const out = redactQingcloudConfig(text);
      expect(out).not.toContain('s3cr3t');
      expect(out).toBe("qy_access_key_id: 'AKID'\n  qy_secret_access_key: '<redacted>'\nzone: 'pek3'\n");
    }
  });
});

describe('readSysctls', () => {
  it('reads the node keys and each interface\'s, saying which are unreadable', async () => {
    const proc = join(dir, 'proc-sys');
    await mkdir(join(proc, 'net/ipv4/conf/eth0'), { recursive: true });
    await mkdir(join(proc, 'net/ipv4/conf/all'), { recursive: true });
    await writeFile(join(proc, 'net/ipv4/ip_forward'), '1\n');
    await writeFile(join(proc, 'net/ipv4/conf/eth0/rp_filter'), '2\n');
    const lines = (await readSysctls(proc)).trimEnd().split('\n');
    expect(lines).toContain('net.ipv4.ip_forward = 1');
    expect(lines).toContain('net.ipv4.conf.eth0.rp_filter = 2');
    expect(lines).toContain('net.bridge.bridge-nf-call-iptables: unreadable (ENOENT)');
    // 4 node keys + 5 for each of all and eth0.
    expect(lines.length).toBe(4 + 2 * 5);
  });
});

describe('log files', () => {
  it('fileTail keeps the end of a file', async () => {
    const f = join(dir, 'big.log');
    await writeFile(f, `${'a'.repeat(5000)}END`);
    expect((await fileTail(f, 10)).toString()).toBe('aaaaaaaEND');
    expect((await fileTail(f, 1_000_000)).length).toBe(5003);
  });

  it('kubeletAgentLogs finds the hostnic-agent container logs of hostnic-node pods only', async () => {
    const pods = join(dir, 'pods');
    for (const d of ['kube-system_hostnic-node-abcde_u1/hostnic-agent', 'kube-system_hostnic-node-abcde_u1/install-cni', 'kube-system_coredns-x_u2/hostnic-agent']) {
      await mkdir(join(pods, d), { recursive: true });
      await writeFile(join(pods, d, '0.log'), 'line\n');
    }
    expect(await kubeletAgentLogs(pods)).toEqual([join(pods, 'kube-system_hostnic-node-abcde_u1/hostnic-agent/0.log')]);
    expect(await kubeletAgentLogs(join(dir, 'absent'))).toEqual([]);
  });
});

describe('diagsParts', () => {
  it('has a part for each inspect answer, each kernel table, sysctls, config and each log file', () => {
    const names = diagsParts({
      socket: join(dir, 'none.sock'),
      socketTimeoutMs: 100,
      qingcloudConfig: join(dir, 'config.yaml'),
      effectiveConfig: () => Promise.resolve({}),
      logFiles: ['/x/a.log', '/y/a.log'],
      logTailBytes: 10,
      about: {},
    }).map((p) => p.name);
    expect(names).toEqual([
      'about.json',
      'agent/status.json', 'agent/pods.json', 'agent/nics.json', 'agent/pools.json',
      'kernel/links.txt', 'kernel/addresses.txt', 'kernel/routes.txt', 'kernel/rules.txt', 'kernel/neighbours.txt', 'kernel/proxy-neighbours.txt',
      'kernel/iptables-save.txt', 'kernel/ebtables-nat.txt', 'kernel/sysctls.txt',
      'config/effective.json', 'config/qingcloud-config.yaml',
      'logs/0-a.log', 'logs/1-a.log',
    ]);
  });
});
