/**
 * A stand-in hostnic-agent for tests and the bench: the protocol.ts endpoints on a real unix socket.
 *
 * `canned` answers without touching the kernel (a fixed result), for tests that need no root. `wire` does
 * the pod's real wiring with @hostnic/netlink inside the given node namespace (veth, addresses, routes,
 * rule 1535, the ARP answer on the NIC's bridge), so that chained plugins find real interfaces and DEL really removes
 * them. Knobs make an endpoint hang, fail, or report not ready.
 */

import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { rm } from 'node:fs/promises';
import type { ArpReplyEntry, ArpReplyMatch, Netns } from '@hostnic/netlink';
import {
  applyBatchOrThrow,
  bridgeAddOp,
  checkPod,
  findLink,
  hostVethName,
  installArpReply,
  isLiveNetnsPath,
  linkSetOp,
  namedNetns,
  netnsAtPath,
  removeArpReplies,
  unwirePod,
  wirePod,
} from '@hostnic/netlink';
import type {
  AddRequest,
  AgentErrorBody,
  Attachment,
  CheckRequest,
  CniResult,
  DelRequest,
  GcRequest,
  StatusResponse,
} from '@hostnic/protocol';
import {
  AgentPath,
  PROTOCOL_HEADER,
  PROTOCOL_VERSION,
  ProtocolDecodeError,
  decodeAddRequest,
  decodeCheckRequest,
  decodeDelRequest,
  decodeGcRequest,
  protocolVersionOf,
} from '@hostnic/protocol';

export const NIC_MAC = '52:54:9e:d0:dd:96';
export const NIC_BRIDGE = 'br_260';
export const NIC_LINK = 'hostnic_abc1234';
export const POD_GATEWAY = '169.254.1.1';

export interface FakeAgentOptions {
  socketPath: string;
  mode: 'canned' | 'wire';
  /** wire: the node namespace (a name under /var/run/netns) where host-side work happens. */
  nodeNetns?: string;
  /** wire: the ebtables lock file (beside the socket, as the plugin assumes). */
  lockPath?: string;
  /** First pod address handed out; later pods get the next ones. */
  firstIp?: string;
  /**
   * wire: the pod's ARP answer. Unset: the agent's way, a proxy neighbour entry on the NIC's bridge (created
   * in the node namespace when missing); an ebtables form: what an earlier release of the agent installed.
   */
  arpForm?: ArpReplyMatch;
}

export interface RecordedRequest {
  method: string;
  path: string;
  /** The request's protocol version header. */
  protocol: string | undefined;
  body: unknown;
}

interface PodRecord {
  attachment: Attachment;
  ip: string;
  hostVeth: string;
  hostMac: string;
  arp: ArpReplyEntry | undefined;
  result: CniResult;
}

export interface FakeAgent {
  readonly socketPath: string;
  readonly requests: RecordedRequest[];
  readonly records: Map<string, PodRecord>;
  /** Paths whose requests are never answered. */
  readonly hang: Set<string>;
  /** Paths answered with this status and body. */
  readonly fail: Map<string, { status: number; body: unknown }>;
  status: StatusResponse;
  /** The protocol version named in every answer (default: the current one); undefined answers as version 1 did, without the header. */
  answerVersion: number | undefined;
  stop(): Promise<void>;
}

function key(a: { containerId: string; ifName: string }): string {
  return `${a.containerId}/${a.ifName}`;
}

function nextIp(ip: string, n: number): string {
  const parts = ip.split('.').map(Number);
  const value = ((parts[0] ?? 0) * 2 ** 24 + (parts[1] ?? 0) * 2 ** 16 + (parts[2] ?? 0) * 2 ** 8 + (parts[3] ?? 0) + n) >>> 0;
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text === '' ? undefined : JSON.parse(text);
}

function send(res: ServerResponse, status: number, body: unknown, version: number | undefined): void {
  const text = JSON.stringify(body);
  const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) };
  if (version !== undefined) headers[PROTOCOL_HEADER] = version;
  res.writeHead(status, headers);
  res.end(text);
}

function cniError(code: number, msg: string, details?: string): AgentErrorBody {
  return details === undefined ? { code, msg } : { code, msg, details };
}

export async function startFakeAgent(options: FakeAgentOptions): Promise<FakeAgent> {
  const requests: RecordedRequest[] = [];
  const records = new Map<string, PodRecord>();
  const hang = new Set<string>();
  const fail = new Map<string, { status: number; body: unknown }>();
  let allocated = 0;
  const firstIp = options.firstIp ?? '172.22.0.100';
  const nodeNs: Netns | undefined = options.nodeNetns ? namedNetns(options.nodeNetns) : undefined;
  const lockPath = options.lockPath;
  if (options.mode === 'wire' && (!nodeNs || !lockPath)) throw new Error('wire mode needs nodeNetns and lockPath');

  const state: { status: StatusResponse; answerVersion: number | undefined } = { status: { ready: true }, answerVersion: PROTOCOL_VERSION };

  async function add(body: AddRequest): Promise<[number, unknown]> {
    const a = body.attachment;
    const existing = records.get(key(a));
    if (existing) return [200, { result: existing.result, vxnet: 'vxnet-abc1234' }];
    const ip = nextIp(firstIp, allocated++);
    const hostVeth = hostVethName(a.podNamespace, a.podName, body.config.vethPrefix);
    let podMac = '02:00:00:00:00:01';
    let hostMac = '02:00:00:00:00:02';
    let arp: ArpReplyEntry | undefined;
    if (options.mode === 'wire' && nodeNs && lockPath) {
      try {
        const proxyArpDev = options.arpForm === undefined ? NIC_BRIDGE : undefined;
        if (proxyArpDev !== undefined && !(await findLink(NIC_BRIDGE, { netns: nodeNs }))) {
          await applyBatchOrThrow([bridgeAddOp(NIC_BRIDGE, { mac: NIC_MAC }), linkSetOp(NIC_BRIDGE, { up: true })], { netns: nodeNs });
        }
        const w = await wirePod({ podNetns: netnsAtPath(a.netns), hostNetns: nodeNs, ifName: a.ifName, hostVeth, podIP: ip, mtu: body.config.mtu, proxyArpDev });
        if (options.arpForm !== undefined) {
          const target = { bridge: NIC_BRIDGE, nicLink: NIC_LINK, ip, mac: NIC_MAC };
          arp = await installArpReply(target, { netns: nodeNs, lockPath }, options.arpForm);
        }
        podMac = w.podMac;
        hostMac = w.hostMac;
      } catch (e) {
        return [500, cniError(999, `wiring failed: ${e instanceof Error ? e.message : String(e)}`)];
      }
    }
    const result: CniResult = {
      interfaces: [
        { name: a.ifName, mac: podMac, sandbox: a.netns, mtu: body.config.mtu },
        { name: hostVeth, mac: hostMac, mtu: body.config.mtu },
      ],
      ips: [{ interface: 0, address: `${ip}/32`, gateway: POD_GATEWAY }],
      dns: {},
    };
    records.set(key(a), { attachment: a, ip, hostVeth, hostMac, arp, result });
    return [200, { result, vxnet: 'vxnet-abc1234' }];
  }

  async function release(r: PodRecord): Promise<void> {
    if (options.mode !== 'wire' || !nodeNs || !lockPath) return;
    const podNetns = r.attachment.netns !== '' && (await isLiveNetnsPath(r.attachment.netns)) ? netnsAtPath(r.attachment.netns) : undefined;
    const proxyArp = r.arp ? undefined : { dev: NIC_BRIDGE };
    await unwirePod({ podNetns, hostNetns: nodeNs, ifName: r.attachment.ifName, hostVeth: r.hostVeth, podIP: r.ip, hostMac: r.hostMac, proxyArp });
    if (r.arp) await removeArpReplies({ ip: r.ip }, { netns: nodeNs, lockPath });
  }

  async function del(body: DelRequest): Promise<[number, unknown]> {
    const r = records.get(key(body.attachment));
    if (!r) return [200, {}];
    try {
      // The netns of the DEL call is the current truth (it may be gone or empty now).
      await release({ ...r, attachment: { ...r.attachment, netns: body.attachment.netns } });
    } catch (e) {
      return [500, cniError(999, `unwiring failed: ${e instanceof Error ? e.message : String(e)}`)];
    }
    records.delete(key(body.attachment));
    return [200, {}];
  }

  async function check(body: CheckRequest): Promise<[number, unknown]> {
    const r = records.get(key(body.attachment));
    if (!r) return [404, cniError(3, `no attachment ${key(body.attachment)}`)];
    const prevIp = body.prevResult.ips[0]?.address.split('/')[0];
    if (prevIp !== r.ip) return [409, cniError(999, `prevResult has ${prevIp ?? 'no IP'}, the agent recorded ${r.ip}`)];
    if (options.mode === 'wire' && nodeNs) {
      const c = await checkPod({
        podNetns: netnsAtPath(body.attachment.netns),
        hostNetns: nodeNs,
        ifName: body.attachment.ifName,
        hostVeth: r.hostVeth,
        podIP: r.ip,
        mtu: body.config.mtu,
        arpReply: r.arp,
        proxyArpDev: r.arp ? undefined : NIC_BRIDGE,
      });
      if (!c.ok) return [409, cniError(999, c.mismatch, c.mismatches.join('; '))];
    }
    return [200, {}];
  }

  async function gc(body: GcRequest): Promise<[number, unknown]> {
    const valid = new Set(body.validAttachments.map(key));
    const released: { containerId: string; ifName: string }[] = [];
    for (const [k, r] of [...records]) {
      if (valid.has(k)) continue;
      await release(r).catch(() => undefined);
      records.delete(k);
      released.push({ containerId: r.attachment.containerId, ifName: r.attachment.ifName });
    }
    return [200, { released }];
  }

  /** Requests are decoded as the real agent decodes them, so a malformed one fails the test that sent it. */
  async function route(method: string, path: string, body: unknown, version: number): Promise<[number, unknown]> {
    if (method === 'GET' && path === AgentPath.status) return [state.status.ready ? 200 : 503, state.status];
    if (method !== 'POST') return [405, cniError(999, `${method} ${path} not allowed`)];
    try {
      switch (path) {
        case AgentPath.add:
          return await add(decodeAddRequest(body, version));
        case AgentPath.del:
          return await del(decodeDelRequest(body, version));
        case AgentPath.check:
          return await check(decodeCheckRequest(body, version));
        case AgentPath.gc:
          return await gc(decodeGcRequest(body));
        default:
          return [404, cniError(999, `no endpoint ${path}`)];
      }
    } catch (e) {
      if (e instanceof ProtocolDecodeError) return [400, cniError(7, `malformed request: ${e.message}`)];
      throw e;
    }
  }

  const server: Server = createServer((req, res) => {
    void (async () => {
      const method = req.method ?? 'GET';
      const path = req.url ?? '/';
      let body: unknown;
      try {
        body = await readBody(req);
      } catch {
        send(res, 400, cniError(6, 'request body is not JSON'), state.answerVersion);
        return;
      }
      const protocol = req.headers[PROTOCOL_HEADER];
      requests.push({ method, path, protocol: typeof protocol === 'string' ? protocol : undefined, body });
      if (hang.has(path)) return;
      const failure = fail.get(path);
      if (failure) {
        send(res, failure.status, failure.body, state.answerVersion);
        return;
      }
      const [status, answer] = await route(method, path, body, protocolVersionOf(req.headers[PROTOCOL_HEADER]));
      send(res, status, answer, state.answerVersion);
    })();
  });
  await rm(options.socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.socketPath, () => resolve());
  });

  return {
    socketPath: options.socketPath,
    requests,
    records,
    hang,
    fail,
    get status() {
      return state.status;
    },
    set status(s: StatusResponse) {
      state.status = s;
    },
    get answerVersion() {
      return state.answerVersion;
    },
    set answerVersion(v: number | undefined) {
      state.answerVersion = v;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(options.socketPath, { force: true });
    },
  };
}
