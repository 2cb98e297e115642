import { request } from 'node:http';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentPath } from '@hostnic/protocol';
import type { AddResponse, AgentErrorBody, GcResponse, StatusResponse } from '@hostnic/protocol';
import { AgentServer, OperatorPath } from '../../src/api/index.ts';
import { CONFIG, isRoot, nodeSnapshot, startPodHarness } from '../pods/helpers.ts';
import type { PodHarness } from '../pods/helpers.ts';
import { call } from './call.ts';

const execFileAsync = promisify(execFile);

describe.skipIf(!isRoot)('AgentServer on a unix socket', () => {
  let h: PodHarness;
  let server: AgentServer;
  let socketDir: string;

  beforeEach(async () => {
    h = await startPodHarness();
    socketDir = await mkdtemp(join(tmpdir(), 'hostnic-sock-'));
    server = new AgentServer({
      socketPath: join(socketDir, 'run', 'hostnic.socket'),
      pods: h.service,
      snapshot: () => h.store.snapshot(),
      pools: () => h.ipam.utilisation(),
      operator: {
        checkNode: (fix) => h.service.checkNode(fix),
        clearNics: (dryRun) => h.nics.clearIdleNics({ dryRun }),
      },
      bodyLimitBytes: 64 * 1024,
    });
  });

  afterEach(async () => {
    try {
      await server.close();
      await rm(socketDir, { recursive: true, force: true });
    } finally {
      await h.close();
    }
  });

  it('answers the protocol: 503 before ready, ADD/CHECK/DEL/GC, introspection, errors as CNI bodies', async () => {
    await server.listen();
    const sock = server.socketPath;
    expect((await stat(sock)).mode & 0o777).toBe(0o600);

    const pod = await h.podNetns('api-1');
    const add = h.addRequest(pod);

    const early = await call(sock, 'POST', AgentPath.add, add);
    expect(early.status).toBe(503);
    expect(early.body as StatusResponse).toMatchObject({ ready: false, code: 50 });
    expect((early.body as StatusResponse).reason).toBeTruthy();
    expect((await call(sock, 'GET', AgentPath.status)).status).toBe(503);
    expect(await h.store.listPods()).toEqual([]);

    server.setReady(true);
    expect(await call(sock, 'GET', AgentPath.status)).toEqual({ status: 200, protocol: '2', body: { ready: true } });

    const added = await call(sock, 'POST', AgentPath.add, add);
    expect(added.status).toBe(200);
    const { result, vxnet } = added.body as AddResponse;
    expect(vxnet).toBe('vxnet-pods001');
    expect(result.ips[0]?.address).toMatch(/^172\.16\.3\.\d+\/32$/);

    expect(await call(sock, 'POST', AgentPath.check, { attachment: add.attachment, config: CONFIG, prevResult: result, timeoutMs: 10_000 })).toEqual({ status: 200, protocol: '2', body: {} });

    const pods = await call(sock, 'GET', AgentPath.pods);
    expect((pods.body as { pods: { containerId: string }[] }).pods.map((p) => p.containerId)).toEqual([add.attachment.containerId]);
    const nics = await call(sock, 'GET', AgentPath.nics);
    expect((nics.body as { nics: unknown[] }).nics).toHaveLength(1);
    expect((await call(sock, 'GET', AgentPath.pools)).status).toBe(200);

    const gc = await call(sock, 'POST', AgentPath.gc, { validAttachments: [{ containerId: add.attachment.containerId, ifName: 'eth0' }], config: CONFIG, timeoutMs: 10_000 });
    expect(gc).toEqual({ status: 200, protocol: '2', body: { released: [] } satisfies GcResponse });

    expect(await call(sock, 'POST', AgentPath.del, { attachment: add.attachment, config: CONFIG, prevResult: result, timeoutMs: 10_000 })).toEqual({ status: 200, protocol: '2', body: {} });
    expect(await call(sock, 'POST', AgentPath.del, { attachment: add.attachment, config: CONFIG, timeoutMs: 10_000 })).toEqual({ status: 200, protocol: '2', body: {} });
    expect(await h.store.listPods()).toEqual([]);

    const bad = await call(sock, 'POST', AgentPath.add, undefined, '{not json');
    expect(bad.status).toBe(400);
    expect((bad.body as AgentErrorBody).code).toBe(7);
    const missing = await call(sock, 'POST', AgentPath.add, { attachment: { containerId: 'x' }, config: CONFIG, timeoutMs: 1000 });
    expect(missing.status).toBe(400);
    expect((missing.body as AgentErrorBody).msg).toMatch(/attachment\./);
    const huge = await call(sock, 'POST', AgentPath.add, undefined, JSON.stringify({ pad: 'x'.repeat(100 * 1024) }));
    expect(huge.status).toBe(413);
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = request({ socketPath: sock, method: 'POST', path: AgentPath.add, headers: { 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      for (let i = 0; i < 10; i++) req.write('x'.repeat(16 * 1024));
      req.end();
    });
    expect(chunked).toBe(413);

    const failing = h.addRequest(pod);
    failing.attachment.netns = `${pod.path}-gone`;
    const failed = await call(sock, 'POST', AgentPath.add, failing);
    expect(failed.status).toBe(500);
    expect(failed.body as AgentErrorBody).toMatchObject({ code: 102, msg: expect.stringMatching(/wire-pod/) as unknown });

    expect((await call(sock, 'GET', '/v1/nope')).status).toBe(404);
  });

  it('answers code 11 when a verb exceeds timeoutMs, and replaces a stale socket file', async () => {
    await server.listen();
    await server.close();
    // A socket left by a dead agent: bound, nobody listening.
    await execFileAsync('python3', ['-c', 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', server.socketPath]);
    expect((await stat(server.socketPath)).isSocket()).toBe(true);
    const slow = new AgentServer({
      socketPath: server.socketPath,
      pods: { ...h.service, add: () => new Promise(() => undefined), del: async () => undefined, check: async () => undefined, gc: async () => ({ released: [] }) },
      snapshot: () => h.store.snapshot(),
    });
    server = slow;
    await slow.listen();
    slow.setReady(true);
    const pod = await h.podNetns('slow');
    const answer = await call(slow.socketPath, 'POST', AgentPath.add, { ...h.addRequest(pod), timeoutMs: 100 });
    expect(answer.status).toBe(503);
    expect(answer.body as AgentErrorBody).toMatchObject({ code: 11 });
  });

  it('refuses to replace a path that is not a socket', async () => {
    await mkdir(join(socketDir, 'run'), { recursive: true });
    await writeFile(server.socketPath, 'not a socket');
    await expect(server.listen()).rejects.toThrow(/not a socket/);
  });

  it('check: 503 before ready, 400 for a bad body, lists then removes an orphaned veth', async () => {
    await server.listen();
    const sock = server.socketPath;
    expect((await call(sock, 'POST', OperatorPath.check, { fix: false })).status).toBe(503);
    server.setReady(true);
    const bad = await call(sock, 'POST', OperatorPath.check, { fix: 'yes' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ msg: '"fix" must be true or false, not "yes"' });
    expect((await call(sock, 'GET', OperatorPath.check)).status).toBe(405);

    await h.sandbox.exec('node-1', ['ip', 'link', 'add', 'vnic0000000fe01', 'type', 'veth', 'peer', 'name', 'op-peer']);
    const listed = await call(sock, 'POST', OperatorPath.check, { fix: false });
    expect(listed).toMatchObject({ status: 200, body: { found: [{ kind: 'veth', key: 'vnic0000000fe01' }], removed: [], failed: [] } });
    expect((await nodeSnapshot(h)).links.some((l) => l.name === 'vnic0000000fe01')).toBe(true);
    const fixed = await call(sock, 'POST', OperatorPath.check, { fix: true });
    expect(fixed.body).toEqual({ found: [{ kind: 'veth', key: 'vnic0000000fe01' }], removed: [{ kind: 'veth', key: 'vnic0000000fe01' }], failed: [] });
    expect((await nodeSnapshot(h)).links.some((l) => l.name === 'vnic0000000fe01')).toBe(false);
  });

  it('nics clear: the dry run frees nothing, then the idle NIC is freed and the busy one kept', async () => {
    await server.listen();
    server.setReady(true);
    const sock = server.socketPath;
    const pod = await h.podNetns('busy');
    const add = h.addRequest(pod);
    await h.service.add(add);
    const nic = await h.store.nicForVxnet('vxnet-pods001');
    if (!nic) throw new Error('no NIC');

    const busy = await call(sock, 'POST', OperatorPath.clearNics, { dryRun: true });
    expect(busy.body).toEqual({ nics: [{ nicId: nic.nicId, vxnetId: 'vxnet-pods001', outcome: 'kept', reason: '1 pod(s) on it' }] });

    await h.service.del({ attachment: add.attachment, config: add.config, timeoutMs: 30_000 });
    const dry = await call(sock, 'POST', OperatorPath.clearNics, { dryRun: true });
    expect(dry.body).toEqual({ nics: [{ nicId: nic.nicId, vxnetId: 'vxnet-pods001', outcome: 'would-release' }] });
    expect(await h.store.getNic(nic.nicId)).toBeDefined();
    expect(h.sandbox.qingcloud.requests({ action: 'DetachNics' })).toEqual([]);

    const done = await call(sock, 'POST', OperatorPath.clearNics, {});
    expect(done.body).toEqual({ nics: [{ nicId: nic.nicId, vxnetId: 'vxnet-pods001', outcome: 'released' }] });
    expect(await h.store.getNic(nic.nicId)).toBeUndefined();
    expect(h.sandbox.qingcloud.nics().some((n) => n.nic_id === nic.nicId)).toBe(false);
  });
});
