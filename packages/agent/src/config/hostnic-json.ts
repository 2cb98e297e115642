/**
 * hostnic.json: the `hostnic` key of ConfigMap kube-system/hostnic-cfg-cm, mounted at /etc/hostnic/hostnic.json.
 *
 * Compatibility with the Go agent (docs/compatibility.md): sections and keys match case-insensitively, absent keys
 * keep their defaults, a present 0 overrides the default, keys that lost their meaning are still accepted (the
 * deployed file carries poolHigh/poolLow). Departures, all because the original either crashed later or did
 * something nobody could want: every value is validated and a bad one names its field; unknown keys are reported
 * as warnings instead of being dropped silently; numbers written as strings ("60") are accepted with a warning
 * (the Go loader accepted them and a ConfigMap that worked must keep working) but booleans and fractions are
 * refused (the Go loader turned `true` into 1 and truncated 1.5, which only hides mistakes).
 */

import { readFile } from 'node:fs/promises';
import { MAX_WARM_IPS } from '@hostnic/ipam';
import { ConfigParseError, ConfigReadError, ConfigValidationError, errnoCode } from './errors.ts';

export const DEFAULT_CONFIG_FILE = '/etc/hostnic/hostnic.json';
export const DEFAULT_SOCKET_PATH = '/var/run/hostnic/hostnic.socket';
export const DEFAULT_STATE_DIR = '/var/lib/hostnic';
export const DEFAULT_SPOOL_DIR = '/var/lib/hostnic/spool';
/** QingCloud attaches at most 63 NICs to an instance; the original refuses more too [compat]. */
export const MAX_NICS = 63;
/** sun_path is 108 bytes including the terminating NUL. */
export const MAX_SOCKET_PATH_BYTES = 107;

export interface PoolConfig {
  /** Max NIC records on the node, failed ones included. */
  maxNic: number;
  /** Repair loop period, seconds. */
  sync: number;
  /** Inert (v1 node sync). */
  nodeSync: number;
  /** First policy-routing table of the NICs. */
  routeTableBase: number;
  /** QingCloud tag attached to every NIC the agent creates; "" for none. */
  tag: string;
  /** Inert. */
  vxNets: string[];
  /** Inert (free-NIC condition removed in the original). */
  nodeThreshold: number;
  /** Inert. */
  vxnetThreshold: number;
  /** Idle-NIC release period, minutes. */
  freePeriod: number;
  /** Inert (v1 warm pool); kept only so the deployed file loads. */
  poolHigh: number | undefined;
  /** Inert (v1 warm pool). */
  poolLow: number | undefined;
}

export interface ServerConfig {
  /** The agent's unix socket; the plugin's `socketPath` must name the same file. */
  serverPath: string;
  /** Exactly "calico" enables the Calico pod-IP annotation patch; anything else does nothing. */
  networkPolicy: string;
}

/** Keys the original did not have (new in this implementation). */
export interface AgentSection {
  /** Bound on CreateNics + AttachNics + the attach job of one NIC, seconds. */
  attachTimeoutSec: number;
  /** Bound on waiting for an attached NIC's link to appear in the kernel, seconds. */
  linkTimeoutSec: number;
  /**
   * The warm pool: with 1, every node keeps a NIC attached on the vxnet of every enabled IPPool, made before
   * the first pod and kept while idle, so no pod start waits for CreateNics/AttachNics. 0 = off. One NIC
   * serves all pods of a vxnet, so values above 1 act as 1.
   */
  warmNicsPerVxnet: number;
  /** A NIC must be idle this long before the free tick releases it, seconds. */
  releaseCooldownSec: number;
  /**
   * Pod addresses the node's claim keeps ready (docs/ipam.md#node-claims), so that a warm ADD allocates with no
   * API call: refilled up to this many when fewer than warmIpMinimum are ready. 0 = no claim (every ADD and DEL
   * writes the IPAM objects itself).
   */
  warmIpTarget: number;
  /** Refill the claim when fewer addresses than this are ready; at most warmIpTarget. */
  warmIpMinimum: number;
  /** Give addresses back when more than this many are free in the claim; at least warmIpTarget. */
  warmIpMaximum: number;
  /** Port of the Prometheus endpoint; --metrics-port overrides it. */
  metricsPort: number;
  /** The datastore directory; --state-dir/--dbpath override it. */
  stateDir: string;
  /** Where the plugin spools releases while the agent is down; must match the plugin's `spoolDir`. */
  spoolDir: string;
  /** Poll period of IaaS jobs (the original's constant: 5 s). */
  jobPollIntervalSec: number;
  /** Bound on the first sync of the Kubernetes caches; the original waited forever. */
  cacheSyncTimeoutSec: number;
  /** Period of the spool replay. */
  spoolReplayIntervalSec: number;
  /** Pod records whose pod is gone are released after this grace, seconds. */
  orphanPodGraceSec: number;
  /** Detached NICs named after this instance without a record are deleted after this grace, seconds. */
  orphanNicGraceSec: number;
  /**
   * On SIGTERM, requests in flight may finish for this long before they are aborted (an aborted ADD rolls
   * back), seconds. The plugin's ADD timeout (200 s) by default, so that an ADD the runtime still waits for is
   * not cut short; the DaemonSet's terminationGracePeriodSeconds must exceed it by the time a rollback takes.
   */
  stopDeadlineSec: number;
  /** Kubernetes client rate; --k8s-api-qps overrides it. */
  k8sApiQps: number;
  /** Kubernetes client burst; --k8s-api-burst overrides it. */
  k8sApiBurst: number;
}

export interface AgentConfig {
  pool: PoolConfig;
  server: ServerConfig;
  agent: AgentSection;
}

export interface ConfigWarning {
  /** Dotted canonical name (`pool.maxNic`), or the key as written when it is unknown. */
  field: string;
  message: string;
}

export interface ParsedAgentConfig {
  config: AgentConfig;
  warnings: ConfigWarning[];
}

export function defaultAgentConfig(): AgentConfig {
  return {
    pool: {
      maxNic: MAX_NICS,
      sync: 20,
      nodeSync: 60,
      routeTableBase: 260,
      tag: '',
      vxNets: [],
      nodeThreshold: 32,
      vxnetThreshold: 128,
      freePeriod: 720,
      poolHigh: undefined,
      poolLow: undefined,
    },
    server: { serverPath: DEFAULT_SOCKET_PATH, networkPolicy: '' },
    agent: {
      attachTimeoutSec: 120,
      linkTimeoutSec: 60,
      warmNicsPerVxnet: 0,
      releaseCooldownSec: 60,
      warmIpTarget: 8,
      warmIpMinimum: 4,
      warmIpMaximum: 24,
      metricsPort: 9191,
      stateDir: DEFAULT_STATE_DIR,
      spoolDir: DEFAULT_SPOOL_DIR,
      jobPollIntervalSec: 5,
      cacheSyncTimeoutSec: 120,
      spoolReplayIntervalSec: 30,
      orphanPodGraceSec: 300,
      orphanNicGraceSec: 600,
      stopDeadlineSec: 200,
      k8sApiQps: 80,
      k8sApiBurst: 100,
    },
  };
}

type SectionName = keyof AgentConfig;

interface IntSpec {
  kind: 'int';
  min: number;
  max?: number;
  /** How the range is explained when violated, e.g. "an integer from 1 to 2147483 (seconds; ...)". */
  what: string;
  inert?: string;
}
interface StringSpec {
  kind: 'string';
  check?: (value: string) => string | undefined;
  inert?: string;
}
interface StringArraySpec {
  kind: 'string[]';
  inert?: string;
}
type FieldSpec = IntSpec | StringSpec | StringArraySpec;

const nonNegative = (what: string): IntSpec => ({ kind: 'int', min: 0, what: `a non-negative integer (${what})` });
const positive = (what: string): IntSpec => ({ kind: 'int', min: 1, what: `a positive integer (${what})` });

/**
 * Node runs a timer of more than 2^31-1 ms after 1 ms instead, so a long period would become a hot loop.
 * Every period, timeout and grace is bounded by that, in its own unit.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;
const UNIT_MS = { seconds: 1000, minutes: 60_000 } as const;
const duration = (min: 0 | 1, unit: keyof typeof UNIT_MS): IntSpec => {
  const max = Math.floor(MAX_TIMER_MS / UNIT_MS[unit]);
  return { kind: 'int', min, max, what: `an integer from ${min} to ${max} (${unit}; a timer cannot exceed 2^31-1 ms)` };
};
const absolutePath = (value: string): string | undefined =>
  value.startsWith('/') ? undefined : `must be an absolute path, got ${JSON.stringify(value)}`;
const INERT_V1 = 'has no effect since hostnic v1.0 (one shared NIC per vxnet); accepted for compatibility';

const SCHEMA: { [S in SectionName]: Record<string, FieldSpec> } = {
  pool: {
    maxNic: { kind: 'int', min: 1, max: MAX_NICS, what: `an integer from 1 to ${MAX_NICS} (NICs per node)` },
    sync: duration(1, 'seconds'),
    nodeSync: { ...duration(0, 'seconds'), inert: INERT_V1 },
    routeTableBase: { kind: 'int', min: 1, max: 0xffffffff - MAX_NICS, what: 'a positive integer (route table number)' },
    tag: { kind: 'string' },
    vxNets: { kind: 'string[]', inert: 'has no effect (vxnets come from the IPPools); accepted for compatibility' },
    nodeThreshold: { ...nonNegative('NICs'), inert: 'has no effect (removed from the NIC release policy); accepted for compatibility' },
    vxnetThreshold: { ...nonNegative('NICs'), inert: 'has no effect (removed from the NIC release policy); accepted for compatibility' },
    freePeriod: duration(1, 'minutes'),
    poolHigh: { ...nonNegative('NICs'), inert: INERT_V1 },
    poolLow: { ...nonNegative('NICs'), inert: INERT_V1 },
  },
  server: {
    serverPath: {
      kind: 'string',
      check: (v) =>
        absolutePath(v) ??
        (Buffer.byteLength(v) > MAX_SOCKET_PATH_BYTES
          ? `must be at most ${MAX_SOCKET_PATH_BYTES} bytes (a unix socket path), got ${Buffer.byteLength(v)}`
          : undefined),
    },
    networkPolicy: { kind: 'string' },
  },
  agent: {
    attachTimeoutSec: duration(1, 'seconds'),
    linkTimeoutSec: duration(1, 'seconds'),
    warmNicsPerVxnet: nonNegative('NICs'),
    releaseCooldownSec: duration(0, 'seconds'),
    warmIpTarget: { kind: 'int', min: 0, max: MAX_WARM_IPS, what: `an integer from 0 to ${MAX_WARM_IPS} (addresses; 0 = no claim)` },
    warmIpMinimum: { kind: 'int', min: 0, max: MAX_WARM_IPS, what: `an integer from 0 to ${MAX_WARM_IPS} (addresses)` },
    warmIpMaximum: { kind: 'int', min: 0, max: MAX_WARM_IPS, what: `an integer from 0 to ${MAX_WARM_IPS} (addresses)` },
    metricsPort: { kind: 'int', min: 1, max: 65535, what: 'a TCP port from 1 to 65535' },
    stateDir: { kind: 'string', check: absolutePath },
    spoolDir: { kind: 'string', check: absolutePath },
    jobPollIntervalSec: duration(1, 'seconds'),
    cacheSyncTimeoutSec: duration(1, 'seconds'),
    spoolReplayIntervalSec: duration(1, 'seconds'),
    orphanPodGraceSec: duration(0, 'seconds'),
    orphanNicGraceSec: duration(0, 'seconds'),
    stopDeadlineSec: duration(1, 'seconds'),
    k8sApiQps: positive('requests per second'),
    k8sApiBurst: positive('requests'),
  },
};

const SECTIONS = Object.keys(SCHEMA) as SectionName[];

function checkWarmIps(a: AgentSection, source: string): void {
  if (a.warmIpTarget === 0) return;
  if (a.warmIpMinimum > a.warmIpTarget) {
    throw new ConfigValidationError(source, 'agent.warmIpMinimum',
      `agent.warmIpMinimum ${a.warmIpMinimum} exceeds agent.warmIpTarget ${a.warmIpTarget}: lower it to at most the target (default 4 with target 8)`);
  }
  if (a.warmIpMaximum < a.warmIpTarget) {
    throw new ConfigValidationError(source, 'agent.warmIpMaximum',
      `agent.warmIpMaximum ${a.warmIpMaximum} is below agent.warmIpTarget ${a.warmIpTarget}: raise it to at least the target (default 24 with target 8)`);
  }
}

/** Reserved kernel tables (default, main, local) that a NIC's table must never take. */
const RESERVED_TABLES = [253, 254, 255];

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : Array.isArray(v) ? 'an array' : JSON.stringify(v) ?? String(v);
}

/** 1-based line and column of a 0-based character offset. */
export function lineAndColumn(text: string, position: number): { line: number; column: number } {
  const before = text.slice(0, position);
  const lines = before.split('\n');
  return { line: lines.length, column: (lines[lines.length - 1] ?? '').length + 1 };
}

/** JSON.parse with an error that names the file and where it went wrong. */
export function parseJsonText(text: string, source: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return JSON.parse(body);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    // V8 reports "... at position N"; "Unexpected end of JSON input" has none: the end is the position.
    const m = /at position (\d+)/.exec(detail);
    const position = m?.[1] !== undefined ? Number(m[1]) : body.length;
    const { line, column } = lineAndColumn(body, position);
    throw new ConfigParseError(source, position, line, column, detail.replace(/\s*\(line \d+ column \d+\)/, ''));
  }
}

/**
 * Matches the keys of `obj` against `known` case-insensitively. Two spellings of one key are refused: which
 * one the Go loader kept depended on map order.
 */
function matchKeys(
  obj: Record<string, unknown>,
  known: readonly string[],
  prefix: string,
  source: string,
  warnings: ConfigWarning[],
): { matched: Map<string, { written: string; value: unknown }>; unknown: string[] } {
  const byLower = new Map(known.map((k) => [k.toLowerCase(), k]));
  const matched = new Map<string, { written: string; value: unknown }>();
  const unknown: string[] = [];
  for (const [written, value] of Object.entries(obj)) {
    const canonical = byLower.get(written.toLowerCase());
    if (canonical === undefined) {
      unknown.push(written);
      continue;
    }
    const field = prefix + canonical;
    const earlier = matched.get(canonical);
    if (earlier !== undefined) {
      throw new ConfigValidationError(
        source,
        field,
        `${field} is given twice (as "${earlier.written}" and "${written}"); keep one`,
      );
    }
    if (written !== canonical) {
      warnings.push({
        field,
        message: `"${prefix}${written}" was matched to ${field} case-insensitively; write it as "${canonical}"`,
      });
    }
    matched.set(canonical, { written, value });
  }
  return { matched, unknown };
}

function parseIntField(field: string, spec: IntSpec, value: unknown, source: string, warnings: ConfigWarning[]): number {
  let n: number;
  if (typeof value === 'number') {
    n = value;
  } else if (typeof value === 'string' && /^\s*[-+]?\d+\s*$/.test(value)) {
    n = Number(value.trim());
    warnings.push({
      field,
      message: `${field} is a string (${JSON.stringify(value)}); accepted as ${n}, write it as a JSON number`,
    });
  } else {
    throw new ConfigValidationError(source, field, `${field} must be ${spec.what}, got ${describe(value)}`);
  }
  if (!Number.isSafeInteger(n) || n < spec.min || (spec.max !== undefined && n > spec.max)) {
    throw new ConfigValidationError(source, field, `${field} must be ${spec.what}, got ${describe(value)}`);
  }
  return n;
}

function parseField(
  field: string,
  spec: FieldSpec,
  value: unknown,
  source: string,
  warnings: ConfigWarning[],
): number | string | string[] {
  switch (spec.kind) {
    case 'int':
      return parseIntField(field, spec, value, source, warnings);
    case 'string': {
      if (typeof value !== 'string') {
        throw new ConfigValidationError(source, field, `${field} must be a string, got ${describe(value)}`);
      }
      const problem = spec.check?.(value);
      if (problem !== undefined) throw new ConfigValidationError(source, field, `${field} ${problem}`);
      return value;
    }
    case 'string[]': {
      if (!Array.isArray(value) || !value.every((e) => typeof e === 'string')) {
        throw new ConfigValidationError(source, field, `${field} must be an array of strings, got ${describe(value)}`);
      }
      return value as string[];
    }
  }
}

/**
 * Parses and validates hostnic.json. `input` is the file's text or an already decoded value; `source` names
 * it in errors. Throws ConfigParseError or ConfigValidationError; warnings are returned, never thrown.
 */
export function parseAgentConfig(input: string | unknown, source: string): ParsedAgentConfig {
  const doc = typeof input === 'string' ? parseJsonText(input, source) : input;
  if (!isPlainObject(doc)) {
    throw new ConfigValidationError(source, '', `the top level must be a JSON object, got ${describe(doc)}`);
  }
  const warnings: ConfigWarning[] = [];
  const config = defaultAgentConfig();
  const top = matchKeys(doc, SECTIONS, '', source, warnings);
  for (const key of top.unknown) {
    warnings.push({ field: key, message: `unknown section "${key}" ignored (known: ${SECTIONS.join(', ')})` });
  }
  for (const [sectionName, { value: sectionValue }] of top.matched) {
    const name = sectionName as SectionName;
    // A null section decodes to "nothing set" in Go as well.
    if (sectionValue === null) continue;
    if (!isPlainObject(sectionValue)) {
      throw new ConfigValidationError(source, name, `${name} must be a JSON object, got ${describe(sectionValue)}`);
    }
    const specs = SCHEMA[name];
    const section = config[name] as unknown as Record<string, unknown>;
    const fields = matchKeys(sectionValue, Object.keys(specs), `${name}.`, source, warnings);
    for (const key of fields.unknown) {
      warnings.push({
        field: `${name}.${key}`,
        message: `unknown key "${name}.${key}" ignored (known: ${Object.keys(specs).join(', ')})`,
      });
    }
    for (const [key, { value }] of fields.matched) {
      const field = `${name}.${key}`;
      const spec = specs[key];
      if (spec === undefined) continue;
      if (value === null) {
        warnings.push({ field, message: `${field} is null; the default is kept` });
        continue;
      }
      section[key] = parseField(field, spec, value, source, warnings);
      if (spec.inert !== undefined) warnings.push({ field, message: `${field} ${spec.inert}` });
    }
  }
  checkAcrossFields(config, source, warnings);
  return { config, warnings };
}

function checkAcrossFields(config: AgentConfig, source: string, warnings: ConfigWarning[]): void {
  checkWarmIps(config.agent, source);
  const { routeTableBase, maxNic } = config.pool;
  const last = routeTableBase + maxNic - 1;
  const clash = RESERVED_TABLES.find((t) => t >= routeTableBase && t <= last);
  if (clash !== undefined) {
    throw new ConfigValidationError(
      source,
      'pool.routeTableBase',
      `pool.routeTableBase ${routeTableBase} with pool.maxNic ${maxNic} would use tables ${routeTableBase}..${last}, ` +
        `which include the kernel's reserved table ${clash} (253 default, 254 main, 255 local); use 256 or more (default 260)`,
    );
  }
  const policy = config.server.networkPolicy;
  if (policy !== '' && policy !== 'calico') {
    warnings.push({
      field: 'server.networkPolicy',
      message: `server.networkPolicy ${JSON.stringify(policy)} has no effect: only "calico" (exactly) enables the Calico pod annotations`,
    });
  }
  if (config.server.serverPath !== DEFAULT_SOCKET_PATH) {
    warnings.push({
      field: 'server.serverPath',
      message: `server.serverPath is not the default ${DEFAULT_SOCKET_PATH}: set the CNI config's "socketPath" to ${config.server.serverPath} too`,
    });
  }
  if (config.agent.spoolDir !== DEFAULT_SPOOL_DIR) {
    warnings.push({
      field: 'agent.spoolDir',
      message: `agent.spoolDir is not the default ${DEFAULT_SPOOL_DIR}: set the CNI config's "spoolDir" to ${config.agent.spoolDir} too`,
    });
  }
  if (config.agent.warmNicsPerVxnet > 1) {
    warnings.push({
      field: 'agent.warmNicsPerVxnet',
      message: `agent.warmNicsPerVxnet is ${config.agent.warmNicsPerVxnet}: one NIC serves every pod of a vxnet, so it acts as 1 (a NIC kept per vxnet)`,
    });
  }
}

export interface LoadedAgentConfig extends ParsedAgentConfig {
  file: string;
  /** False when the file was absent and the defaults apply. */
  fromFile: boolean;
}

/**
 * Reads hostnic.json. An absent file means all defaults, as in the original, unless `required` (the path was
 * given explicitly: a typo there must not silently fall back to defaults).
 */
export async function loadAgentConfig(file: string, options: { required?: boolean } = {}): Promise<LoadedAgentConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' && options.required !== true) {
      return { config: defaultAgentConfig(), warnings: [], file, fromFile: false };
    }
    const why =
      code === 'ENOENT'
        ? 'does not exist (it was given explicitly; drop the flag to use the defaults)'
        : `cannot be read (${code ?? String(err)})`;
    throw new ConfigReadError(file, why, err);
  }
  return { ...parseAgentConfig(text, file), file, fromFile: true };
}
