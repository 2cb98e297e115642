/**
 * The network configuration on stdin: decoded, checked and defaulted.
 *
 * The keys of the original keep their defaults. Keys are matched exactly, or case-insensitively with a
 * warning (the Go plugin accepted `MTU` or `vethprefix`, and configs in the field may carry them). Unknown
 * keys are ignored: runtimes add their own (`prevResult`, `runtimeConfig`, `args`, ...).
 *
 * ADD, CHECK and STATUS reject a bad value with code 7 (or 2) naming the key and the fix. DEL and GC must
 * not leave a pod stuck because someone broke a key that only shapes ADD, so there a bad value is logged
 * and its default used instead.
 */

import type { PluginConfig } from '@hostnic/protocol';
import { DEFAULT_AGENT_SOCKET, DEFAULT_SPOOL_DIR } from '@hostnic/protocol';
import type { CniError } from './errors.ts';
import { DecodeError, InvalidConfigError } from './errors.ts';
import { ID_PATTERN } from './env.ts';
import type { CniVersion } from './versions.ts';
// The names module alone: config checks run on every call and must not load the rest of netlink.
import { MAX_VETH_PREFIX_LENGTH, vethPrefixProblem } from '@hostnic/netlink/names';

export interface Timeouts {
  /** Until the agent's socket accepts the connection. */
  connectMs: number;
  addMs: number;
  delMs: number;
  checkMs: number;
  gcMs: number;
  statusMs: number;
}

/** Log levels of the original (logrus numbering): a line is written when its level is at most this. */
export const LogLevels = { panic: 0, fatal: 1, error: 2, warn: 3, info: 4, debug: 5, trace: 6 } as const;
export type LogLevel = (typeof LogLevels)[keyof typeof LogLevels];

export interface NetConf {
  cniVersion: CniVersion;
  name: string;
  /** What the agent receives. */
  plugin: PluginConfig;
  socketPath: string;
  spoolDir: string;
  timeouts: Timeouts;
  logLevel: LogLevel;
  /** Undefined: log to stderr. */
  logFile: string | undefined;
  /** The namespace of containers that CNI_ARGS does not name as Kubernetes pods (podman, nerdctl). */
  defaultNamespace: string;
  /** Problems that did not fail the call (lenient verbs, inert keys, case-insensitive matches). */
  warnings: string[];
}

export const DEFAULTS = {
  vethPrefix: 'vnic',
  mtu: 1500,
  natMark: '0x10000',
  interface: 'eth0',
  hairpin: false,
  logLevel: LogLevels.info,
  defaultNamespace: 'default',
} as const;

export const DEFAULT_TIMEOUTS: Timeouts = {
  connectMs: 5_000,
  // NIC creation and attachment on the cold path take tens of seconds; kubelet's own budget is 4 minutes.
  addMs: 200_000,
  delMs: 30_000,
  checkMs: 30_000,
  gcMs: 60_000,
  statusMs: 5_000,
};

/** sun_path is 108 bytes including the terminating NUL. */
const MAX_SOCKET_PATH = 107;

/** Step 3a: stdin must be a JSON object with a valid network name. */
export function decodeConfig(text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new DecodeError(
      `error unmarshall network config: ${why}`,
      'the runtime sends the network configuration (a JSON object) on stdin; check the file in /etc/cni/net.d',
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new DecodeError(
      `error unmarshall network config: expected a JSON object, got ${Array.isArray(parsed) ? 'an array' : parsed === null ? 'null' : typeof parsed}`,
      'the runtime sends the network configuration (a JSON object) on stdin',
    );
  }
  const raw = parsed as Record<string, unknown>;
  const name = raw['name'];
  if (name !== undefined && typeof name !== 'string') {
    throw new DecodeError(`error unmarshall network config: "name" is a ${typeof name}, not a string`, 'set "name", e.g. "hostnic"');
  }
  if (name === undefined || name === '') throw new InvalidConfigError('missing network name', 'set "name", e.g. "hostnic"', 'name');
  if (!ID_PATTERN.test(name)) {
    throw new InvalidConfigError('invalid characters found in network name', name, 'name');
  }
  return raw;
}

/** Reads keys exactly or case-insensitively, and turns problems into errors or warnings. */
class ConfReader {
  readonly raw: Record<string, unknown>;
  readonly strict: boolean;
  readonly warnings: string[] = [];

  constructor(raw: Record<string, unknown>, strict: boolean) {
    this.raw = raw;
    this.strict = strict;
  }

  get(key: string): unknown {
    if (Object.hasOwn(this.raw, key)) return this.raw[key];
    const lower = key.toLowerCase();
    const matches = Object.keys(this.raw).filter((k) => k.toLowerCase() === lower);
    if (matches.length === 0) return undefined;
    if (matches.length > 1) {
      return this.fail(
        new InvalidConfigError(
          `network config has ${matches.map((m) => `"${m}"`).join(' and ')}`,
          `keep one of them, spelled "${key}"`,
          key,
        ),
        undefined,
      );
    }
    const [found = key] = matches;
    this.warnings.push(`network config key "${found}" read as "${key}"; spell it "${key}"`);
    return this.raw[found];
  }

  /** Strict: throw. Lenient: warn and go on with `fallback`. */
  fail<T>(e: CniError, fallback: T): T {
    if (this.strict) throw e;
    this.warnings.push(`${e.message}${e.details ? ` (${e.details})` : ''}; using the default`);
    return fallback;
  }

  typeError(key: string, expected: string, value: unknown, example: string): InvalidConfigError {
    const got = Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`;
    return new InvalidConfigError(`"${key}" must be ${expected}, not ${got}`, `e.g. "${key}": ${example}`, key);
  }

  string(key: string, example: string): string | undefined {
    const v = this.get(key);
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string') return v;
    return this.fail(this.typeError(key, 'a string', v, example), undefined);
  }

  boolean(key: string): boolean | undefined {
    const v = this.get(key);
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'boolean') return v;
    return this.fail(this.typeError(key, 'true or false', v, 'false'), undefined);
  }

  integer(key: string, example: string): number | undefined {
    const v = this.get(key);
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'number' && Number.isInteger(v)) return v;
    return this.fail(this.typeError(key, 'an integer', v, example), undefined);
  }
}

function parseIPv4(s: string): number | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return undefined;
    const b = Number(p);
    if (b > 255) return undefined;
    n = n * 256 + b;
  }
  return n;
}

/** An IPv4 CIDR; returns whether host bits are set, or undefined when it is not a CIDR at all. */
export function checkIPv4Cidr(s: string): { hostBits: boolean } | undefined {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(s);
  if (!m) return undefined;
  const addr = parseIPv4(m[1] ?? '');
  const len = Number(m[2]);
  if (addr === undefined || len > 32) return undefined;
  const hostMask = len === 32 ? 0 : 2 ** (32 - len) - 1;
  return { hostBits: addr % (hostMask + 1) !== 0 };
}

/** natMark as the original's iptables rules take it: a number (hex or decimal) used as value and mask. */
export function parseMark(s: string): number | undefined {
  if (!/^(0x[0-9a-fA-F]{1,8}|[0-9]{1,10})$/.test(s)) return undefined;
  const n = Number(s);
  return n >= 1 && n <= 0xffffffff ? n : undefined;
}

const KUBE_PROXY_MARKS = 0x4000 | 0x8000;

function parseLogLevel(r: ConfReader): LogLevel {
  const v = r.get('logLevel');
  if (v === undefined || v === null || v === 0) return DEFAULTS.logLevel;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 6) return v as LogLevel;
  if (typeof v === 'string' && Object.hasOwn(LogLevels, v.toLowerCase())) {
    return LogLevels[v.toLowerCase() as keyof typeof LogLevels];
  }
  return r.fail(
    new InvalidConfigError(
      `logLevel ${JSON.stringify(v)} is not a log level`,
      'use 1..6 (fatal, error, warn, info, debug, trace) or one of those names; the default is 4 (info)',
      'logLevel',
    ),
    DEFAULTS.logLevel,
  );
}

function parseTimeouts(r: ConfReader): Timeouts {
  const t = { ...DEFAULT_TIMEOUTS };
  const v = r.get('timeouts');
  if (v === undefined || v === null) return t;
  if (typeof v !== 'object' || Array.isArray(v)) {
    return r.fail(r.typeError('timeouts', 'an object of seconds', v, '{"add": 200, "del": 30}'), t);
  }
  const fields: Record<string, keyof Timeouts> = {
    connect: 'connectMs',
    add: 'addMs',
    del: 'delMs',
    check: 'checkMs',
    gc: 'gcMs',
    status: 'statusMs',
  };
  for (const [key, value] of Object.entries(v as Record<string, unknown>)) {
    const field = fields[key];
    if (field === undefined) {
      r.fail(
        new InvalidConfigError(`timeouts.${key} is not a timeout hostnic knows`, `use ${Object.keys(fields).join(', ')} (seconds)`, `timeouts.${key}`),
        undefined,
      );
      continue;
    }
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > 3600) {
      r.fail(
        new InvalidConfigError(
          `timeouts.${key} ${JSON.stringify(value)} is not a number of seconds between 0 and 3600`,
          `e.g. "timeouts": {"${key}": ${DEFAULT_TIMEOUTS[field] / 1000}}`,
          `timeouts.${key}`,
        ),
        undefined,
      );
      continue;
    }
    t[field] = Math.round(value * 1000);
  }
  return t;
}

function parseAbsolutePath(r: ConfReader, key: string, fallback: string, maxBytes?: number): string {
  const v = r.string(key, `"${fallback}"`);
  if (v === undefined || v === '') return fallback;
  if (!v.startsWith('/') || v.includes('\0')) {
    return r.fail(new InvalidConfigError(`${key} "${v}" is not an absolute path`, `e.g. "${key}": "${fallback}"`, key), fallback);
  }
  if (maxBytes !== undefined && Buffer.byteLength(v) > maxBytes) {
    return r.fail(
      new InvalidConfigError(`${key} "${v}" is longer than ${maxBytes} bytes`, `unix socket paths must fit in ${maxBytes} bytes; use a shorter one such as "${fallback}"`, key),
      fallback,
    );
  }
  return v;
}

/**
 * Keys the original parsed and then ignored or overrode. Configs in the field carry them (its own test
 * config sets `rt2Pod: 252`), so they never fail a call: each is logged with what hostnic does instead. A
 * value of the wrong JSON type, which the original could not decode either, is still a config error.
 */
function checkInertKeys(r: ConfReader): void {
  const hostNicType = r.string('hostNicType', '"veth"');
  if (hostNicType !== undefined && hostNicType !== '' && hostNicType !== 'veth') {
    r.warnings.push(
      `hostNicType "${hostNicType}" is ignored: hostnic always gives pods a veth pair (the original's agent overrode this key too); remove it`,
    );
  }

  const rt2Pod = r.integer('rt2Pod', '254');
  if (rt2Pod !== undefined && rt2Pod !== 0 && rt2Pod !== 254) {
    r.warnings.push(`rt2Pod ${rt2Pod} is ignored: host routes to pods live in the main table (254); remove rt2Pod`);
  }

  const server = r.get('server');
  if (server !== undefined && server !== null) {
    r.warnings.push(`"server" ${JSON.stringify(server)} is ignored: it never had an effect; use "socketPath" to point the plugin at hostnic-agent`);
  }

  const caps = r.get('capabilities');
  if (caps !== undefined && caps !== null) {
    if (typeof caps !== 'object' || Array.isArray(caps)) {
      r.fail(r.typeError('capabilities', 'an object of booleans', caps, '{}'), undefined);
      return;
    }
    const asked = Object.entries(caps as Record<string, unknown>).filter(([, on]) => on === true).map(([k]) => k);
    if (asked.length > 0) {
      r.warnings.push(
        `"capabilities" ${asked.map((k) => `${k}=true`).join(', ')} ignored: hostnic takes no runtime capabilities; ` +
          'put portmap (portMappings), bandwidth (bandwidth) or tuning after hostnic in a .conflist and give them the capabilities',
      );
    }
  }
}

/** A Kubernetes namespace name (an RFC 1123 label), which the subnet mapping and the veth name take. */
const NAMESPACE_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function parseDefaultNamespace(r: ConfReader): string {
  const v = r.string('defaultNamespace', `"${DEFAULTS.defaultNamespace}"`);
  if (v === undefined || v === '') return DEFAULTS.defaultNamespace;
  if (NAMESPACE_NAME.test(v)) return v;
  return r.fail(
    new InvalidConfigError(
      `defaultNamespace "${v}" is not a Kubernetes namespace name`,
      `use at most 63 lower-case letters, digits and "-", starting and ending with a letter or digit, e.g. "${DEFAULTS.defaultNamespace}" (the default)`,
      'defaultNamespace',
    ),
    DEFAULTS.defaultNamespace,
  );
}

export interface ParseOptions {
  /** ADD, CHECK, STATUS: true. DEL and GC: false (bad values fall back to defaults, with a warning). */
  strict: boolean;
}

/** Validates and defaults the keys hostnic reads; decodeConfig and the version check come first. */
export function parseNetConf(raw: Record<string, unknown>, cniVersion: CniVersion, options: ParseOptions): NetConf {
  const r = new ConfReader(raw, options.strict);
  const name = typeof raw['name'] === 'string' ? raw['name'] : '';
  r.string('type', '"hostnic"');

  let vethPrefix: string = r.string('vethPrefix', `"${DEFAULTS.vethPrefix}"`) ?? '';
  if (vethPrefix === '') vethPrefix = DEFAULTS.vethPrefix;
  else if (vethPrefixProblem(vethPrefix) !== undefined) {
    vethPrefix = r.fail(
      new InvalidConfigError(
        `vethPrefix "${vethPrefix}" is ${vethPrefix.length > MAX_VETH_PREFIX_LENGTH ? `longer than ${MAX_VETH_PREFIX_LENGTH} characters` : 'not a valid interface name prefix'}`,
        `host veth names are the prefix plus 11 hex characters and must fit in 15; use "${DEFAULTS.vethPrefix}" (the default, which Calico's FELIX_INTERFACEPREFIX expects) or another prefix of at most ${MAX_VETH_PREFIX_LENGTH} letters or digits`,
        'vethPrefix',
      ),
      DEFAULTS.vethPrefix,
    );
  }

  let mtu: number = r.integer('mtu', String(DEFAULTS.mtu)) ?? 0;
  if (mtu === 0) mtu = DEFAULTS.mtu;
  else if (mtu < 68 || mtu > 65535) {
    mtu = r.fail(
      new InvalidConfigError(`mtu ${mtu} is out of range`, `use 68..65535; the default is ${DEFAULTS.mtu} (the VPC's MTU)`, 'mtu'),
      DEFAULTS.mtu,
    );
  }

  let serviceCIDR = r.string('serviceCIDR', '"10.233.0.0/18"');
  if (serviceCIDR === '') serviceCIDR = undefined;
  if (serviceCIDR !== undefined) {
    const cidr = checkIPv4Cidr(serviceCIDR);
    if (!cidr) {
      serviceCIDR = r.fail(
        new InvalidConfigError(
          `serviceCIDR "${serviceCIDR}" is not a CIDR`,
          "set it to the cluster's service range, e.g. 10.233.0.0/18",
          'serviceCIDR',
        ),
        undefined,
      );
    } else if (cidr.hostBits) {
      r.warnings.push(`serviceCIDR "${serviceCIDR}" has host bits set; iptables will use its network address`);
    }
  }

  let natMark: string = r.string('natMark', `"${DEFAULTS.natMark}"`) ?? '';
  if (natMark === '') natMark = DEFAULTS.natMark;
  const mark = parseMark(natMark);
  if (mark === undefined) {
    natMark = r.fail(
      new InvalidConfigError(
        `natMark "${natMark}" is not a packet mark`,
        `use a number from 1 to 0xffffffff written as a string, e.g. "${DEFAULTS.natMark}" (the default)`,
        'natMark',
      ),
      DEFAULTS.natMark,
    );
  } else if ((mark & KUBE_PROXY_MARKS) !== 0) {
    r.warnings.push(`natMark ${natMark} overlaps kube-proxy's marks 0x4000/0x8000`);
  }

  let iface: string = r.string('interface', `"${DEFAULTS.interface}"`) ?? '';
  if (iface === '') iface = DEFAULTS.interface;
  else if (Buffer.byteLength(iface) > 15 || iface === '.' || iface === '..' || /[/:\s]/.test(iface)) {
    iface = r.fail(
      new InvalidConfigError(`interface "${iface}" is not an interface name`, 'name the node\'s primary NIC, e.g. "eth0" (the default)', 'interface'),
      DEFAULTS.interface,
    );
  }

  const hairpin = r.boolean('hairpin') ?? DEFAULTS.hairpin;
  checkInertKeys(r);

  const socketPath = parseAbsolutePath(r, 'socketPath', DEFAULT_AGENT_SOCKET, MAX_SOCKET_PATH);
  const spoolDir = parseAbsolutePath(r, 'spoolDir', DEFAULT_SPOOL_DIR);
  const timeouts = parseTimeouts(r);
  const logLevel = parseLogLevel(r);
  const logFile = r.string('logFile', '"/var/log/hostnic-cni.log"');
  const defaultNamespace = parseDefaultNamespace(r);

  return {
    cniVersion,
    name,
    plugin: { cniVersion, name, vethPrefix, mtu, serviceCIDR, natMark, interface: iface, hairpin },
    socketPath,
    spoolDir,
    timeouts,
    logLevel,
    logFile: logFile === undefined || logFile === '' ? undefined : logFile,
    defaultNamespace,
    warnings: r.warnings,
  };
}

/**
 * The log settings alone, never failing: the logger is set up before the rest of the config is judged, so
 * that a rejected config is still logged where the operator looks.
 */
export function peekLogSettings(raw: Record<string, unknown>): { logLevel: LogLevel; logFile: string | undefined } {
  const r = new ConfReader(raw, false);
  const logFile = r.string('logFile', '""');
  return { logLevel: parseLogLevel(r), logFile: logFile === undefined || logFile === '' ? undefined : logFile };
}
