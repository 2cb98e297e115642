import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentPath, PROTOCOL_VERSION } from '@hostnic/protocol';
import type { AddResponse, AgentErrorBody } from '@hostnic/protocol';
import type { V1AddRequest, V1Attachment, V1CheckRequest, V1DelRequest } from '@hostnic/protocol/testing';
import { V1 } from '@hostnic/protocol/testing';
import { AgentServer } from '../../src/api/index.ts';
import type { PodIpam, PodNics, PodService } from '../../src/pods/index.ts';
import { CONFIG, isRoot, startPodHarness } from '../pods/helpers.ts';
import type { PodHarness } from '../pods/helpers.ts';
import { call } from './call.ts';

describe.skipIf(!isRoot)('AgentServer: decoding and protocol versions', () => {
  let h: PodHarness;
  let socketDir: string;
  let server: AgentServer | undefined;

  beforeEach(async () => {
    h = await startPodHarness();
    socketDir = await mkdtemp(join(tmpdir(), 'hostnic-proto-'));
  });

  afterEach(async () => {
    try {
      await server?.close();
      await rm(socketDir, { recursive: true, force: true });
    } finally {
      await h.close();
    }
  });

  async function serve(pods: Pick<PodService, 'add' | 'del' | 'check' | 'gc'>): Promise<string> {
    server = new AgentServer({ socketPath: join(socketDir, 'hostnic.socket'), pods, snapshot: () => h.store.snapshot() });
    await server.listen();
    server.setReady(true);
    return server.socketPath;
  }

  it('refuses a malformed request before any allocation or NIC work', async () => {
    const calls = { allocate: 0, release: 0, ensureNic: 0 };
    const ipam: PodIpam = {
      allocate: (r) => {
        calls.allocate++;
        return h.ipam.allocate(r);
      },
      release: (id) => {
        calls.release++;
        return h.ipam.release(id);
      },
    };
    const nics: PodNics = {
      leaseNic: () => {
        calls.ensureNic++;
        return Promise.reject(new Error('this test creates no NIC'));
      },
    };
    const sock = await serve(h.serviceWith({ ipam, nics }));
    const pod = await h.podNetns('malformed');
    const { config: _left, ...noConfig } = h.addRequest(pod);

    const refused = await call(sock, 'POST', AgentPath.add, noConfig);
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({ code: 7, msg: 'malformed request: config: expected an object, got nothing' } satisfies AgentErrorBody);
    const badMtu = await call(sock, 'POST', AgentPath.add, { ...h.addRequest(pod), config: { ...CONFIG, mtu: '1500' } });
    expect((badMtu.body as AgentErrorBody).msg).toBe('malformed request: config.mtu: expected an integer from 68 to 65535, got the string "1500"');
    const noPodFlag = await call(sock, 'POST', AgentPath.add, { ...h.addRequest(pod), attachment: { ...h.attachment(pod), kubernetesPod: undefined } });
    expect((noPodFlag.body as AgentErrorBody).msg).toMatch(/^malformed request: attachment\.kubernetesPod: expected true or false/);
    expect(calls).toEqual({ allocate: 0, release: 0, ensureNic: 0 });
    expect(await h.store.listPods()).toEqual([]);

    // The seams do count: a well-formed ADD reaches both (and fails at the NIC, rolling the address back).
    const failed = await call(sock, 'POST', AgentPath.add, h.addRequest(pod));
    expect(failed.status).toBe(500);
    expect(calls).toEqual({ allocate: 1, release: 1, ensureNic: 1 });
  });

  it('v1 plugin -> current agent: ADD, CHECK, DEL of the frozen v1 shapes, answered as version 1', async () => {
    const sock = await serve(h.service);
    const pod = await h.podNetns('v1');
    const { kubernetesPod: _absent, ...attachment } = h.attachment(pod);
    const v1Attachment: V1Attachment = attachment;
    const add: V1AddRequest = { attachment: v1Attachment, config: CONFIG, timeoutMs: 30_000 };
    // The first release sent `x-hostnic-protocol: 1`; a request without the header is read the same way.
    for (const protocol of [String(V1), null]) {
      const added = await call(sock, 'POST', AgentPath.add, add, undefined, protocol);
      expect([added.status, added.protocol]).toEqual([200, '1']);
      const { result } = added.body as AddResponse;
      const check: V1CheckRequest = { ...add, prevResult: result };
      expect(await call(sock, 'POST', AgentPath.check, check, undefined, protocol)).toEqual({ status: 200, protocol: '1', body: {} });
      const del: V1DelRequest = { ...add, prevResult: result };
      expect(await call(sock, 'POST', AgentPath.del, del, undefined, protocol)).toEqual({ status: 200, protocol: '1', body: {} });
      expect(await h.store.listPods()).toEqual([]);
    }
  });

  it('current requests are answered in the current version; DEL decodes without pod namespace and name', async () => {
    const sock = await serve(h.service);
    const pod = await h.podNetns('v2');
    const add = h.addRequest(pod);
    const added = await call(sock, 'POST', AgentPath.add, add);
    expect([added.status, added.protocol]).toEqual([200, String(PROTOCOL_VERSION)]);
    const bare = { containerId: 'never-added', ifName: 'eth0', kubernetesPod: false };
    const del = await call(sock, 'POST', AgentPath.del, { attachment: bare, config: CONFIG, timeoutMs: 5_000 });
    // Decoded: whatever the pod service then answers, it is not the decoder's refusal.
    expect((del.body as AgentErrorBody | undefined)?.msg ?? '').not.toMatch(/^malformed request/);
    expect(await call(sock, 'POST', AgentPath.gc, { validAttachments: [], config: CONFIG, timeoutMs: 10_000 })).toMatchObject({ status: 200, protocol: '2' });
    expect(await h.store.listPods()).toEqual([]);
  });

  it('two versions apart, or no version at all: a clear refusal, no work', async () => {
    let work = 0;
    const counting = {
      add: () => Promise.reject(new Error(`work ${++work}`)),
      del: () => Promise.reject(new Error(`work ${++work}`)),
      check: () => Promise.reject(new Error(`work ${++work}`)),
      gc: () => Promise.reject(new Error(`work ${++work}`)),
    };
    const sock = await serve(counting);
    const pod = await h.podNetns('skew');
    const ahead = await call(sock, 'POST', AgentPath.add, h.addRequest(pod), undefined, String(PROTOCOL_VERSION + 2));
    expect(ahead).toEqual({
      status: 400,
      protocol: String(PROTOCOL_VERSION),
      body: { code: 11, msg: `plugin ${PROTOCOL_VERSION + 2}, agent ${PROTOCOL_VERSION}: finish the rollout`, details: expect.stringMatching(/rollout/) as unknown },
    });
    const garbage = await call(sock, 'POST', AgentPath.add, h.addRequest(pod), undefined, 'two');
    expect([garbage.status, (garbage.body as AgentErrorBody).code]).toEqual([400, 7]);
    expect((garbage.body as AgentErrorBody).msg).toMatch(/header x-hostnic-protocol: expected a protocol version/);
    expect((await call(sock, 'GET', AgentPath.status, undefined, undefined, '9')).status).toBe(400);
    expect(work).toBe(0);
  });
});
