import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Http1Response } from '../src/http1.ts';
import { Http1Error, ResponseReader, formatRequest } from '../src/http1.ts';

/** Feeds `text` in pieces cut at `cuts`; the response as soon as one is complete, else what `end` says. */
function read(text: string | Buffer, cuts: number[] = [], maxBytes = 1 << 20): Http1Response {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
  const reader = new ResponseReader(maxBytes);
  let from = 0;
  for (const at of [...new Set(cuts)].sort((a, b) => a - b).filter((c) => c > 0 && c < bytes.length)) {
    const done = reader.push(bytes.subarray(from, at));
    from = at;
    if (done) return done;
  }
  return reader.push(bytes.subarray(from)) ?? reader.end();
}

const LENGTH = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Hostnic-Protocol: 2\r\nContent-Length: 11\r\n\r\n{"ok":true}';
const CHUNKED = 'HTTP/1.1 409 Conflict\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"cod\r\n19;ext=1\r\ne":3,"msg":"no such pod"}\r\n0\r\nX-Trailer: t\r\n\r\n';

describe('formatRequest', () => {
  it('writes the request line, host, the headers, a content-length in bytes and connection: close', () => {
    const bytes = formatRequest({ method: 'POST', path: '/v1/add', headers: { 'x-hostnic-protocol': 2 }, body: '{"pod":"é"}' });
    expect(bytes.toString('utf8')).toBe(
      'POST /v1/add HTTP/1.1\r\nhost: localhost\r\nx-hostnic-protocol: 2\r\nconnection: close\r\ncontent-length: 12\r\n\r\n{"pod":"é"}',
    );
  });

  it('sends no content-length without a body', () => {
    expect(formatRequest({ method: 'GET', path: '/v1/status', headers: {} }).toString()).toBe(
      'GET /v1/status HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n',
    );
  });

  it('refuses what would split the request: a blank in the path, a newline in a header', () => {
    expect(() => formatRequest({ method: 'GET', path: '/a b', headers: {} })).toThrow(Http1Error);
    expect(() => formatRequest({ method: 'GET', path: '/a', headers: { 'x-a': 'b\r\nx-evil: 1' } })).toThrow(/invalid header x-a/);
  });
});

describe('ResponseReader', () => {
  it('reads a body framed by content-length, header names in lower case, before the peer closes', () => {
    const reader = new ResponseReader(1024);
    const r = reader.push(Buffer.from(LENGTH, 'latin1'));
    expect(r?.status).toBe(200);
    expect(r?.headers.get('x-hostnic-protocol')).toBe('2');
    expect(r?.body.toString()).toBe('{"ok":true}');
  });

  it('decodes chunked bodies, chunk extensions and trailers skipped', () => {
    const r = read(CHUNKED);
    expect(r.status).toBe(409);
    expect(JSON.parse(r.body.toString())).toEqual({ code: 3, msg: 'no such pod' });
  });

  it('reads to the end of the connection when the answer has no framing', () => {
    const reader = new ResponseReader(1024);
    expect(reader.push(Buffer.from('HTTP/1.0 503 Service Unavailable\r\n\r\nstart', 'latin1'))).toBeUndefined();
    expect(reader.push(Buffer.from('ing', 'latin1'))).toBeUndefined();
    const r = reader.end();
    expect(r.status).toBe(503);
    expect(r.body.toString()).toBe('starting');
  });

  it('gives the same answer however the bytes are cut', () => {
    for (const text of [LENGTH, CHUNKED]) {
      const whole = read(text);
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 1, max: text.length - 1 }), { maxLength: 12 }), (cuts) => {
          const r = read(text, cuts);
          expect(r.status).toBe(whole.status);
          expect(r.body.equals(whole.body)).toBe(true);
        }),
      );
    }
  });

  it('says a connection that ends early is an incomplete answer', () => {
    expect(() => read('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{"a"')).toThrow(/before the end of the response body/);
    expect(() => read('HTTP/1.1 200 OK\r\nContent-Le')).toThrow(/before a complete response head/);
    expect(() => read('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"a"')).toThrow(/before the end/);
  });

  it('refuses what is not HTTP/1.x and bodies above the limit, with or without a declared length', () => {
    expect(() => read('SSH-2.0-OpenSSH\r\n\r\n')).toThrow(/not an HTTP\/1.x status line/);
    expect(() => read('HTTP/1.1 200 OK\r\nbad line\r\n\r\n')).toThrow(/malformed response header line/);
    expect(() => read('HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n')).toThrow(/invalid content-length/);
    expect(() => read('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n')).toThrow(/unsupported transfer-encoding/);
    expect(() => read('HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n', [], 10)).toThrow(/larger than 10 bytes/);
    expect(() => read(`HTTP/1.1 200 OK\r\n\r\n${'x'.repeat(11)}`, [], 10)).toThrow(/larger than 10 bytes/);
    expect(() => read('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n')).toThrow(/invalid chunk size/);
    expect(() => read('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n0\r\n\r\n')).toThrow(/not followed by CRLF/);
  });

  it('bounds a head that never ends', () => {
    const reader = new ResponseReader(1024);
    expect(() => {
      for (let i = 0; i < 100; i++) reader.push(Buffer.alloc(1024, 0x61));
    }).toThrow(/response head longer than/);
  });
});
