/** Signed HTTP calls against the fake, built with the package's own signer (never a copy of it). */
import { flattenParams } from '../../src/params.ts';
import type { ParamInput } from '../../src/params.ts';
import { encodeSignedQuery, signRequest, withSignerParams } from '../../src/sign.ts';
import type { HttpMethod, SignatureMethod } from '../../src/sign.ts';
import { startFakeQingCloud } from '../../src/fake/index.ts';
import type { FakeQingCloud, FakeQingCloudOptions } from '../../src/fake/index.ts';

export const KEY = 'QYACCESSKEYIDEXAMPLE';
export const SECRET = 'SECRETACCESSKEY';
export const START = '2013-08-27T14:30:10Z';

export interface CallOptions {
  method?: HttpMethod;
  path?: string;
  key?: string;
  secret?: string;
  /** Signing time; default: the fake's own clock. */
  time?: Date;
  /** null = send no zone at all. */
  zone?: string | null;
  signatureMethod?: SignatureMethod;
  signal?: AbortSignal;
}

/** What a request needs to know about the fake: a running `FakeQingCloud`, or a fake in another process. */
export interface Target {
  url: string;
  zone: string;
  clock: { now(): Date };
}

export interface BuiltRequest {
  url: string;
  init: RequestInit;
  /** Wire form: canonical query + `&signature=...`. */
  query: string;
}

export function buildRequest(fake: Target, action: string, params: ParamInput, options: CallOptions = {}): BuiltRequest {
  const method = options.method ?? 'GET';
  const path = options.path ?? '/iaas';
  const zone = options.zone === undefined ? fake.zone : options.zone;
  const flat = flattenParams({ ...params, action, ...(zone === null ? {} : { zone }) });
  const signed = signRequest({
    method,
    path,
    params: withSignerParams(flat, options.key ?? KEY, options.time ?? fake.clock.now(), options.signatureMethod),
    secretAccessKey: options.secret ?? SECRET,
  });
  const query = encodeSignedQuery(signed);
  if (method === 'POST') {
    return {
      url: fake.url + path,
      query,
      init: {
        method,
        body: query,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        ...(options.signal ? { signal: options.signal } : {}),
      },
    };
  }
  return { url: `${fake.url}${path}?${query}`, query, init: { method, ...(options.signal ? { signal: options.signal } : {}) } };
}

export type Body = Record<string, unknown> & { ret_code: number; message?: string };

export async function callRaw(fake: Target, action: string, params: ParamInput = {}, options: CallOptions = {}): Promise<Response> {
  const { url, init } = buildRequest(fake, action, params, options);
  return fetch(url, init);
}

/** A signed call; resolves with the JSON body whatever its ret_code. */
export async function call(fake: Target, action: string, params: ParamInput = {}, options: CallOptions = {}): Promise<Body> {
  const res = await callRaw(fake, action, params, options);
  if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
  return (await res.json()) as Body;
}

/** A signed call that must succeed. */
export async function ok(fake: Target, action: string, params: ParamInput = {}, options: CallOptions = {}): Promise<Body> {
  const body = await call(fake, action, params, options);
  if (body.ret_code !== 0) throw new Error(`${action} failed: ${JSON.stringify(body)}`);
  return body;
}

/** The `job_id` of an async action's answer. */
export function jobIdOf(body: Body): string {
  const id = body['job_id'];
  if (typeof id !== 'string') throw new Error(`no job_id in ${JSON.stringify(body)}`);
  return id;
}

/** The list under `<thing>_set` of a Describe* answer. */
export function set<T = Record<string, unknown>>(body: Body, key: string): T[] {
  const value = body[key];
  if (!Array.isArray(value)) throw new Error(`${key} is not an array in ${JSON.stringify(body)}`);
  return value as T[];
}

/** A fake on a virtual clock starting at START, tracked for closing in afterEach. */
export function fakes(): { start(options?: FakeQingCloudOptions): Promise<FakeQingCloud>; closeAll(): Promise<void> } {
  const open: FakeQingCloud[] = [];
  return {
    async start(options = {}) {
      const fake = await startFakeQingCloud({ clock: 'virtual', startTime: START, seed: 42, ...options });
      open.push(fake);
      return fake;
    },
    async closeAll() {
      await Promise.all(open.splice(0).map((f) => f.close()));
    },
  };
}

export async function controlJson(fake: Pick<Target, 'url'>, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${fake.url}/__fake${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  return { status: res.status, json: await res.json() };
}

/** Polls `check` on real time until it holds; for realtime-clock tests only. Asserts nothing about time. */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  // A deadline, not a count of turns: on a loaded machine a 10 ms turn can take far longer.
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`never happened: ${what}`);
}
