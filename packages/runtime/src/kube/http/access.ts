/**
 * Finding and reading the daemons' Kubernetes access the way kubectl and client-go do, without client-node:
 * `--kubeconfig`, else `KUBECONFIG`, else `~/.kube/config` (with `homeConfig`), else the in-cluster service
 * account. File references are read here, once; the token file is read again whenever it changes.
 */

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { KubeConfigNotFoundError } from '../kubeconfig-errors.ts';
import { KubeConfigError } from './errors.ts';
import { accessFromKubeConfig, inClusterAccess, SERVICE_ACCOUNT_DIR } from './kubeconfig.ts';
import type { KubeAccessSpec, PemSource } from './kubeconfig.ts';
import { FileTokenSource, fixedToken } from './token.ts';
import type { TokenSource } from './token.ts';

/** A {@link KubeAccessSpec} with its files read: what the client needs to connect. */
export interface KubeAccess {
  readonly server: string;
  readonly ca?: Buffer | undefined;
  readonly insecureSkipTlsVerify: boolean;
  readonly tlsServerName?: string | undefined;
  readonly clientCert?: Buffer | undefined;
  readonly clientKey?: Buffer | undefined;
  readonly token: TokenSource;
}

async function readPem(source: PemSource | undefined, field: string): Promise<Buffer | undefined> {
  if (source === undefined) return undefined;
  if ('data' in source) return source.data;
  try {
    return await readFile(source.file);
  } catch (e) {
    throw new KubeConfigError(field, `cannot read ${source.file}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Reads the files a spec names (the token file is read on first use). */
export async function resolveAccess(spec: KubeAccessSpec): Promise<KubeAccess> {
  if ((spec.clientCert === undefined) !== (spec.clientKey === undefined)) {
    throw new KubeConfigError('client-certificate/client-key', 'give both or neither');
  }
  const [ca, clientCert, clientKey] = await Promise.all([
    readPem(spec.ca, 'certificate-authority'),
    readPem(spec.clientCert, 'client-certificate'),
    readPem(spec.clientKey, 'client-key'),
  ]);
  const token = spec.token !== undefined ? fixedToken(spec.token) : spec.tokenFile !== undefined ? new FileTokenSource(spec.tokenFile) : fixedToken(undefined);
  return { server: spec.server, ca, insecureSkipTlsVerify: spec.insecureSkipTlsVerify, tlsServerName: spec.tlsServerName, clientCert, clientKey, token };
}

/** Parses a kubeconfig's text: JSON directly, YAML through the `yaml` package, loaded only then. */
export async function parseKubeConfigText(text: string, file: string): Promise<unknown> {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) {
    try {
      return JSON.parse(trimmed);
    } catch {
      // YAML is a superset of JSON-ish flow mappings; let the YAML parser say what is wrong.
    }
  }
  const { parse } = await import('yaml');
  try {
    return parse(text);
  } catch (e) {
    throw new KubeConfigError('(document)', `${file} does not parse: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Reads a kubeconfig file into an access spec. */
export async function kubeConfigFileAccess(file: string, context?: string): Promise<KubeAccessSpec> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new KubeConfigError('(file)', `cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return accessFromKubeConfig(await parseKubeConfigText(text, file), dirname(file), context);
}

/**
 * The access a kubeconfig's text grants (tests and tools that hold the text, not a file).
 * @param baseDir - against which relative file references resolve (default: the working directory)
 */
export async function kubeAccessFromText(text: string, options: { baseDir?: string; context?: string } = {}): Promise<KubeAccess> {
  return resolveAccess(accessFromKubeConfig(await parseKubeConfigText(text, '(kubeconfig text)'), options.baseDir ?? process.cwd(), options.context));
}

export interface LoadKubeAccessOptions {
  /** Also try `~/.kube/config` before the in-cluster account (the operator commands do; the daemons do not). */
  readonly homeConfig?: boolean;
  /** A context other than the file's current-context. */
  readonly context?: string;
  /** Where the service account is mounted (tests). */
  readonly serviceAccountDir?: string;
}

export interface LoadedKubeAccess {
  readonly access: KubeAccess;
  /** The file it came from, or `in-cluster`, for the start-up log. */
  readonly source: string;
}

/**
 * The access of the first place that has one, in kubectl's order.
 * @throws {@link KubeConfigNotFoundError} when none is found, {@link KubeConfigError} when one is unusable
 */
export async function loadKubeAccess(
  file: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  options: LoadKubeAccessOptions = {},
): Promise<LoadedKubeAccess> {
  const fromEnv = env['KUBECONFIG'];
  // KUBECONFIG may list several files; like client-node we take the first (merging is not needed here).
  const envFile = fromEnv === undefined || fromEnv === '' ? undefined : fromEnv.split(':').find((f) => f !== '');
  const chosen = file !== undefined && file !== '' ? file : envFile;
  if (chosen !== undefined) return { access: await resolveAccess(await kubeConfigFileAccess(chosen, options.context)), source: chosen };
  const home = join(homedir(), '.kube', 'config');
  if (options.homeConfig === true && existsSync(home)) {
    return { access: await resolveAccess(await kubeConfigFileAccess(home, options.context)), source: home };
  }
  if ((env['KUBERNETES_SERVICE_HOST'] ?? '') === '') throw new KubeConfigNotFoundError();
  return { access: await resolveAccess(inClusterAccess(env, options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR)), source: 'in-cluster' };
}
