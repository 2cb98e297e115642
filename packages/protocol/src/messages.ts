/**
 * Decoders of the agent API's messages: each takes parsed JSON, checks every field the type names, and
 * returns the current version's shape or throws a ProtocolDecodeError naming the field. Unknown keys are
 * ignored, so that a field added in a later version does not break an older reader.
 */

import { ProtocolDecodeError } from './decode-error.ts';
import type { Obj } from './fields.ts';
import {
  asObject,
  booleanField,
  integerField,
  join,
  listField,
  optionalInteger,
  optionalString,
  stringField,
  stringItem,
} from './fields.ts';
import type {
  AddRequest,
  AddResponse,
  AgentErrorBody,
  Attachment,
  AttachmentRef,
  CheckRequest,
  CniDns,
  CniInterface,
  CniIpConfig,
  CniResult,
  CniRoute,
  DelRequest,
  GcRequest,
  GcResponse,
  PluginConfig,
  StatusResponse,
} from './types.ts';
import { PROTOCOL_VERSION } from './version.ts';

/** What a verb needs of its attachment: DEL must decode whatever the runtime still knew. */
export type AttachmentRule = 'complete' | 'del';

function optionalFieldOr(o: Obj, key: string, path: string, fallback: string): string {
  return o[key] === undefined ? fallback : stringField(o, key, path);
}

export function decodeAttachment(value: unknown, path: string, rule: AttachmentRule, version: number = PROTOCOL_VERSION): Attachment {
  const o = asObject(value, path);
  return {
    containerId: stringField(o, 'containerId', path, 'non-empty'),
    netns: rule === 'complete' ? stringField(o, 'netns', path, 'non-empty') : optionalFieldOr(o, 'netns', path, ''),
    ifName: stringField(o, 'ifName', path, 'non-empty'),
    podNamespace: rule === 'complete' ? stringField(o, 'podNamespace', path, 'non-empty') : optionalFieldOr(o, 'podNamespace', path, ''),
    podName: rule === 'complete' ? stringField(o, 'podName', path, 'non-empty') : optionalFieldOr(o, 'podName', path, ''),
    infraContainerId: optionalFieldOr(o, 'infraContainerId', path, ''),
    // Version 1 plugins served Kubernetes pods only.
    kubernetesPod: version < 2 ? true : booleanField(o, 'kubernetesPod', path),
  };
}

export function decodePluginConfig(value: unknown, path: string): PluginConfig {
  const o = asObject(value, path);
  return {
    cniVersion: stringField(o, 'cniVersion', path, 'non-empty'),
    name: stringField(o, 'name', path, 'non-empty'),
    vethPrefix: stringField(o, 'vethPrefix', path),
    mtu: integerField(o, 'mtu', path, 68, 65535),
    serviceCIDR: optionalString(o, 'serviceCIDR', path),
    natMark: stringField(o, 'natMark', path),
    interface: stringField(o, 'interface', path),
    hairpin: booleanField(o, 'hairpin', path),
  };
}

function decodeInterface(value: unknown, path: string): CniInterface {
  const o = asObject(value, path);
  const out: CniInterface = { name: stringField(o, 'name', path, 'non-empty'), mac: stringField(o, 'mac', path) };
  const sandbox = optionalString(o, 'sandbox', path);
  if (sandbox !== undefined) out.sandbox = sandbox;
  const mtu = optionalInteger(o, 'mtu', path, 0);
  if (mtu !== undefined) out.mtu = mtu;
  return out;
}

const CIDR = /^[0-9a-fA-F:.]+\/\d{1,3}$/;

function decodeIp(value: unknown, path: string): CniIpConfig {
  const o = asObject(value, path);
  const address = stringField(o, 'address', path);
  if (!CIDR.test(address)) throw new ProtocolDecodeError(join(path, 'address'), 'an address in CIDR form, e.g. 172.22.0.239/32', address);
  const out: CniIpConfig = { address };
  const index = optionalInteger(o, 'interface', path, 0);
  if (index !== undefined) out.interface = index;
  const gateway = optionalString(o, 'gateway', path);
  if (gateway !== undefined) out.gateway = gateway;
  return out;
}

function decodeRoute(value: unknown, path: string): CniRoute {
  const o = asObject(value, path);
  const out: CniRoute = { dst: stringField(o, 'dst', path, 'non-empty') };
  const gw = optionalString(o, 'gw', path);
  if (gw !== undefined) out.gw = gw;
  return out;
}

function decodeDns(value: unknown, path: string): CniDns {
  if (value === undefined) return {};
  const o = asObject(value, path);
  const out: CniDns = {};
  for (const key of ['nameservers', 'search', 'options'] as const) {
    if (o[key] !== undefined) out[key] = listField(o, key, path, stringItem);
  }
  const domain = optionalString(o, 'domain', path);
  if (domain !== undefined) out.domain = domain;
  return out;
}

export function decodeCniResult(value: unknown, path: string): CniResult {
  const o = asObject(value, path);
  const out: CniResult = {
    interfaces: listField(o, 'interfaces', path, decodeInterface),
    ips: listField(o, 'ips', path, decodeIp),
    dns: decodeDns(o['dns'], join(path, 'dns')),
  };
  out.ips.forEach((ip, i) => {
    if (ip.interface !== undefined && ip.interface >= out.interfaces.length) {
      throw new ProtocolDecodeError(join(join(join(path, 'ips'), i), 'interface'), `an index into interfaces (0 to ${out.interfaces.length - 1})`, ip.interface);
    }
  });
  if (o['routes'] !== undefined) out.routes = listField(o, 'routes', path, decodeRoute);
  return out;
}

function timeoutOf(o: Obj): number {
  return integerField(o, 'timeoutMs', '', 1);
}

export function decodeAddRequest(value: unknown, version: number = PROTOCOL_VERSION): AddRequest {
  const o = asObject(value, '');
  return {
    attachment: decodeAttachment(o['attachment'], 'attachment', 'complete', version),
    config: decodePluginConfig(o['config'], 'config'),
    timeoutMs: timeoutOf(o),
  };
}

export function decodeDelRequest(value: unknown, version: number = PROTOCOL_VERSION): DelRequest {
  const o = asObject(value, '');
  const out: DelRequest = {
    attachment: decodeAttachment(o['attachment'], 'attachment', 'del', version),
    config: decodePluginConfig(o['config'], 'config'),
    timeoutMs: timeoutOf(o),
  };
  if (o['prevResult'] !== undefined) out.prevResult = decodeCniResult(o['prevResult'], 'prevResult');
  return out;
}

export function decodeCheckRequest(value: unknown, version: number = PROTOCOL_VERSION): CheckRequest {
  const o = asObject(value, '');
  return {
    attachment: decodeAttachment(o['attachment'], 'attachment', 'complete', version),
    config: decodePluginConfig(o['config'], 'config'),
    prevResult: decodeCniResult(o['prevResult'], 'prevResult'),
    timeoutMs: timeoutOf(o),
  };
}

function decodeAttachmentRef(value: unknown, path: string): AttachmentRef {
  const o = asObject(value, path);
  return { containerId: stringField(o, 'containerId', path, 'non-empty'), ifName: stringField(o, 'ifName', path, 'non-empty') };
}

/** GC has the same shape in every version so far. */
export function decodeGcRequest(value: unknown): GcRequest {
  const o = asObject(value, '');
  return {
    validAttachments: listField(o, 'validAttachments', '', decodeAttachmentRef),
    config: decodePluginConfig(o['config'], 'config'),
    timeoutMs: timeoutOf(o),
  };
}

/** Answers have the same shape in versions 1 and 2. */
export function decodeAddResponse(value: unknown): AddResponse {
  const o = asObject(value, '');
  const result = decodeCniResult(o['result'], 'result');
  if (result.ips.length === 0) throw new ProtocolDecodeError('result.ips', 'at least one address', result.ips);
  return { result, vxnet: o['vxnet'] === undefined ? '' : stringField(o, 'vxnet', '') };
}

/** DEL and CHECK answer an empty object. */
export function decodeEmptyResponse(value: unknown): Record<string, never> {
  asObject(value, '');
  return {};
}

export function decodeGcResponse(value: unknown): GcResponse {
  return { released: listField(asObject(value, ''), 'released', '', decodeAttachmentRef) };
}

export function decodeStatusResponse(value: unknown): StatusResponse {
  const o = asObject(value, '');
  const out: StatusResponse = { ready: booleanField(o, 'ready', '') };
  const reason = optionalString(o, 'reason', '');
  if (reason !== undefined) out.reason = reason;
  if (o['code'] !== undefined) {
    if (o['code'] !== 50 && o['code'] !== 51) throw new ProtocolDecodeError('code', '50 or 51', o['code']);
    out.code = o['code'];
  }
  return out;
}

export function decodeAgentErrorBody(value: unknown): AgentErrorBody {
  const o = asObject(value, '');
  const out: AgentErrorBody = { code: integerField(o, 'code', '', 1), msg: stringField(o, 'msg', '') };
  const details = optionalString(o, 'details', '');
  if (details !== undefined) out.details = details;
  return out;
}
