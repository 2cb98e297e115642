import { readFile } from 'node:fs/promises';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { Credentials } from './credentials.ts';
import { IaasConfigError } from './errors.ts';

/** QingCloud SDK configuration (config.yaml), as the Go SDK reads it, plus the credentials. */
export interface IaasConfig {
  credentials: Credentials;
  /** Empty string: the `zone` parameter is not sent. */
  zone: string;
  host: string;
  port: number;
  protocol: 'http' | 'https';
  /** Path of the API, runs of `/` collapsed; part of the string to sign. */
  uri: string;
  /** Extra attempts after a failed one (so connection_retries + 1 attempts in total). */
  connectionRetries: number;
  /** TCP connect timeout, in seconds. */
  connectionTimeoutSec: number;
  /** Keys present in the file that the SDK does not know; the caller may log them as warnings. */
  unknownKeys: string[];
}

export const CONFIG_DEFAULTS = {
  zone: '',
  host: 'api.qingcloud.com',
  port: 443,
  protocol: 'https',
  uri: '/iaas',
  connectionRetries: 3,
  connectionTimeoutSec: 30,
} as const;

/** Keys the SDK reads but this client ignores on purpose (logging and the IAM credential proxy). */
const TOLERATED_KEYS = new Set([
  'log_level',
  'credential_proxy_protocol',
  'credential_proxy_host',
  'credential_proxy_port',
  'credential_proxy_uri',
]);
const KNOWN_KEYS = new Set([
  'qy_access_key_id',
  'qy_secret_access_key',
  'zone',
  'host',
  'port',
  'protocol',
  'uri',
  'connection_retries',
  'connection_timeout',
  ...TOLERATED_KEYS,
]);

export function collapseUri(uri: string): string {
  const collapsed = uri.replace(/\/{2,}/g, '/');
  return collapsed.startsWith('/') ? collapsed : `/${collapsed}`;
}

type Raw = Record<string, unknown>;

function stringField(file: string, raw: Raw, key: string, fallback?: string): string {
  const value = raw[key];
  if (value === undefined || value === null) {
    if (fallback !== undefined) return fallback;
    throw new IaasConfigError(file, `is missing; set it to your QingCloud ${describe(key)}`, key);
  }
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string') throw new IaasConfigError(file, `must be a string, got ${typeof value}`, key);
  return value.trim();
}

function describe(key: string): string {
  return key === 'qy_access_key_id'
    ? 'access key id (console: API keys)'
    : key === 'qy_secret_access_key'
      ? 'secret access key (console: API keys)'
      : key;
}

function intField(file: string, raw: Raw, key: string, fallback: number, min: number, max: number): number {
  const value = raw[key];
  if (value === undefined || value === null) return fallback;
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new IaasConfigError(file, `must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`, key);
  }
  return n;
}

/**
 * Validates a parsed config document. `file` names the source in error messages. Defaults follow the Go
 * SDK (api.qingcloud.com:443 over https, /iaas, 3 retries, 30 s connect timeout).
 */
export function parseConfig(doc: unknown, file = 'config.yaml'): IaasConfig {
  if (doc === null || doc === undefined) {
    throw new IaasConfigError(file, 'is empty; it needs at least qy_access_key_id, qy_secret_access_key and zone');
  }
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new IaasConfigError(file, 'must be a YAML mapping of keys to values');
  }
  const raw = doc as Raw;
  const accessKeyId = stringField(file, raw, 'qy_access_key_id');
  const secret = stringField(file, raw, 'qy_secret_access_key');
  if (accessKeyId === '') throw new IaasConfigError(file, 'is empty; set it to your access key id', 'qy_access_key_id');
  if (secret === '') {
    throw new IaasConfigError(file, 'is empty; set it to your secret access key', 'qy_secret_access_key');
  }
  const zone = stringField(file, raw, 'zone', CONFIG_DEFAULTS.zone).toLowerCase();
  const host = stringField(file, raw, 'host', CONFIG_DEFAULTS.host);
  if (host === '' || /[\s/]/.test(host)) {
    throw new IaasConfigError(file, `must be a host name without scheme or path, got ${JSON.stringify(host)}`, 'host');
  }
  const protocol = stringField(file, raw, 'protocol', CONFIG_DEFAULTS.protocol).toLowerCase();
  if (protocol !== 'http' && protocol !== 'https') {
    throw new IaasConfigError(file, `must be "http" or "https", got ${JSON.stringify(protocol)}`, 'protocol');
  }
  return {
    credentials: new Credentials(accessKeyId, secret),
    zone,
    host,
    port: intField(file, raw, 'port', CONFIG_DEFAULTS.port, 1, 65535),
    protocol,
    uri: collapseUri(stringField(file, raw, 'uri', CONFIG_DEFAULTS.uri)),
    connectionRetries: intField(file, raw, 'connection_retries', CONFIG_DEFAULTS.connectionRetries, 0, 20),
    connectionTimeoutSec: intField(file, raw, 'connection_timeout', CONFIG_DEFAULTS.connectionTimeoutSec, 1, 3600),
    unknownKeys: Object.keys(raw).filter((k) => !KNOWN_KEYS.has(k)),
  };
}

export function parseConfigText(text: string, file = 'config.yaml'): IaasConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` at line ${err.linePos[0].line}` : '';
    throw new IaasConfigError(file, `is not valid YAML${where}: ${(err as Error).message.split('\n')[0]}`);
  }
  return parseConfig(doc, file);
}

/** Reads and validates a QingCloud config.yaml, e.g. /root/.qingcloud/config.yaml mounted from Secret qcsecret. */
export async function loadConfig(file: string): Promise<IaasConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const hint =
      code === 'ENOENT'
        ? 'does not exist; create it from Secret kube-system/qcsecret (key config.yaml) or pass another path'
        : `cannot be read (${code ?? (err as Error).message})`;
    throw new IaasConfigError(file, hint);
  }
  return parseConfigText(text, file);
}

export function endpointUrl(config: Pick<IaasConfig, 'protocol' | 'host' | 'port'>): string {
  const host = config.host.includes(':') && !config.host.startsWith('[') ? `[${config.host}]` : config.host;
  return `${config.protocol}://${host}:${config.port}`;
}
