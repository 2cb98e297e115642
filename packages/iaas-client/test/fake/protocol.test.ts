import { afterEach, describe, expect, it } from 'vitest';
import { encodeSignedQuery, signRequest, withSignerParams } from '../../src/sign.ts';
import { START, buildRequest, call, callRaw, fakes, KEY, ok, SECRET, set } from './helpers.ts';

const f = fakes();
afterEach(() => f.closeAll());

/** Flips one character of the URL-encoded signature at the end of a wire query. */
function flipSignature(query: string): string {
  const at = query.indexOf('&signature=') + '&signature='.length;
  const c = query[at];
  return query.slice(0, at) + (c === 'A' ? 'B' : 'A') + query.slice(at + 1);
}

describe('replay, tampering, expiry, unknown key', () => {
  it('a request signed by the client authenticates when the clock is at its time_stamp', async () => {
    const fake = await f.start();
    const signedAt = new Date('2021-03-04T05:06:07Z');
    const { url } = buildRequest(fake, 'DescribeAccessKeys', { 'access_keys.1': KEY }, { time: signedAt, zone: null });
    fake.clock.set(signedAt);
    const body = (await (await fetch(url)).json()) as Record<string, unknown>;
    expect(body).toMatchObject({ action: 'DescribeAccessKeysResponse', ret_code: 0, total_count: 1 });
    expect(fake.requests()[0]).toMatchObject({ auth: 'ok', action: 'DescribeAccessKeys', retCode: 0 });
  });

  it('the same request replayed verbatim authenticates again (no nonce)', async () => {
    const fake = await f.start();
    const { url } = buildRequest(fake, 'DescribeVxnets', {});
    expect(((await (await fetch(url)).json()) as { ret_code: number }).ret_code).toBe(0);
    expect(((await (await fetch(url)).json()) as { ret_code: number }).ret_code).toBe(0);
  });

  it('one flipped character of the signature is 1200', async () => {
    const fake = await f.start();
    const { query } = buildRequest(fake, 'DescribeVxnets', {});
    const res = await fetch(`${fake.url}/iaas?${flipSignature(query)}`);
    const body = (await res.json()) as { ret_code: number; message: string };
    expect(res.status).toBe(200);
    expect(body.ret_code).toBe(1200);
    expect(body.message).toMatch(/^AuthFailure, /);
    const entry = fake.requests()[0];
    expect(entry?.auth).toBe('failed: signature does not match');
    expect(entry?.stringToSign).toMatch(/^GET\n\/iaas\naccess_key_id=QYACCESSKEYIDEXAMPLE&action=DescribeVxnets&/);
  });

  it('a time_stamp 61 s old is 1300; 60 s is still fine', async () => {
    const fake = await f.start();
    const now = fake.clock.now().getTime();
    expect((await call(fake, 'DescribeVxnets', {}, { time: new Date(now - 60_000) })).ret_code).toBe(0);
    const stale = await call(fake, 'DescribeVxnets', {}, { time: new Date(now - 61_000) });
    expect(stale.ret_code).toBe(1300);
    expect(stale.message).toMatch(/^MessageExpired, /);
    expect((await call(fake, 'DescribeVxnets', {}, { time: new Date(now + 61_000) })).ret_code).toBe(1300);
  });

  it('advancing the clock past the window expires a recorded request', async () => {
    const fake = await f.start();
    const { url } = buildRequest(fake, 'DescribeVxnets', {});
    await fake.clock.advance(61_000);
    expect(((await (await fetch(url)).json()) as { ret_code: number }).ret_code).toBe(1300);
  });

  it('an unknown access key, a wrong secret, a bad signature_version or method are 1200', async () => {
    const fake = await f.start();
    expect((await call(fake, 'DescribeVxnets', {}, { key: 'NOSUCHKEY' })).ret_code).toBe(1200);
    expect((await call(fake, 'DescribeVxnets', {}, { secret: 'wrong' })).ret_code).toBe(1200);
    const params = withSignerParams({ action: 'DescribeVxnets', zone: 'pek3a' }, KEY, fake.clock.now());
    for (const override of [{ signature_version: '2' }, { signature_method: 'HmacMD5' }] as Record<string, string>[]) {
      const signed = signRequest({ method: 'GET', path: '/iaas', params: { ...params, ...override }, secretAccessKey: SECRET, signatureMethod: 'HmacSHA256' });
      const body = (await (await fetch(`${fake.url}/iaas?${encodeSignedQuery(signed)}`)).json()) as { ret_code: number };
      expect(body.ret_code).toBe(1200);
    }
    expect(fake.requests().map((e) => e.auth)).toEqual([
      'failed: access_key_id [NOSUCHKEY] is unknown',
      'failed: signature does not match',
      'failed: signature_version [2] is not supported',
      'failed: signature_method [HmacMD5] is not supported',
    ]);
  });

  it('clock skew on the server makes fresh requests expire', async () => {
    const fake = await f.start();
    fake.clock.setSkew(-120_000);
    expect((await call(fake, 'DescribeVxnets', {}, { time: new Date(Date.parse(START)) })).ret_code).toBe(1300);
    fake.clock.setSkew(0);
    expect((await call(fake, 'DescribeVxnets')).ret_code).toBe(0);
  });

  it('timestampWindowSec 0 turns the expiry check off', async () => {
    const fake = await f.start({ timestampWindowSec: 0 });
    expect((await call(fake, 'DescribeVxnets', {}, { time: new Date('2001-01-01T00:00:00Z') })).ret_code).toBe(0);
  });
});

describe('transport forms', () => {
  it('accepts GET and POST on /iaas and /iaas/, signed over the path as sent', async () => {
    const fake = await f.start();
    for (const method of ['GET', 'POST'] as const) {
      for (const path of ['/iaas', '/iaas/']) {
        const body = await call(fake, 'DescribeVxnets', { 'vxnets.1': 'vxnet-nothing' }, { method, path });
        expect(body).toMatchObject({ action: 'DescribeVxnetsResponse', ret_code: 0, vxnet_set: [], total_count: 0 });
      }
    }
    // Signed for /iaas/ but sent to /iaas: the server signs what it received, so this fails.
    const { query } = buildRequest(fake, 'DescribeVxnets', {}, { path: '/iaas/' });
    expect(((await (await fetch(`${fake.url}/iaas?${query}`)).json()) as { ret_code: number }).ret_code).toBe(1200);
  });

  it('HmacSHA1 is accepted too', async () => {
    const fake = await f.start();
    expect((await call(fake, 'DescribeVxnets', {}, { signatureMethod: 'HmacSHA1' })).ret_code).toBe(0);
  });

  it('decodes percent-escapes, including UTF-8 and sub-delims, before verifying', async () => {
    const fake = await f.start();
    const vxnet = fake.addVxnet();
    const name = "a b+c:d/é!*'()~";
    const created = await ok(fake, 'CreateNics', { vxnet: vxnet.vxnet_id, nic_name: name, disable_ip: 1 });
    expect(created['nics']).toHaveLength(1);
    expect(fake.nics().filter((n) => n.nic_name === name)).toHaveLength(1);
    expect(fake.requests({ action: 'CreateNics' })[0]?.params['nic_name']).toBe(name);
  });

  it('answers HTTP 200 with application/json and the action name, and RFC 3339 times', async () => {
    const fake = await f.start();
    fake.addVxnet();
    const res = await callRaw(fake, 'DescribeVxnets');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).slice(0, 2)).toEqual(['action', 'ret_code']);
    const [vxnet] = set(body as never, 'vxnet_set');
    expect(vxnet?.['create_time']).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  });

  it('POST without a form content type is 1100', async () => {
    const fake = await f.start();
    const { query } = buildRequest(fake, 'DescribeVxnets', {}, { method: 'POST' });
    const res = await fetch(`${fake.url}/iaas`, { method: 'POST', body: query, headers: { 'content-type': 'text/plain' } });
    expect(((await res.json()) as { ret_code: number }).ret_code).toBe(1100);
  });

  it('a malformed percent escape is 1100', async () => {
    const fake = await f.start();
    const res = await fetch(`${fake.url}/iaas?action=DescribeVxnets&zone=%E0%A4%A`);
    expect(((await res.json()) as { ret_code: number }).ret_code).toBe(1100);
  });

  it('other paths are 404, other methods 1101', async () => {
    const fake = await f.start();
    expect((await fetch(`${fake.url}/api`)).status).toBe(404);
    const res = await fetch(`${fake.url}/iaas`, { method: 'PUT', body: 'x' });
    expect(((await res.json()) as { ret_code: number }).ret_code).toBe(1101);
  });
});

describe('parameter checks in the order the real API applies them', () => {
  it('missing action is 1100, unknown action 1101 ActionNotFound (before auth)', async () => {
    const fake = await f.start();
    const res = await fetch(`${fake.url}/iaas?zone=pek3a`);
    expect(((await res.json()) as { ret_code: number }).ret_code).toBe(1100);
    const unknown = await call(fake, 'RunInstances', {}, { key: 'NOSUCHKEY' });
    expect(unknown).toMatchObject({ ret_code: 1101 });
    expect(unknown.message).toMatch(/^ActionNotFound, /);
  });

  it('a malformed time_stamp is 1100, not 1300', async () => {
    const fake = await f.start();
    const params = { ...withSignerParams({ action: 'DescribeVxnets', zone: 'pek3a' }, KEY, fake.clock.now()), time_stamp: '2013-08-27 14:30:10' };
    const signed = signRequest({ method: 'GET', path: '/iaas', params, secretAccessKey: SECRET });
    const body = (await (await fetch(`${fake.url}/iaas?${encodeSignedQuery(signed)}`)).json()) as { ret_code: number };
    expect(body.ret_code).toBe(1100);
  });

  it('version is optional but must be 1 when present', async () => {
    const fake = await f.start();
    expect((await call(fake, 'DescribeVxnets', { version: 1 })).ret_code).toBe(0);
    expect((await call(fake, 'DescribeVxnets', { version: 2 })).ret_code).toBe(1100);
  });

  it('zone is required except for DescribeAccessKeys; an unknown zone is 1100', async () => {
    const fake = await f.start({ zones: ['pek3a', 'ap2a'] });
    expect((await call(fake, 'DescribeVxnets', {}, { zone: null })).ret_code).toBe(1100);
    expect((await call(fake, 'DescribeAccessKeys', {}, { zone: null })).ret_code).toBe(0);
    expect((await call(fake, 'DescribeVxnets', {}, { zone: 'ap2a' })).ret_code).toBe(0);
    const unknown = await call(fake, 'DescribeVxnets', {}, { zone: 'sh1a' });
    expect(unknown).toMatchObject({ ret_code: 1100 });
  });

  it('resources are scoped to their zone', async () => {
    const fake = await f.start({ zones: ['pek3a', 'ap2a'] });
    fake.addVxnet({ vxnet_id: 'vxnet-inap2aa', zone: 'ap2a' });
    expect(set(await ok(fake, 'DescribeVxnets', {}, { zone: 'pek3a' }), 'vxnet_set')).toHaveLength(0);
    expect(set(await ok(fake, 'DescribeVxnets', {}, { zone: 'ap2a' }), 'vxnet_set')).toHaveLength(1);
    expect((await call(fake, 'CreateNics', { vxnet: 'vxnet-inap2aa' }, { zone: 'pek3a' })).ret_code).toBe(2100);
  });

  it('verifySignature false skips auth but still answers', async () => {
    const fake = await f.start({ verifySignature: false });
    const res = await fetch(`${fake.url}/iaas?action=DescribeVxnets&zone=pek3a`);
    expect(((await res.json()) as { ret_code: number }).ret_code).toBe(0);
    expect(fake.requests()[0]?.auth).toBe('skipped');
  });

  it('accounts only see their own resources, and touching others is 1400', async () => {
    const fake = await f.start();
    fake.addAccessKey({ accessKeyId: 'OTHERKEY', secretAccessKey: 'othersecret', owner: 'usr-someone2' });
    const theirs = fake.addVxnet({ owner: 'usr-someone2' });
    expect(set(await ok(fake, 'DescribeVxnets'), 'vxnet_set')).toHaveLength(0);
    const asThem = await ok(fake, 'DescribeVxnets', {}, { key: 'OTHERKEY', secret: 'othersecret' });
    expect(set(asThem, 'vxnet_set')).toHaveLength(1);
    const denied = await call(fake, 'CreateNics', { vxnet: theirs.vxnet_id });
    expect(denied.ret_code).toBe(1400);
    expect(denied.message).toMatch(/^PermissionDenied, /);
  });
});
