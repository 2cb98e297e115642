import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A CA and a serving certificate it signed, all PEM. */
export interface ServingCredentials {
  /** The CA certificate clients trust (kubeconfig `certificate-authority-data`). */
  readonly ca: string;
  /** The serving certificate for the listener. */
  readonly cert: string;
  /** The serving certificate's private key. */
  readonly key: string;
}

/** Raised when the openssl CLI is missing or refuses a step; `step` names the command that failed. */
export class CertificateError extends Error {
  readonly step: string;

  constructor(step: string, cause: unknown) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    const hint = /ENOENT/.test(detail) ? ' (the openssl CLI is missing: apt-get install openssl, or run scripts/install-system-deps.sh)' : '';
    super(`generating the fake kube-apiserver's certificates failed at "${step}"${hint}: ${detail}`, { cause });
    this.name = 'CertificateError';
    this.step = step;
  }
}

/** The subjectAltName list for the loopback names a client may dial, plus `host` when it is another one. */
export function subjectAltNames(host: string): string {
  const names = new Set(['IP:127.0.0.1', 'IP:::1', 'DNS:localhost']);
  if (host !== '' && host !== '0.0.0.0' && host !== '::') names.add(isIP(host) === 0 ? `DNS:${host}` : `IP:${host}`);
  return [...names].join(',');
}

async function openssl(dir: string, step: string, args: readonly string[]): Promise<void> {
  try {
    await run('openssl', args, { cwd: dir });
  } catch (error) {
    throw new CertificateError(step, error);
  }
}

const P256 = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

async function inTempDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'hostnic-kube-tls-'));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** ca.crt and ca.key in `dir`: a P-256 CA valid ten years. */
function selfSignedCa(dir: string, step: string, name: string): Promise<void> {
  return openssl(dir, step, [
    'req', '-x509', ...P256, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '3650', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
}

/** `<name>.crt` in `dir`: `<name>.csr` signed by ca.crt/ca.key for a year, with the extensions of `<name>.ext`. */
function signWithCa(dir: string, step: string, name: string): Promise<void> {
  return openssl(dir, step, [
    'x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', `0x${Date.now().toString(16)}`,
    '-days', '365', '-extfile', `${name}.ext`, '-out', `${name}.crt`,
  ]);
}

/**
 * A fresh CA (valid ten years) and a serving certificate for loopback and `host` (one year), made with the
 * openssl CLI in a private temporary directory that is removed afterwards. P-256 keys: generated in a few
 * milliseconds, accepted by Go's TLS (kubectl) and Node's.
 */
export function generateServingCredentials(host = '127.0.0.1'): Promise<ServingCredentials> {
  return inTempDir(async (dir) => {
    await selfSignedCa(dir, 'CA certificate', 'hostnic-sandbox-ca');
    await openssl(dir, 'serving key', ['req', ...P256, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=kube-apiserver']);
    await writeFile(join(dir, 'server.ext'), [
      `subjectAltName=${subjectAltNames(host)}`,
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      '',
    ].join('\n'));
    await signWithCa(dir, 'serving certificate', 'server');
    const read = (name: string): Promise<string> => readFile(join(dir, name), 'utf8');
    const [ca, cert, key] = await Promise.all([read('ca.crt'), read('server.crt'), read('server.key')]);
    return { ca, cert, key };
  });
}

/** A CA that signs client certificates, and what it signed, all PEM. */
export interface KeyPair {
  readonly cert: string;
  readonly key: string;
}

/** A CA for client certificates (kube-apiserver's `--client-ca-file`). */
export function generateClientCa(): Promise<KeyPair> {
  return inTempDir(async (dir) => {
    await selfSignedCa(dir, 'client CA certificate', 'hostnic-sandbox-client-ca');
    return { cert: await readFile(join(dir, 'ca.crt'), 'utf8'), key: await readFile(join(dir, 'ca.key'), 'utf8') };
  });
}

/**
 * A client certificate the apiserver maps to a user as Kubernetes does: the user is the subject's CN, the
 * groups its O entries.
 */
export function issueClientCertificate(ca: KeyPair, user: string, groups: readonly string[] = []): Promise<KeyPair> {
  const subject = `${groups.map((g) => `/O=${g.replace(/[/\\]/g, '\\$&')}`).join('')}/CN=${user.replace(/[/\\]/g, '\\$&')}`;
  return inTempDir(async (dir) => {
    await writeFile(join(dir, 'ca.crt'), ca.cert);
    await writeFile(join(dir, 'ca.key'), ca.key, { mode: 0o600 });
    await openssl(dir, 'client key', ['req', ...P256, '-keyout', 'client.key', '-out', 'client.csr', '-subj', subject]);
    await writeFile(join(dir, 'client.ext'), 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n');
    await signWithCa(dir, 'client certificate', 'client');
    return { cert: await readFile(join(dir, 'client.crt'), 'utf8'), key: await readFile(join(dir, 'client.key'), 'utf8') };
  });
}

const shared = new Map<string, Promise<ServingCredentials>>();

/** Credentials for `host`, generated once per process; a failed generation is not kept, so a retry runs openssl again. */
export function servingCredentials(host: string): Promise<ServingCredentials> {
  let pending = shared.get(host);
  if (!pending) {
    pending = generateServingCredentials(host);
    shared.set(host, pending);
    pending.catch(() => shared.delete(host));
  }
  return pending;
}
