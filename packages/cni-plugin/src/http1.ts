/**
 * The HTTP/1.1 the plugin speaks to the agent, as pure text handling: one request written, one response read
 * (status, headers, a body framed by content-length, chunked encoding or the end of the connection).
 * node:http would do the same, but loading it (with its agent, parser binding and stream classes) is a
 * large part of the plugin's start-up, and the plugin makes exactly one request per process.
 */

export class Http1Error extends Error {
  override name = 'Http1Error';
}

export interface Http1Request {
  method: string;
  path: string;
  /** Lower-case names; host, content-length and connection are set here. */
  headers: Record<string, string | number>;
  body?: string | undefined;
}

export interface Http1Response {
  status: number;
  /** Lower-case names; a repeated header keeps its last value. */
  headers: Map<string, string>;
  body: Buffer;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** The request's bytes; the connection closes after the answer, so nothing keeps the plugin alive. */
export function formatRequest(request: Http1Request): Buffer {
  if (!TOKEN.test(request.method)) throw new Http1Error(`invalid method ${JSON.stringify(request.method)}`);
  if (!/^\/[\x21-\x7e]*$/.test(request.path)) throw new Http1Error(`invalid request path ${JSON.stringify(request.path)}`);
  const body = request.body === undefined ? undefined : Buffer.from(request.body, 'utf8');
  const headers: Record<string, string | number> = { host: 'localhost', ...request.headers, connection: 'close' };
  if (body) headers['content-length'] = body.length;
  let head = `${request.method} ${request.path} HTTP/1.1\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    const text = String(value);
    if (!TOKEN.test(name) || !FIELD_VALUE.test(text)) throw new Http1Error(`invalid header ${name}: ${JSON.stringify(text)}`);
    head += `${name}: ${text}\r\n`;
  }
  const start = Buffer.from(`${head}\r\n`, 'latin1');
  return body ? Buffer.concat([start, body]) : start;
}

type Framing = { kind: 'length'; remaining: number } | { kind: 'chunked' } | { kind: 'close' };

/** Bounds the head so that a peer that is not HTTP cannot make us buffer without end before the body limit. */
const MAX_HEAD_BYTES = 64 * 1024;

/**
 * Reads one response from the bytes of a connection, chunk by chunk. `push` gives the response as soon as it
 * is complete (the caller need not wait for the peer to close); `end` is for the end of the connection.
 */
export class ResponseReader {
  private readonly maxBytes: number;
  private buffered: Buffer = Buffer.alloc(0);
  private status = 0;
  private headers: Map<string, string> | undefined;
  private framing: Framing | undefined;
  private readonly body: Buffer[] = [];
  private bodyBytes = 0;
  private done: Http1Response | undefined;

  /** `maxBytes`: the largest body accepted. */
  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  push(chunk: Buffer): Http1Response | undefined {
    if (this.done) return this.done;
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    if (!this.headers) {
      const end = this.buffered.indexOf('\r\n\r\n');
      if (end === -1) {
        if (this.buffered.length > MAX_HEAD_BYTES) throw new Http1Error(`response head longer than ${MAX_HEAD_BYTES} bytes`);
        return undefined;
      }
      this.readHead(this.buffered.subarray(0, end).toString('latin1'));
      this.buffered = this.buffered.subarray(end + 4);
    }
    return this.readBody();
  }

  /** The connection ended: the response if it is complete by then, an error if it is not. */
  end(): Http1Response {
    if (this.done) return this.done;
    if (!this.headers) throw new Http1Error('connection closed before a complete response head');
    if (this.framing?.kind !== 'close') throw new Http1Error('connection closed before the end of the response body');
    return this.finish();
  }

  private readHead(head: string): void {
    const [statusLine = '', ...lines] = head.split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(statusLine);
    if (!m) throw new Http1Error(`not an HTTP/1.x status line: ${JSON.stringify(statusLine.slice(0, 80))}`);
    this.status = Number(m[1]);
    const headers = new Map<string, string>();
    for (const line of lines) {
      const colon = line.indexOf(':');
      if (colon <= 0) throw new Http1Error(`malformed response header line ${JSON.stringify(line.slice(0, 80))}`);
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    this.headers = headers;
    const encoding = headers.get('transfer-encoding');
    const length = headers.get('content-length');
    if (encoding !== undefined) {
      if (encoding.toLowerCase() !== 'chunked') throw new Http1Error(`unsupported transfer-encoding ${JSON.stringify(encoding)}`);
      this.framing = { kind: 'chunked' };
    } else if (length !== undefined) {
      if (!/^\d+$/.test(length)) throw new Http1Error(`invalid content-length ${JSON.stringify(length)}`);
      const n = Number(length);
      this.checkSize(n);
      this.framing = { kind: 'length', remaining: n };
    } else if (this.status === 204 || this.status === 304 || (this.status >= 100 && this.status < 200)) {
      this.framing = { kind: 'length', remaining: 0 };
    } else {
      this.framing = { kind: 'close' };
    }
  }

  private checkSize(total: number): void {
    if (total > this.maxBytes) throw new Http1Error(`response body larger than ${this.maxBytes} bytes`);
  }

  private take(n: number): void {
    this.checkSize(this.bodyBytes + n);
    this.body.push(this.buffered.subarray(0, n));
    this.bodyBytes += n;
    this.buffered = this.buffered.subarray(n);
  }

  private readBody(): Http1Response | undefined {
    const framing = this.framing;
    if (!framing) return undefined;
    if (framing.kind === 'close') {
      this.take(this.buffered.length);
      return undefined;
    }
    if (framing.kind === 'length') {
      const n = Math.min(framing.remaining, this.buffered.length);
      this.take(n);
      framing.remaining -= n;
      return framing.remaining === 0 ? this.finish() : undefined;
    }
    return this.readChunks();
  }

  /** Chunked: size line, data, CRLF; a zero size ends it (trailers are skipped up to the empty line). */
  private readChunks(): Http1Response | undefined {
    for (;;) {
      const eol = this.buffered.indexOf('\r\n');
      if (eol === -1) return undefined;
      const sizeText = this.buffered.subarray(0, eol).toString('latin1').split(';')[0]?.trim() ?? '';
      if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) throw new Http1Error(`invalid chunk size ${JSON.stringify(sizeText.slice(0, 20))}`);
      const size = parseInt(sizeText, 16);
      if (size === 0) {
        const trailerEnd = this.buffered.indexOf('\r\n\r\n', eol);
        if (trailerEnd === -1) return undefined;
        return this.finish();
      }
      this.checkSize(this.bodyBytes + size);
      if (this.buffered.length < eol + 2 + size + 2) return undefined;
      this.buffered = this.buffered.subarray(eol + 2);
      this.take(size);
      if (this.buffered[0] !== 0x0d || this.buffered[1] !== 0x0a) throw new Http1Error('chunk data not followed by CRLF');
      this.buffered = this.buffered.subarray(2);
    }
  }

  private finish(): Http1Response {
    this.done = { status: this.status, headers: this.headers ?? new Map(), body: Buffer.concat(this.body) };
    return this.done;
  }
}
