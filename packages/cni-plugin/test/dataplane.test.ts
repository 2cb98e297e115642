/**
 * The bundled plugin in a node namespace, pods in their own namespaces, the stand-in agent doing the real
 * wiring: ADD/CHECK/DEL in every version, DEL idempotency, and DEL with the agent down (the plugin removes
 * the pod interface and the host pieces itself and spools the release). Root only.
 */

import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { hostVethName } from '@hostnic/netlink';
import type { ArpReplyMatch } from '@hostnic/netlink';
import type { FakeAgent } from './helpers/fake-agent.ts';
import { NIC_LINK, startFakeAgent } from './helpers/fake-agent.ts';
import type { Sandbox } from './helpers/netns.ts';
import { createSandbox, isRoot } from './helpers/netns.ts';
import type { CniCall } from './helpers/plugin.ts';
import { json, runPlugin } from './helpers/plugin.ts';
import { sh } from './helpers/sh.ts';
import { addresses, arpReplies, link, routeTo, rulesTo } from './helpers/state.ts';

describe.skipIf(!isRoot)('dataplane (root)', () => {
  let box: Sandbox;
  let agent: FakeAgent | undefined;
  let seq = 0;

  const socketPath = (): string => join(box.dir, 'agent.sock');
  const spoolDir = (): string => join(box.dir, 'spool');

  async function startAgent(firstIp?: string, arpForm?: ArpReplyMatch): Promise<FakeAgent> {
    agent = await startFakeAgent({ socketPath: socketPath(), mode: 'wire', nodeNetns: box.node, lockPath: join(box.dir, 'hostnic.lock'), firstIp, arpForm });
    return agent;
  }

  async function stopAgent(): Promise<void> {
    await agent?.stop();
    agent = undefined;
  }

  beforeAll(async () => {
    box = await createSandbox('dp');
  });

  beforeEach(async () => {
    await startAgent(`172.22.${10 + seq}.10`);
  });

  afterEach(async () => {
    await stopAgent();
    for (const p of [...box.pods]) await box.removePod(p);
  });

  afterAll(async () => {
    await stopAgent();
    await box.cleanup();
  });

  interface Pod {
    name: string;
    netnsName: string;
    call: CniCall;
  }

  async function pod(version: string, extra: Record<string, unknown> = {}): Promise<Pod> {
    seq += 1;
    const name = `web-${seq}`;
    const netnsName = await box.addPod(`p${seq}`);
    return {
      name,
      netnsName,
      call: {
        containerId: `sandbox${seq}`,
        netns: box.podPath(netnsName),
        ifName: 'eth0',
        args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${name};K8S_POD_INFRA_CONTAINER_ID=sandbox${seq}`,
        nodeNetns: box.node,
        config: {
          cniVersion: version,
          name: 'hostnic',
          type: 'hostnic',
          serviceCIDR: '10.233.0.0/18',
          natMark: '0x10000',
          socketPath: socketPath(),
          spoolDir: spoolDir(),
          ...extra,
        },
      },
    };
  }

  function withPrev(c: CniCall, prevResult: unknown): CniCall {
    return { ...c, config: { ...(c.config as Record<string, unknown>), prevResult } };
  }

  async function add(p: Pod): Promise<{ result: Record<string, unknown>; ip: string; veth: string }> {
    const r = await runPlugin({ ...p.call, command: 'ADD' });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const result = json(r);
    const ip = (result['ips'] as { address: string }[])[0]?.address.split('/')[0] ?? '';
    return { result, ip, veth: hostVethName('default', p.name) };
  }

  async function expectWired(p: Pod, ip: string, veth: string): Promise<void> {
    expect(await addresses(p.netnsName, 'eth0')).toEqual([`${ip}/32`]);
    expect((await link(box.node, veth))?.linkinfo?.info_kind).toBe('veth');
    expect(await routeTo(box.node, ip)).toBe(`${ip} dev ${veth} scope link`);
    expect(await rulesTo(box.node, ip)).toHaveLength(1);
    expect(await arpReplies(box.node, ip)).toHaveLength(1);
  }

  async function expectGone(p: Pod | undefined, ip: string, veth: string): Promise<void> {
    if (p && existsSync(box.podPath(p.netnsName))) expect(await link(p.netnsName, 'eth0')).toBeUndefined();
    expect(await link(box.node, veth)).toBeUndefined();
    expect(await routeTo(box.node, ip)).toBe('');
    expect(await rulesTo(box.node, ip)).toEqual([]);
    expect(await arpReplies(box.node, ip)).toEqual([]);
  }

  for (const version of ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0']) {
    it(`${version}: ADD wires the pod, CHECK passes, DEL removes everything, DEL again succeeds`, async () => {
      const p = await pod(version);
      const { result, ip, veth } = await add(p);
      await expectWired(p, ip, veth);
      const interfaces = result['interfaces'] as { name: string; mac: string; sandbox?: string }[];
      expect(interfaces[0]).toMatchObject({ name: 'eth0', mac: (await link(p.netnsName, 'eth0'))?.address, sandbox: p.call.netns });
      expect(interfaces[1]).toMatchObject({ name: veth, mac: (await link(box.node, veth))?.address });
      expect(interfaces[1]?.sandbox).toBeUndefined();

      if (version !== '0.3.0' && version !== '0.3.1') {
        const check = await runPlugin(withPrev({ ...p.call, command: 'CHECK' }, result));
        expect([check.code, check.stdout], check.stderr).toEqual([0, '']);
      }
      const prev = version === '0.3.0' || version === '0.3.1' ? undefined : result;
      const del = await runPlugin(prev ? withPrev({ ...p.call, command: 'DEL' }, prev) : { ...p.call, command: 'DEL' });
      expect([del.code, del.stdout], del.stderr).toEqual([0, '']);
      await expectGone(p, ip, veth);
      const again = await runPlugin({ ...p.call, command: 'DEL' });
      expect([again.code, again.stdout]).toEqual([0, '']);
      expect(existsSync(spoolDir())).toBe(false);
    });
  }

  it('CHECK names what broke', async () => {
    const p = await pod('1.0.0');
    const { result, ip } = await add(p);
    await sh(['ip', '-n', box.node, 'rule', 'del', 'priority', '1535', 'to', `${ip}/32`]);
    const check = await runPlugin(withPrev({ ...p.call, command: 'CHECK' }, result));
    expect(check.code).toBe(1);
    expect(json(check)['msg']).toContain(`rule 1535 to ${ip}`);
  });

  it('DEL succeeds when the pod netns is already gone, and the agent cleans the host', async () => {
    const p = await pod('1.0.0');
    const { ip, veth } = await add(p);
    await box.removePod(p.netnsName);
    const del = await runPlugin({ ...p.call, command: 'DEL' });
    expect([del.code, del.stdout], del.stderr).toEqual([0, '']);
    await expectGone(undefined, ip, veth);
  });

  describe('agent down', () => {
    it('DEL removes the pod interface and host pieces itself, spools the release and exits 0', async () => {
      const p = await pod('1.0.0');
      const { result, ip, veth } = await add(p);
      await stopAgent();
      const del = await runPlugin(withPrev({ ...p.call, command: 'DEL' }, result));
      expect([del.code, del.stdout], del.stderr).toEqual([0, '']);
      expect(del.stderr).toContain('"outcome":"spooled"');
      await expectGone(p, ip, veth);
      const spooled = JSON.parse(await readFile(join(spoolDir(), `${p.call.containerId}_eth0.json`), 'utf8')) as Record<string, unknown>;
      expect(spooled).toMatchObject({
        version: 2,
        ip,
        attachment: { containerId: p.call.containerId, netns: p.call.netns, ifName: 'eth0', podNamespace: 'default', podName: p.name },
      });
      const again = await runPlugin(withPrev({ ...p.call, command: 'DEL' }, result));
      expect([again.code, again.stdout]).toEqual([0, '']);
    });

    it('DEL removes an ebtables ARP entry of the -i form (what an earlier agent installed) as well', async () => {
      await stopAgent();
      await startAgent(`172.22.${10 + seq}.10`, 'in');
      const p = await pod('1.0.0');
      const { result, ip, veth } = await add(p);
      expect(await arpReplies(box.node, ip)).toEqual([expect.stringContaining(`-i ${NIC_LINK} `)]);
      await stopAgent();
      const del = await runPlugin(withPrev({ ...p.call, command: 'DEL' }, result));
      expect([del.code, del.stdout], del.stderr).toEqual([0, '']);
      expect(del.stderr).toContain('"outcome":"spooled"');
      await expectGone(p, ip, veth);
    });

    it('without prevResult the IP is found from the host route through the pod veth', async () => {
      const p = await pod('0.3.1');
      const { ip, veth } = await add(p);
      await stopAgent();
      const del = await runPlugin({ ...p.call, command: 'DEL' });
      expect([del.code, del.stdout], del.stderr).toEqual([0, '']);
      await expectGone(p, ip, veth);
      const spooled = JSON.parse(await readFile(join(spoolDir(), `${p.call.containerId}_eth0.json`), 'utf8')) as Record<string, unknown>;
      expect(spooled['ip']).toBe(ip);
    });

    it('a stale socket (agent crashed) is treated the same', async () => {
      const p = await pod('1.0.0');
      const { result, ip, veth } = await add(p);
      await stopAgent();
      // A plain file where the socket was: connect() is refused.
      await writeFile(socketPath(), '');
      const del = await runPlugin(withPrev({ ...p.call, command: 'DEL' }, result));
      expect([del.code, del.stdout], del.stderr).toEqual([0, '']);
      await expectGone(p, ip, veth);
    });

    it('an agent that hangs on DEL is given up on after timeouts.del', async () => {
      const p = await pod('1.0.0', { timeouts: { del: 1 } });
      const { result, ip, veth } = await add(p);
      agent?.hang.add('/v1/cni/del');
      const del = await runPlugin(withPrev({ ...p.call, command: 'DEL' }, result));
      expect([del.code, del.stdout], del.stderr).toEqual([0, '']);
      expect(del.ms).toBeLessThan(10_000);
      await expectGone(p, ip, veth);
    });

    it('DEL with the netns gone and nothing known still succeeds and spools', async () => {
      const p = await pod('1.0.0');
      await add(p);
      await stopAgent();
      await box.removePod(p.netnsName);
      const del = await runPlugin({ ...p.call, command: 'DEL', netns: undefined, args: 'IgnoreUnknown=1' });
      expect([del.code, del.stdout], del.stderr).toEqual([0, '']);
      expect(existsSync(join(spoolDir(), `${p.call.containerId}_eth0.json`))).toBe(true);
    });

    it('a stale DEL leaves rule 1535 and the ARP entry of a newer pod with the same IP alone', async () => {
      const a = await pod('1.0.0');
      const first = await add(a);
      const del = await runPlugin(withPrev({ ...a.call, command: 'DEL' }, first.result));
      expect(del.code).toBe(0);
      await box.removePod(a.netnsName);
      // The address is handed to another pod.
      await stopAgent();
      await startAgent(first.ip);
      const b = await pod('1.0.0');
      const second = await add(b);
      expect(second.ip).toBe(first.ip);
      await stopAgent();
      const stale = await runPlugin(withPrev({ ...a.call, command: 'DEL' }, first.result));
      expect([stale.code, stale.stdout], stale.stderr).toEqual([0, '']);
      expect(stale.stderr).toContain(`"ipInUseBy":"${second.veth}"`);
      await expectWired(b, second.ip, second.veth);
    });

    it('DEL asks for a retry (11) when the release cannot be spooled either', async () => {
      const blocker = join(box.dir, 'not-a-dir');
      await writeFile(blocker, '');
      const p = await pod('1.0.0', { spoolDir: join(blocker, 'spool') });
      const { result, ip, veth } = await add(p);
      await stopAgent();
      const del = await runPlugin(withPrev({ ...p.call, command: 'DEL' }, result));
      expect(del.code).toBe(1);
      expect(json(del)).toMatchObject({ cniVersion: '1.0.0', code: 11 });
      expect(String(json(del)['msg'])).toMatch(/^hostnic-agent is down and the release cannot be spooled/);
      // The interface went anyway.
      await expectGone(p, ip, veth);
    });

    it('ADD fails with 11 and creates nothing', async () => {
      const p = await pod('1.0.0');
      await stopAgent();
      const r = await runPlugin({ ...p.call, command: 'ADD' });
      expect(json(r)).toMatchObject({ code: 11 });
      expect(await link(p.netnsName, 'eth0')).toBeUndefined();
    });
  });
});
