import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  FileTokenSource,
  KubeApiError,
  KubeConfigError,
  KubeConfigNotFoundError,
  LineSplitter,
  accessFromKubeConfig,
  httpStatusOf,
  inClusterAccess,
  loadKubeAccess,
  parseWatchLine,
  resourcePath,
  withQuery,
} from '../src/kube/http/index.ts';

function kubeconfig(cluster: Record<string, unknown>, user: Record<string, unknown>): unknown {
  return {
    'current-context': 'c',
    contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }, { name: 'other', context: { cluster: 'k' } }],
    clusters: [{ name: 'k', cluster }],
    users: [{ name: 'u', user }],
  };
}

describe('accessFromKubeConfig', () => {
  it('reads the current context: inline data, relative files, token file, insecure', () => {
    const spec = accessFromKubeConfig(
      kubeconfig(
        { server: 'https://10.0.0.1:6443/', 'certificate-authority-data': Buffer.from('CA').toString('base64'), 'tls-server-name': 'kube' },
        { 'client-certificate': 'pki/c.crt', 'client-key': '/abs/c.key', tokenFile: 'tok' },
      ),
      '/etc/kube',
    );
    expect(spec.server).toBe('https://10.0.0.1:6443');
    expect(spec.ca).toEqual({ data: Buffer.from('CA') });
    expect(spec.tlsServerName).toBe('kube');
    expect(spec.clientCert).toEqual({ file: '/etc/kube/pki/c.crt' });
    expect(spec.clientKey).toEqual({ file: '/abs/c.key' });
    expect(spec.tokenFile).toBe('/etc/kube/tok');
    expect(spec.insecureSkipTlsVerify).toBe(false);
    const other = accessFromKubeConfig(kubeconfig({ server: 'http://x', 'insecure-skip-tls-verify': true }, {}), '/', 'other');
    expect(other).toMatchObject({ server: 'http://x', insecureSkipTlsVerify: true, token: undefined });
  });

  it('names the field that is wrong', () => {
    const bad = (cluster: Record<string, unknown>, user: Record<string, unknown> = {}): KubeConfigError => {
      try {
        accessFromKubeConfig(kubeconfig(cluster, user), '/');
      } catch (e) {
        if (e instanceof KubeConfigError) return e;
        throw e;
      }
      throw new Error('accepted');
    };
    expect(bad({}).field).toBe('clusters[k].server');
    expect(bad({ server: 'ftp://x' }).field).toBe('clusters[k].server');
    expect(bad({ server: 'https://x', 'insecure-skip-tls-verify': 'yes' }).field).toBe('clusters[k].insecure-skip-tls-verify');
    expect(bad({ server: 'https://x' }, { exec: { command: 'aws' } }).field).toBe('users[u].exec');
    expect(() => accessFromKubeConfig({ contexts: [] }, '/')).toThrow(/current-context/);
    expect(() => accessFromKubeConfig(kubeconfig({ server: 'https://x' }, {}), '/', 'nope')).toThrow(/no entry named "nope"/);
  });

  it('in-cluster: the service host and port, the mounted CA and token', () => {
    expect(inClusterAccess({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, '/sa')).toEqual({
      server: 'https://[fd00::1]:443', ca: { file: '/sa/ca.crt' }, insecureSkipTlsVerify: false, tokenFile: '/sa/token',
    });
    expect(() => inClusterAccess({ KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: 'https' })).toThrow(/KUBERNETES_SERVICE_PORT/);
  });
});

describe('loadKubeAccess', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hostnic-kube-access-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a YAML kubeconfig named by KUBECONFIG and the files it references', async () => {
    await writeFile(join(dir, 'ca.crt'), 'CA PEM');
    await writeFile(join(dir, 'config'), [
      'apiVersion: v1',
      'current-context: c',
      'contexts: [{name: c, context: {cluster: k, user: u}}]',
      'clusters: [{name: k, cluster: {server: "https://127.0.0.1:6443", certificate-authority: ca.crt}}]',
      'users: [{name: u, user: {token: abc}}]',
    ].join('\n'));
    const loaded = await loadKubeAccess(undefined, { KUBECONFIG: `${join(dir, 'config')}:/elsewhere` });
    expect(loaded.source).toBe(join(dir, 'config'));
    expect(loaded.access.ca?.toString()).toBe('CA PEM');
    expect(await loaded.access.token.token()).toBe('abc');
  });

  it('in-cluster reads the account; without anything it says what to pass', async () => {
    await writeFile(join(dir, 'ca.crt'), 'CA');
    await writeFile(join(dir, 'token'), 'sa-token\n');
    const loaded = await loadKubeAccess(undefined, { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, { serviceAccountDir: dir });
    expect(loaded.source).toBe('in-cluster');
    expect(loaded.access.server).toBe('https://10.96.0.1:443');
    expect(await loaded.access.token.token()).toBe('sa-token');
    await expect(loadKubeAccess(undefined, {})).rejects.toBeInstanceOf(KubeConfigNotFoundError);
    await expect(loadKubeAccess(join(dir, 'missing'), {})).rejects.toThrow(/cannot read/);
  });

  it('re-reads a token file that changed, and after a 401', async () => {
    const file = join(dir, 'token');
    await writeFile(file, 'one');
    let now = 0;
    const source = new FileTokenSource(file, () => now);
    expect(await source.token()).toBe('one');
    await writeFile(file, 'second');
    expect(await source.token()).toBe('one'); // within the recheck interval: no stat
    now = 5000;
    expect(await source.token()).toBe('second');
    expect(source.reads).toBe(2);
    now = 10_000;
    expect(await source.token()).toBe('second');
    expect(source.reads).toBe(2);
    source.invalidate();
    expect(await source.token()).toBe('second');
    expect(source.reads).toBe(3);
  });
});

describe('paths and watch lines', () => {
  it('builds resource paths and queries', () => {
    expect(resourcePath({ version: 'v1', plural: 'pods', namespace: 'a b', name: 'p', subresource: 'status' })).toBe('/api/v1/namespaces/a%20b/pods/p/status');
    expect(resourcePath({ group: 'network.qingcloud.com', version: 'v1alpha1', plural: 'ippools' })).toBe('/apis/network.qingcloud.com/v1alpha1/ippools');
    expect(() => resourcePath({ version: 'v1', plural: 'pods', subresource: 'status' })).toThrow(/needs a name/);
    expect(withQuery('/p', { a: 'x=y', b: undefined, c: 3 })).toBe('/p?a=x%3Dy&c=3');
  });

  it('splits chunks anywhere, also inside a UTF-8 sequence', () => {
    const text = Buffer.from('{"type":"ADDED","object":{"metadata":{"name":"é"}}}\n{"type":"DELETED","object":{}}');
    const splitter = new LineSplitter();
    const cut = text.indexOf(0xc3) + 1;
    const lines = [...splitter.push(text.subarray(0, cut)), ...splitter.push(text.subarray(cut)), ...splitter.end()];
    expect(lines.map((line) => parseWatchLine<{ metadata?: { name?: string } }>(line, '/p'))).toEqual([
      { type: 'ADDED', object: { metadata: { name: 'é' } } },
      { type: 'DELETED', object: {} },
    ]);
  });

  it('turns an ERROR event into a KubeApiError with the Status code', () => {
    const error = (() => {
      try {
        parseWatchLine('{"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old"}}', '/p');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(KubeApiError);
    expect(httpStatusOf(error)).toBe(410);
    expect((error as KubeApiError).reason).toBe('Expired');
    expect(() => parseWatchLine('nope', '/p')).toThrow(/not JSON/);
    expect(() => parseWatchLine('{"type":"WHAT","object":{}}', '/p')).toThrow(/unknown event type/);
  });
});
