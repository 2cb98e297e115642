/**
 * The `/iaas` endpoint: the protocol layer in the order the real API checks (signature, time stamp, action, parameters), with fault rules woven in where a
 * real failure would strike (before the server does anything, after it did the work, or on the way out).
 */
import { STATUS_CODES } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiParams } from './api-params.ts';
import type { ActionContext, ActionSettings } from './actions/context.ts';
import { findAction, ZONELESS_ACTIONS } from './actions/index.ts';
import { authenticate, checkTimestamp } from './auth.ts';
import type { FakeClock } from './clock.ts';
import { errorNameFor, FakeApiError, badParam, missingParam } from './errors.ts';
import type { FaultBook, StoredFaultRule } from './faults.ts';
import { effectNames } from './faults.ts';
import type { JobEngine } from './jobs.ts';
import { omitAt, setAt } from './json-path.ts';
import type { IdGenerator, SeededRandom } from './random.ts';
import type { RateLimiter } from './rate-limit.ts';
import type { RequestLog } from './request-log.ts';
import type { FakeStore } from './store.ts';
import { formatTimestamp } from '../sign.ts';
import type { RequestLogEntry } from './types.ts';
import type { ParsedRequest } from './wire.ts';
import { errorEnvelope, htmlErrorPage, parseApiRequest, successEnvelope } from './wire.ts';

export interface ApiDeps {
  store: FakeStore;
  clock: FakeClock;
  ids: IdGenerator;
  faults: FaultBook;
  rateLimiter: RateLimiter;
  requestLog: RequestLog;
  jobs: JobEngine;
  /** Dice for latency ranges. */
  random: SeededRandom;
  settings: ActionSettings;
  verifySignature: boolean;
  timestampWindowSec: number;
  unknownZoneRetCode: number;
  plusIsSpace: boolean;
  defaultOwner: () => string;
  /** Stop accepting connections for `ms` real milliseconds. */
  refuse: (ms: number) => void;
  log: (line: string) => void;
}

const MAX_BODY = 1024 * 1024;

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY) return undefined;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Ends the connection without a byte of response, the way a crashed or partitioned server would. */
function dropConnection(req: IncomingMessage): void {
  const socket = req.socket;
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function latencyOf(rule: StoredFaultRule, random: SeededRandom): number {
  const value = rule.latencyMs;
  if (value === undefined) return 0;
  if (typeof value === 'number') return value;
  const [min, max] = value as readonly [number, number];
  return min + random.next() * (max - min);
}

function asList<T>(value: T | readonly T[] | undefined): readonly T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? (value as readonly T[]) : [value as T];
}

function tamper(envelope: Record<string, unknown>, rule: StoredFaultRule): void {
  for (const path of asList(rule.omitField)) omitAt(envelope, path);
  for (const path of asList(rule.nullField)) setAt(envelope, path, null);
  for (const { path, value } of asList(rule.wrongType)) setAt(envelope, path, value);
}

export async function handleApi(req: IncomingMessage, res: ServerResponse, deps: ApiDeps): Promise<void> {
  const rawUrl = req.url ?? '/';
  const method = req.method ?? 'GET';
  const entry = deps.requestLog.open({
    time: deps.clock.now().toISOString(),
    method,
    path: rawUrl.split('?')[0] ?? rawUrl,
  });
  const body = await readBody(req);
  const parsed: ParsedRequest = body === undefined
    ? { path: entry.path, params: {}, error: badParam(`request body larger than ${MAX_BODY} bytes`) }
    : parseApiRequest(method, rawUrl, req.headers['content-type'], body, deps.plusIsSpace);
  entry.params = parsed.params;
  entry.action = parsed.params['action'] ?? null;

  const rule = deps.faults.match({ action: entry.action, params: parsed.params, seq: entry.seq });
  if (rule) {
    entry.fault = { ruleId: rule.id, effects: effectNames(rule) };
    deps.log(`#${entry.seq} ${entry.action ?? '-'}: fault ${rule.id} (${entry.fault.effects.join(', ')})`);
  }
  if (rule?.latencyMs !== undefined) await sleep(latencyOf(rule, deps.random));
  if (rule?.hang) {
    // Never answer; the listener destroys the socket when the fake closes.
    entry.outcome = 'hung';
    return;
  }
  if (rule?.drop) {
    entry.outcome = 'dropped';
    dropConnection(req);
    return;
  }
  if (rule?.refuseMs !== undefined) {
    entry.outcome = 'refused';
    dropConnection(req);
    deps.refuse(rule.refuseMs);
    return;
  }
  if (rule?.httpStatus !== undefined) {
    const page = rule.rawBody ?? htmlErrorPage(rule.httpStatus, STATUS_CODES[rule.httpStatus] ?? 'Error');
    entry.httpStatus = rule.httpStatus;
    entry.response = page;
    send(res, rule.httpStatus, rule.contentType ?? 'text/html', page);
    return;
  }

  const envelope = respond(parsed, method, entry, rule, deps);
  entry.retCode = typeof envelope['ret_code'] === 'number' ? envelope['ret_code'] : null;
  entry.response = envelope;
  if (rule?.dropAfterEffect) {
    // The action's work is done; only the answer is lost. This is how clients learn to leak resources.
    entry.outcome = 'dropped';
    dropConnection(req);
    return;
  }
  if (rule) tamper(envelope, rule);
  const text = rule?.rawBody ?? JSON.stringify(envelope);
  if (rule?.rawBody !== undefined) entry.response = text;
  entry.httpStatus = 200;
  send(res, 200, rule?.contentType ?? 'application/json', text);
}

function respond(
  parsed: ParsedRequest,
  method: string,
  entry: RequestLogEntry,
  rule: StoredFaultRule | undefined,
  deps: ApiDeps,
): Record<string, unknown> {
  try {
    return dispatch(parsed, method, entry, rule, deps);
  } catch (err) {
    if (err instanceof FakeApiError) return errorEnvelope(err.retCode, err.message);
    // A bug in the fake must not look like a hang or a dropped connection to the client under test.
    const detail = err instanceof Error ? err.message : String(err);
    deps.log(`#${entry.seq} ${entry.action ?? '-'}: internal error: ${err instanceof Error ? (err.stack ?? detail) : detail}`);
    entry.notes.push(`internal error: ${detail}`);
    return errorEnvelope(5000, `${errorNameFor(5000)}, ${detail}`);
  }
}

function dispatch(
  parsed: ParsedRequest,
  method: string,
  entry: RequestLogEntry,
  rule: StoredFaultRule | undefined,
  deps: ApiDeps,
): Record<string, unknown> {
  if (parsed.error) throw parsed.error;
  const params = parsed.params;
  const action = params['action'];
  if (!action) throw missingParam('action');
  const handler = findAction(action);
  if (handler === undefined) throw new FakeApiError(1101, `action [${action}] is not supported`);

  const now = deps.clock.now();
  let owner = deps.defaultOwner();
  let accessKeyId = params['access_key_id'] ?? '';
  if (deps.verifySignature) {
    const auth = authenticate(params, method === 'POST' ? 'POST' : 'GET', parsed.path, deps.store.tables.accessKeys);
    entry.stringToSign = auth.stringToSign;
    if (!auth.ok) {
      entry.auth = `failed: ${auth.reason}`;
      throw new FakeApiError(1200, auth.reason);
    }
    entry.auth = 'ok';
    owner = auth.key.owner;
    accessKeyId = auth.key.access_key_id;
    checkTimestamp(params['time_stamp'], now, deps.timestampWindowSec);
  } else {
    // Unsigned use (curl against a standalone fake): who you claim to be is who you are.
    owner = deps.store.tables.accessKeys.get(accessKeyId)?.owner ?? owner;
    if (params['time_stamp'] !== undefined) checkTimestamp(params['time_stamp'], now, deps.timestampWindowSec);
  }
  const version = params['version'];
  if (version !== undefined && version !== '1') throw badParam(`version [${version}] is not supported, use 1`);
  const zone = params['zone'] ?? '';
  if (zone === '' && !ZONELESS_ACTIONS.has(action)) throw missingParam('zone');
  if (zone !== '' && !deps.store.zones.includes(zone)) {
    throw new FakeApiError(deps.unknownZoneRetCode, `zone [${zone}] does not exist`);
  }

  const limited = deps.rateLimiter.take(action, accessKeyId, deps.clock.nowMs());
  if (limited) {
    entry.rateLimited = limited.id;
    const code = limited.retCode ?? 2500;
    if (limited.message !== undefined) return errorEnvelope(code, limited.message);
    throw new FakeApiError(code, `api request rate limit of ${limited.ratePerSecond}/s exceeded`);
  }
  if (rule?.retCode !== undefined) {
    if (rule.message !== undefined) return errorEnvelope(rule.retCode, rule.message);
    throw new FakeApiError(rule.retCode, 'injected fault, please try again later');
  }

  const ctx: ActionContext = {
    action,
    params: new ApiParams(params),
    store: deps.store,
    ids: deps.ids,
    settings: deps.settings,
    owner,
    zone,
    nowIso: formatTimestamp(now),
    nowMs: deps.clock.nowMs(),
    requestSeq: entry.seq,
    jobFault: rule?.job,
    lagMs: rule?.lagMs ?? 0,
    jobs: deps.jobs,
  };
  const fields = deps.store.mutate(ctx.lagMs, ctx.nowMs, () => handler(ctx));
  return successEnvelope(action, fields);
}
