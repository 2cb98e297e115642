/** JSON in and out over node:http, with a body size limit. */

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AgentErrorBody } from '@hostnic/protocol';

export class RequestError extends Error {
  override name = 'RequestError';
  readonly httpStatus: number;
  readonly cniCode: number;

  constructor(httpStatus: number, cniCode: number, message: string) {
    super(message);
    this.httpStatus = httpStatus;
    this.cniCode = cniCode;
  }
}

/** Reads and parses a JSON body of at most `limit` bytes. */
export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > limit) throw new RequestError(413, 7, `request body of ${declared} bytes exceeds the limit of ${limit}`);
  const chunks: Buffer[] = [];
  let size = 0;
  // An oversized body is read to its end and dropped: throwing mid-stream would destroy the socket before
  // the 413 could be written.
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size <= limit) chunks.push(b);
  }
  if (size > limit) throw new RequestError(413, 7, `request body exceeds the limit of ${limit} bytes`);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new RequestError(400, 7, 'request body is empty');
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new RequestError(400, 7, `request body is not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.writableEnded) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(res: ServerResponse, status: number, body: AgentErrorBody): void {
  sendJson(res, status, body);
}
