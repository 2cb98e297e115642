import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IaasConfigError, loadConfig, parseConfigText } from '../src/index.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hostnic-iaas-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const MINIMAL = 'qy_access_key_id: "AKID"\nqy_secret_access_key: "s3cr3t-value"\nzone: "pek3a"\n';

describe('loadConfig', () => {
  it('applies the SDK defaults to the README minimal file', async () => {
    const file = join(dir, 'minimal.yaml');
    await writeFile(file, MINIMAL);
    const c = await loadConfig(file);
    expect(c).toMatchObject({
      zone: 'pek3a',
      host: 'api.qingcloud.com',
      port: 443,
      protocol: 'https',
      uri: '/iaas',
      connectionRetries: 3,
      connectionTimeoutSec: 30,
      unknownKeys: [],
    });
    expect(c.credentials.accessKeyId).toBe('AKID');
    expect(c.credentials.revealSecret()).toBe('s3cr3t-value');
  });

  it('reads the private-cloud example of the README', () => {
    const c = parseConfigText(
      "qy_access_key_id: 'ACCESS_KEY_ID'\nqy_secret_access_key: 'SECRET_ACCESS_KEY'\n\nhost: 'api.xxxxx.com'\n" +
        "port: 443\nprotocol: 'https'\nuri: '/iaas'\nconnection_retries: 3\n",
    );
    expect(c).toMatchObject({ host: 'api.xxxxx.com', port: 443, protocol: 'https', uri: '/iaas', zone: '' });
  });

  it('collapses runs of slashes in uri and reports unknown keys', () => {
    const c = parseConfigText(`${MINIMAL}uri: '//iaas//v1'\ntimeout: 5\nlog_level: debug\n`);
    expect(c.uri).toBe('/iaas/v1');
    expect(c.unknownKeys).toEqual(['timeout']);
  });

  it('names the file when it does not exist', async () => {
    const file = join(dir, 'absent.yaml');
    await expect(loadConfig(file)).rejects.toThrow(new RegExp(`${file}: does not exist.*qcsecret`));
  });

  it.each([
    ['qy_secret_access_key: x\n', 'qy_access_key_id', /is missing/],
    ['qy_access_key_id: a\n', 'qy_secret_access_key', /is missing/],
    ['qy_access_key_id: ""\nqy_secret_access_key: x\n', 'qy_access_key_id', /is empty/],
    [`${MINIMAL}port: http\n`, 'port', /integer from 1 to 65535, got "http"/],
    [`${MINIMAL}port: 70000\n`, 'port', /integer from 1 to 65535/],
    [`${MINIMAL}protocol: ftp\n`, 'protocol', /"http" or "https"/],
    [`${MINIMAL}connection_retries: -1\n`, 'connection_retries', /integer from 0/],
    [`${MINIMAL}connection_timeout: 0\n`, 'connection_timeout', /integer from 1/],
    [`${MINIMAL}host: https://api.example.com\n`, 'host', /without scheme or path/],
    ['qy_access_key_id: a\nqy_secret_access_key: b\nzone: [a, b]\n', 'zone', /must be a string/],
  ])('rejects %j naming the field %s', (text, field, pattern) => {
    let err: unknown;
    try {
      parseConfigText(text, '/etc/q/config.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IaasConfigError);
    expect((err as IaasConfigError).field).toBe(field);
    expect((err as Error).message).toMatch(/^\/etc\/q\/config\.yaml: field "/);
    expect((err as Error).message).toMatch(pattern);
  });

  it('rejects malformed YAML with the line number, and non-mappings', () => {
    expect(() => parseConfigText('a: [1, 2\nb: c\n', 'f.yaml')).toThrow(/f\.yaml: is not valid YAML at line \d/);
    expect(() => parseConfigText('- a\n- b\n', 'f.yaml')).toThrow(/must be a YAML mapping/);
    expect(() => parseConfigText('', 'f.yaml')).toThrow(/is empty/);
    expect(() => parseConfigText(`${MINIMAL}zone: ap2a\n`, 'f.yaml')).toThrow(/not valid YAML.*unique/);
  });

  it('never shows the secret in strings, JSON, inspect or errors', () => {
    const c = parseConfigText(MINIMAL);
    const views = [String(c.credentials), JSON.stringify(c), inspect(c, { depth: 5 }), `${c.credentials}`];
    for (const v of views) {
      expect(v).not.toContain('s3cr3t-value');
    }
    let message = '';
    try {
      parseConfigText(`${MINIMAL}port: nope\n`);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).not.toContain('s3cr3t-value');
  });
});
