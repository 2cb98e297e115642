import { request } from 'node:http';
import { PROTOCOL_HEADER, PROTOCOL_VERSION } from '@hostnic/protocol';

export interface Answer {
  status: number;
  /** The answer's x-hostnic-protocol header. */
  protocol: string | undefined;
  body: unknown;
}

/**
 * One request on the agent's socket, in protocol version `protocol` (the current one unless told; null sends
 * no header, as the first release did); `raw` replaces the JSON body.
 */
export function call(
  socketPath: string,
  method: string,
  path: string,
  body?: unknown,
  raw?: string,
  protocol: string | null = String(PROTOCOL_VERSION),
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = raw ?? (body === undefined ? '' : JSON.stringify(body));
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (protocol !== null) headers[PROTOCOL_HEADER] = protocol;
    const req = request({ socketPath, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const answered = res.headers[PROTOCOL_HEADER];
        resolve({
          status: res.statusCode ?? 0,
          protocol: typeof answered === 'string' ? answered : undefined,
          body: text === '' ? undefined : (JSON.parse(text) as unknown),
        });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}
