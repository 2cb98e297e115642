/**
 * What a kubeconfig says about reaching the cluster, read without client-node: the current context's (or a
 * named context's) cluster and user. Pure: file references stay paths (resolved against the kubeconfig's
 * directory, as kubectl does) and are read by ./access.ts.
 */

import { isAbsolute, resolve } from 'node:path';
import { KubeConfigError } from './errors.ts';

/** Bytes given inline (base64 `*-data` fields) or as a file to read. */
export type PemSource = { readonly data: Buffer } | { readonly file: string };

/** How to reach and authenticate to one apiserver. */
export interface KubeAccessSpec {
  /** `https://host:port` (or http, for a plain test server). */
  readonly server: string;
  readonly ca?: PemSource | undefined;
  readonly insecureSkipTlsVerify: boolean;
  /** SNI and certificate name to expect instead of the server's host. */
  readonly tlsServerName?: string | undefined;
  readonly clientCert?: PemSource | undefined;
  readonly clientKey?: PemSource | undefined;
  readonly token?: string | undefined;
  /** Re-read when it changes (projected service account tokens rotate). */
  readonly tokenFile?: string | undefined;
}

type Fields = Readonly<Record<string, unknown>>;

function isFields(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(fields: Fields, key: string, where: string): string | undefined {
  const value = fields[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new KubeConfigError(`${where}.${key}`, `must be a string, got ${typeof value}`);
  return value;
}

/** The entry named `name` of a `clusters`/`users`/`contexts` list, unwrapped from its `{name, <kind>}` shape. */
function namedEntry(doc: Fields, list: 'clusters' | 'users' | 'contexts', name: string): Fields {
  const entries = doc[list];
  if (!Array.isArray(entries)) throw new KubeConfigError(list, `is missing; the kubeconfig names ${list.slice(0, -1)} "${name}" but lists none`);
  const inner = list.slice(0, -1);
  for (const entry of entries) {
    if (isFields(entry) && entry['name'] === name) {
      const body = entry[inner];
      if (!isFields(body)) throw new KubeConfigError(`${list}[${name}].${inner}`, 'is missing or not a mapping');
      return body;
    }
  }
  throw new KubeConfigError(list, `has no entry named "${name}"; fix the context or add the ${inner}`);
}

function pem(fields: Fields, dataKey: string, fileKey: string, where: string, baseDir: string): PemSource | undefined {
  const data = optionalString(fields, dataKey, where);
  if (data !== undefined) return { data: Buffer.from(data, 'base64') };
  const file = optionalString(fields, fileKey, where);
  return file === undefined ? undefined : { file: isAbsolute(file) ? file : resolve(baseDir, file) };
}

/**
 * The access a parsed kubeconfig grants.
 * @param doc - the parsed kubeconfig (YAML or JSON)
 * @param baseDir - the kubeconfig's directory, for relative file references
 * @param context - a context other than `current-context`
 * @throws {@link KubeConfigError} naming the field that is missing or unsupported
 */
export function accessFromKubeConfig(doc: unknown, baseDir: string, context?: string): KubeAccessSpec {
  if (!isFields(doc)) throw new KubeConfigError('(document)', 'is not a mapping; is this a kubeconfig file?');
  const contextName = context ?? optionalString(doc, 'current-context', '');
  if (contextName === undefined) throw new KubeConfigError('current-context', 'is not set; set it (kubectl config use-context) or name a context');
  const ctx = namedEntry(doc, 'contexts', contextName);
  const clusterName = optionalString(ctx, 'cluster', `contexts[${contextName}]`);
  if (clusterName === undefined) throw new KubeConfigError(`contexts[${contextName}].cluster`, 'is not set');
  const cluster = namedEntry(doc, 'clusters', clusterName);
  const where = `clusters[${clusterName}]`;
  const server = optionalString(cluster, 'server', where);
  if (server === undefined) throw new KubeConfigError(`${where}.server`, 'is not set; give the apiserver URL, e.g. https://10.0.0.1:6443');
  if (!/^https?:\/\//.test(server)) throw new KubeConfigError(`${where}.server`, `must be an http(s) URL, got "${server}"`);
  const insecure = cluster['insecure-skip-tls-verify'];
  if (insecure !== undefined && typeof insecure !== 'boolean') throw new KubeConfigError(`${where}.insecure-skip-tls-verify`, 'must be true or false');
  const userName = optionalString(ctx, 'user', `contexts[${contextName}]`);
  const user = userName === undefined ? {} : namedEntry(doc, 'users', userName);
  const userWhere = `users[${userName ?? ''}]`;
  for (const unsupported of ['exec', 'auth-provider', 'username']) {
    if (user[unsupported] !== undefined) {
      throw new KubeConfigError(`${userWhere}.${unsupported}`, 'is not supported by the hostnic daemons; use a token, a token file or a client certificate');
    }
  }
  const tokenFile = optionalString(user, 'tokenFile', userWhere);
  return {
    server: server.replace(/\/+$/, ''),
    ca: pem(cluster, 'certificate-authority-data', 'certificate-authority', where, baseDir),
    insecureSkipTlsVerify: insecure === true,
    tlsServerName: optionalString(cluster, 'tls-server-name', where),
    clientCert: pem(user, 'client-certificate-data', 'client-certificate', userWhere, baseDir),
    clientKey: pem(user, 'client-key-data', 'client-key', userWhere, baseDir),
    token: optionalString(user, 'token', userWhere),
    tokenFile: tokenFile === undefined ? undefined : isAbsolute(tokenFile) ? tokenFile : resolve(baseDir, tokenFile),
  };
}

/** Where a pod's service account is mounted. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * The in-cluster access: `KUBERNETES_SERVICE_HOST`/`_PORT` and the mounted service account.
 * @throws {@link KubeConfigError} when the host is unset
 */
export function inClusterAccess(env: Readonly<Record<string, string | undefined>>, accountDir = SERVICE_ACCOUNT_DIR): KubeAccessSpec {
  const host = env['KUBERNETES_SERVICE_HOST'] ?? '';
  const port = env['KUBERNETES_SERVICE_PORT'] ?? '443';
  if (host === '') throw new KubeConfigError('KUBERNETES_SERVICE_HOST', 'is not set: not running in a pod; pass a kubeconfig');
  if (!/^\d+$/.test(port)) throw new KubeConfigError('KUBERNETES_SERVICE_PORT', `must be a port number, got "${port}"`);
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return {
    server: `https://${hostPart}:${port}`,
    ca: { file: `${accountDir}/ca.crt` },
    insecureSkipTlsVerify: false,
    tokenFile: `${accountDir}/token`,
  };
}
