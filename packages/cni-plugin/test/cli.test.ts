/**
 * The bundled plugin run as a runtime runs it (environment, stdin, a child process) against the stand-in
 * agent in canned mode: every verb, every version, every error code. Nothing here touches the kernel, and
 * no DEL here can reach the local cleanup (the agent is up whenever DEL runs).
 */

import { openSync, closeSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AddRequest, DelRequest, GcRequest } from '@hostnic/protocol';
import { PROTOCOL_VERSION } from '@hostnic/protocol';
import type { FakeAgent } from './helpers/fake-agent.ts';
import { startFakeAgent } from './helpers/fake-agent.ts';
import type { CniCall } from './helpers/plugin.ts';
import { json, runPlugin } from './helpers/plugin.ts';

let dir: string;
let agent: FakeAgent;
let seq = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hn-cli-'));
  agent = await startFakeAgent({ socketPath: join(dir, 'agent.sock'), mode: 'canned' });
});

afterEach(() => {
  agent.hang.clear();
  agent.fail.clear();
  agent.status = { ready: true };
  agent.answerVersion = PROTOCOL_VERSION;
});

afterAll(async () => {
  await agent.stop();
  await rm(dir, { recursive: true, force: true });
});

const ARGS = 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=nginx;K8S_POD_INFRA_CONTAINER_ID=abc123;K8S_POD_UID=u-1';

function config(version: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    cniVersion: version,
    name: 'hostnic',
    type: 'hostnic',
    serviceCIDR: '10.233.0.0/18',
    hairpin: false,
    natMark: '0x10000',
    socketPath: join(dir, 'agent.sock'),
    spoolDir: join(dir, 'spool'),
    ...extra,
  };
}

function call(command: string, version: string, over: Partial<CniCall> = {}, extra: Record<string, unknown> = {}): CniCall {
  seq += 1;
  return {
    command,
    containerId: `c${seq}`,
    // The plugin's own netns: live, and nothing is done to it in canned mode.
    netns: '/proc/self/ns/net',
    ifName: 'eth0',
    args: ARGS,
    config: config(version, extra),
    ...over,
  };
}

async function expectError(c: CniCall, code: number, msg?: string | RegExp): Promise<Record<string, unknown>> {
  const r = await runPlugin(c);
  const body = json(r);
  expect(r.code, r.stderr).toBe(1);
  expect(body['code']).toBe(code);
  if (typeof msg === 'string') expect(body['msg']).toBe(msg);
  else if (msg) expect(body['msg']).toMatch(msg);
  return body;
}

const VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;

describe('VERSION and the about string', () => {
  it('lists the five versions as 1.1.0 and ignores stdin', async () => {
    const r = await runPlugin({ command: 'VERSION', stdin: 'not json' });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('{"cniVersion":"1.1.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}\n');
  });

  it('prints the about string to stderr without CNI_COMMAND', async () => {
    const r = await runPlugin({});
    expect([r.code, r.stdout, r.stderr]).toEqual([0, '', 'CNI hostnic plugin version unknown\n']);
  });
});

describe('ADD, DEL, CHECK in every version', () => {
  for (const v of VERSIONS) {
    it(`${v}: prints the result once, in ${v}'s shape`, async () => {
      const c = call('ADD', v);
      const r = await runPlugin(c);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout.endsWith('}')).toBe(true);
      expect(r.stdout.split('\n')[1]).toBe('    "cniVersion": "' + v + '",');
      const result = json(r);
      expect(Object.keys(result)).toEqual(['cniVersion', 'interfaces', 'ips', 'dns']);
      expect(result['interfaces']).toEqual([
        v === '1.1.0'
          ? { name: 'eth0', mac: '02:00:00:00:00:01', mtu: 1500, sandbox: '/proc/self/ns/net' }
          : { name: 'eth0', mac: '02:00:00:00:00:01', sandbox: '/proc/self/ns/net' },
        v === '1.1.0' ? { name: 'vnicc440f455693', mac: '02:00:00:00:00:02', mtu: 1500 } : { name: 'vnicc440f455693', mac: '02:00:00:00:00:02' },
      ]);
      const ip = { interface: 0, address: expect.stringMatching(/^172\.22\.0\.\d+\/32$/), gateway: '169.254.1.1' };
      expect(result['ips']).toEqual([v.startsWith('0.') ? { version: '4', ...ip } : ip]);

      const sent = agent.requests.at(-1);
      expect(sent?.path).toBe('/v1/cni/add');
      const body = sent?.body as AddRequest;
      expect(body.attachment).toEqual({
        containerId: c.containerId,
        netns: '/proc/self/ns/net',
        ifName: 'eth0',
        podNamespace: 'default',
        podName: 'nginx',
        infraContainerId: 'abc123',
        kubernetesPod: true,
      });
      expect(body.config).toEqual({
        cniVersion: v,
        name: 'hostnic',
        vethPrefix: 'vnic',
        mtu: 1500,
        serviceCIDR: '10.233.0.0/18',
        natMark: '0x10000',
        interface: 'eth0',
        hairpin: false,
      });
      expect(body.timeoutMs).toBe(195_000);

      if (v !== '0.3.0' && v !== '0.3.1') {
        const check = await runPlugin({ ...c, command: 'CHECK', config: { ...config(v), prevResult: result } });
        expect([check.code, check.stdout], check.stderr).toEqual([0, '']);
      }
      const del = await runPlugin({ ...c, command: 'DEL', netns: undefined, config: { ...config(v), prevResult: result } });
      expect([del.code, del.stdout], del.stderr).toEqual([0, '']);
      const delBody = agent.requests.at(-1)?.body as DelRequest;
      expect(delBody.prevResult?.ips[0]?.address).toBe((result['ips'] as { address: string }[])[0]?.address);
      expect(delBody.attachment.netns).toBe('');
      const again = await runPlugin({ ...c, command: 'DEL' });
      expect([again.code, again.stdout]).toEqual([0, '']);
    });
  }

  it('merges its result after a previous plugin in a chain', async () => {
    const prevResult = {
      cniVersion: '1.0.0',
      interfaces: [{ name: 'net0', mac: '02:00:00:00:00:09', sandbox: '/proc/self/ns/net' }],
      ips: [{ interface: 0, address: '10.1.0.5/24' }],
      dns: { nameservers: ['10.1.0.1'] },
    };
    const r = await runPlugin(call('ADD', '1.0.0', {}, { prevResult }));
    const result = json(r);
    expect((result['interfaces'] as { name: string }[]).map((i) => i.name)).toEqual(['net0', 'eth0', 'vnicc440f455693']);
    expect((result['ips'] as { interface: number }[]).map((i) => i.interface)).toEqual([0, 1]);
    expect(result['dns']).toEqual({ nameservers: ['10.1.0.1'] });
  });

  it('refuses to follow a plugin that made the same interface', async () => {
    const prevResult = { cniVersion: '1.0.0', interfaces: [{ name: 'eth0', sandbox: '/proc/self/ns/net' }], ips: [] };
    await expectError(call('ADD', '1.0.0', {}, { prevResult }), 7, 'prevResult already has interface eth0 in /proc/self/ns/net');
  });

  it('takes the infra container id from CNI_CONTAINERID when CNI_ARGS lacks it', async () => {
    const c = call('ADD', '1.0.0', { args: 'K8S_POD_NAMESPACE=default;K8S_POD_NAME=web' });
    expect((await runPlugin(c)).code).toBe(0);
    expect((agent.requests.at(-1)?.body as AddRequest).attachment).toMatchObject({ infraContainerId: c.containerId, kubernetesPod: true });
  });

  it('serves a container that is not a Kubernetes pod (podman): conflist namespace, container id as name', async () => {
    const c = call('ADD', '1.0.0', { args: undefined }, { defaultNamespace: 'containers' });
    const r = await runPlugin(c);
    expect(r.code, r.stderr).toBe(0);
    expect((agent.requests.at(-1)?.body as AddRequest).attachment).toMatchObject({ podNamespace: 'containers', podName: c.containerId, kubernetesPod: false });
    expect(r.stderr).toContain('"kubernetesPod":false');
    const named = call('ADD', '1.0.0', { args: 'IgnoreUnknown=1;K8S_POD_NAME=box;PODMAN_FOO=1' });
    expect((await runPlugin(named)).code).toBe(0);
    expect((agent.requests.at(-1)?.body as AddRequest).attachment).toMatchObject({ podNamespace: 'default', podName: 'box' });
  });

  it('DEL succeeds whatever CNI_ARGS hold when the agent has nothing to remove', async () => {
    for (const args of [undefined, '', 'IgnoreUnknown=1', 'K8S_POD_NAMESPACE=x', 'not-a-pair', 'PODMAN_FOO=1']) {
      const d = await runPlugin(call('DEL', '1.0.0', { args }));
      expect([d.code, d.stdout], `${String(args)}: ${d.stderr}`).toEqual([0, '']);
      expect((agent.requests.at(-1)?.body as DelRequest).attachment.podNamespace).toBe(args === 'K8S_POD_NAMESPACE=x' ? 'x' : 'default');
    }
  });
});

describe('protocol versions', () => {
  it('current plugin -> agent answering version 1 (no header): ADD, CHECK, DEL work', async () => {
    agent.answerVersion = undefined;
    const c = call('ADD', '1.0.0');
    const added = await runPlugin(c);
    expect(added.code, added.stderr).toBe(0);
    expect(agent.requests.at(-1)?.protocol).toBe(String(PROTOCOL_VERSION));
    const prevResult = json(added);
    const check = await runPlugin({ ...c, command: 'CHECK', config: { ...config('1.0.0'), prevResult } });
    expect([check.code, check.stdout], check.stderr).toEqual([0, '']);
    const del = await runPlugin({ ...c, command: 'DEL', config: { ...config('1.0.0'), prevResult } });
    expect([del.code, del.stdout, del.stderr.includes('"outcome":"ok"')], del.stderr).toEqual([0, '', true]);
  });

  it('two versions apart: ADD fails with code 11 and "finish the rollout"; DEL cleans up alone and spools', async () => {
    agent.answerVersion = PROTOCOL_VERSION + 2;
    const body = await expectError(call('ADD', '1.0.0'), 11, `plugin ${PROTOCOL_VERSION}, agent ${PROTOCOL_VERSION + 2}: finish the rollout`);
    expect(body['details']).toMatch(/roll the hostnic-node DaemonSet out/i);
    const del = await runPlugin(call('DEL', '1.0.0', { netns: undefined }));
    expect([del.code, del.stdout], del.stderr).toEqual([0, '']);
    expect(del.stderr).toContain('"outcome":"spooled"');
  });
});

describe('error codes', () => {
  it('1: unsupported versions and verbs the version does not have', async () => {
    const b = await expectError(call('ADD', '0.2.0'), 1, 'incompatible CNI versions');
    expect(b['details']).toContain('config is "0.2.0"');
    expect(b['cniVersion']).toBeUndefined();
    const none = await expectError({ ...call('ADD', '1.0.0'), config: { name: 'hostnic', type: 'hostnic' } }, 1);
    expect(none['details']).toContain('no cniVersion');
    expect((await expectError(call('ADD', '2.0.0'), 1))['cniVersion']).toBe('1.1.0');
    await expectError(call('CHECK', '0.3.1', {}, { prevResult: {} }), 1, 'config version does not allow CHECK');
    await expectError(call('GC', '1.0.0', {}, { 'cni.dev/valid-attachments': [] }), 1, 'config version does not allow GC');
    await expectError(call('STATUS', '1.0.0'), 1, 'config version does not allow STATUS');
  });

  it("ADD succeeds with the original's test config and the keys it ignored, and logs a warning for each", async () => {
    const original = JSON.parse(await readFile(new URL('./fixtures/original/test.conf.json', import.meta.url), 'utf8')) as Record<string, unknown>;
    const logFile = join(dir, 'original.log');
    const extra = { ...original, logFile, hostNicType: 'passthrough', server: { name: 'x', type: 'y' }, capabilities: { portMappings: true } };
    const r = await runPlugin(call('ADD', '0.3.0', {}, extra));
    expect([r.code, json(r)['cniVersion']], r.stderr).toEqual([0, '0.3.0']);
    const warned = (await readFile(logFile, 'utf8')).split('\n').filter((l) => l.includes('"level":"warn"') || l.includes('level=warn'));
    expect(warned.filter((l) => /hostNicType|rt2Pod|server|capabilities/.test(l))).toHaveLength(4);
  });

  it('3: a container the agent does not know (passed on from the agent)', async () => {
    await expectError(call('CHECK', '1.0.0', {}, { prevResult: { cniVersion: '1.0.0', ips: [{ address: '172.22.0.9/32' }] } }), 3);
  });

  it('4: environment', async () => {
    await expectError({ ...call('ADD', '0.3.0'), netns: undefined }, 4, 'required env variables [CNI_NETNS] missing');
    await expectError({ ...call('DEL', '0.3.0'), containerId: undefined, ifName: undefined }, 4, 'required env variables [CNI_CONTAINERID,CNI_IFNAME] missing');
    await expectError(call('ADD', '0.3.0', { ifName: 'eth0123456789abc' }), 4, 'interface name is too long');
    await expectError(call('ADD', '0.3.0', { containerId: 'a/b' }), 4, 'invalid characters in containerID');
    await expectError(call('FOO', '0.3.0'), 4, 'unknown CNI_COMMAND: FOO');
    await expectError(call('ADD', '0.3.0', { args: 'K8S_POD_UID=x;K8S_POD_NAME=a;K8S_POD_NAMESPACE=b' }), 4, 'CNI_ARGS: unknown args [K8S_POD_UID]');
    await expectError(call('ADD', '0.3.0', { args: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=x' }), 4, 'CNI_ARGS has K8S_POD_NAMESPACE=x but no K8S_POD_NAME');
    await expectError(call('ADD', '0.3.0', { netns: join(dir, 'not-a-netns') }), 4, `CNI_NETNS ${join(dir, 'not-a-netns')} is not a network namespace`);
  });

  it('5: stdin that cannot be read', async () => {
    const fd = openSync(dir, 'r');
    try {
      const r = await runPlugin({ ...call('ADD', '1.0.0'), stdinFd: fd });
      expect(json(r)['code']).toBe(5);
      expect(json(r)['msg']).toMatch(/^error reading from stdin: EISDIR/);
    } finally {
      closeSync(fd);
    }
  });

  it('6: stdin that is not a JSON object', async () => {
    await expectError({ ...call('ADD', '1.0.0'), stdin: '{"cniVersion":' }, 6, /^error unmarshall network config: /);
    await expectError({ ...call('DEL', '1.0.0'), stdin: '[1]' }, 6);
    await expectError({ ...call('ADD', '1.0.0'), config: { name: 'n', cniVersion: 1.0 } }, 6, /^decoding version from network config/);
  });

  it('7: invalid configuration, naming the field and the fix', async () => {
    const cidr = await expectError(call('ADD', '1.0.0', {}, { serviceCIDR: '10.0.0.0/33' }), 7, 'serviceCIDR "10.0.0.0/33" is not a CIDR');
    expect(cidr['details']).toBe("set it to the cluster's service range, e.g. 10.233.0.0/18");
    await expectError(call('ADD', '0.3.0', {}, { name: '' }), 7, 'missing network name');
    await expectError(call('ADD', '0.3.0', {}, { mtu: '1500' }), 7, '"mtu" must be an integer, not a string');
    await expectError(call('ADD', '0.3.0', {}, { vethPrefix: 'toolong' }), 7, 'vethPrefix "toolong" is longer than 4 characters');
    await expectError(call('CHECK', '1.0.0'), 7, 'CHECK needs prevResult');
    await expectError(call('GC', '1.1.0'), 7, 'GC without cni.dev/valid-attachments');
  });

  it('11: the agent is not running, or not ready', async () => {
    const gone = await expectError(call('ADD', '1.0.0', {}, { socketPath: join(dir, 'none.sock') }), 11);
    expect(gone['msg']).toBe(`hostnic-agent is not reachable at ${join(dir, 'none.sock')}: no socket (the agent is not running) (ENOENT)`);
    expect(gone['cniVersion']).toBe('1.0.0');
    agent.fail.set('/v1/cni/add', { status: 503, body: 'starting' });
    await expectError(call('ADD', '0.3.1'), 11, 'hostnic-agent is not ready (HTTP 503 on POST /v1/cni/add)');
  });

  it('11: an agent that does not answer within the ADD timeout', async () => {
    agent.hang.add('/v1/cni/add');
    const r = await runPlugin(call('ADD', '1.0.0', {}, { timeouts: { add: 0.5 } }));
    expect(json(r)).toMatchObject({ code: 11, msg: 'hostnic-agent did not answer POST /v1/cni/add within 0.5 s' });
  });

  it('passes other agent errors on, code and all', async () => {
    agent.fail.set('/v1/cni/add', { status: 500, body: { code: 107, msg: 'pool or block not found', details: 'namespace default' } });
    const b = await expectError(call('ADD', '1.0.0'), 107, 'pool or block not found');
    expect(b['details']).toBe('namespace default');
    agent.fail.set('/v1/cni/del', { status: 500, body: { code: 999, msg: 'release failed' } });
    await expectError(call('DEL', '1.0.0'), 999, 'release failed');
  });

  it('DEL succeeds when the agent does not know the container (code 3)', async () => {
    agent.fail.set('/v1/cni/del', { status: 404, body: { code: 3, msg: 'unknown container' } });
    const r = await runPlugin(call('DEL', '1.0.0'));
    expect([r.code, r.stdout]).toEqual([0, '']);
  });

  it('DEL goes on with bad CNI_ARGS and lenient config', async () => {
    const r = await runPlugin(call('DEL', '1.0.0', { args: 'K8S_POD_UID=x' }, { serviceCIDR: 'nope', mtu: 'x' }));
    expect([r.code, r.stdout], r.stderr).toEqual([0, '']);
    expect(r.stderr).toContain('ignoring CNI_ARGS on DEL');
    expect(r.stderr).toContain('serviceCIDR \\"nope\\" is not a CIDR');
  });
});

describe('GC and STATUS (1.1.0)', () => {
  it('GC forwards the valid attachments and prints nothing', async () => {
    const valid = [{ containerID: 'c-keep', ifname: 'eth0' }];
    const r = await runPlugin({ command: 'GC', config: { ...config('1.1.0'), 'cni.dev/valid-attachments': valid } });
    expect([r.code, r.stdout], r.stderr).toEqual([0, '']);
    expect((agent.requests.at(-1)?.body as GcRequest).validAttachments).toEqual([{ containerId: 'c-keep', ifName: 'eth0' }]);
    const old = await runPlugin({ command: 'GC', config: { ...config('1.1.0'), 'cni.dev/attachments': valid } });
    expect(old.code).toBe(0);
  });

  it('GC is best effort: agent down or failing still exits 0, with a log line', async () => {
    const down = await runPlugin({ command: 'GC', config: { ...config('1.1.0', { socketPath: join(dir, 'none.sock') }), 'cni.dev/valid-attachments': [] } });
    expect([down.code, down.stdout]).toEqual([0, '']);
    expect(down.stderr).toContain('GC not done by hostnic-agent');
    agent.fail.set('/v1/cni/gc', { status: 500, body: { code: 999, msg: 'half done' } });
    const failing = await runPlugin({ command: 'GC', config: { ...config('1.1.0'), 'cni.dev/valid-attachments': [] } });
    expect([failing.code, failing.stdout]).toEqual([0, '']);
  });

  it('GC refuses a malformed list rather than releasing everything', async () => {
    await expectError({ command: 'GC', config: { ...config('1.1.0'), 'cni.dev/valid-attachments': [{ containerID: 'x' }] } }, 7, 'cni.dev/valid-attachments[0] must be {"containerID": "...", "ifname": "..."}');
  });

  it('STATUS: ready, not ready (50/51 with the reason), unreachable (50)', async () => {
    const ready = await runPlugin({ command: 'STATUS', config: config('1.1.0') });
    expect([ready.code, ready.stdout]).toEqual([0, '']);
    agent.status = { ready: false, code: 51, reason: 'NIC of vxnet-abc1234 detached' };
    const b51 = await expectError({ command: 'STATUS', config: config('1.1.0') }, 51, 'NIC of vxnet-abc1234 detached');
    expect(b51['cniVersion']).toBe('1.1.0');
    agent.status = { ready: false };
    await expectError({ command: 'STATUS', config: config('1.1.0') }, 50, 'hostnic-agent is not ready');
    await expectError({ command: 'STATUS', config: config('1.1.0', { socketPath: join(dir, 'none.sock') }) }, 50, /^hostnic-agent is not reachable/);
  });
});

describe('logging', () => {
  it('writes one JSON line per call to logFile and nothing but the protocol to stdout', async () => {
    const logFile = join(dir, 'hostnic.log');
    const c = call('ADD', '1.0.0', {}, { logFile });
    const r = await runPlugin(c);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const lines = (await readFile(logFile, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'info', msg: 'cni call', verb: 'ADD', container: c.containerId, pod: 'default/nginx', outcome: 'ok', ip: expect.any(String) });
    expect(typeof lines[0]?.['durationMs']).toBe('number');
  });

  it('falls back to stderr when logFile cannot be opened, and the call still succeeds', async () => {
    for (const logFile of ['/proc/hostnic-no-such-dir/x.log', join(dir, 'hostnic.log', 'x.log')]) {
      const r = await runPlugin(call('ADD', '1.0.0', {}, { logFile }));
      expect(r.code).toBe(0);
      expect(r.stderr).toContain('cannot open logFile; logging to stderr');
      expect(r.stderr).toContain('"outcome":"ok"');
    }
  });

  it('honours logLevel', async () => {
    const quiet = await runPlugin(call('ADD', '1.0.0', {}, { logLevel: 2 }));
    expect([quiet.code, quiet.stderr]).toEqual([0, '']);
    const failing = await runPlugin(call('ADD', '1.0.0', {}, { logLevel: 'error', mtu: 1 }));
    expect(failing.stderr).toContain('"level":"error"');
  });
});
