/**
 * The unsigned control API under `/__fake/`: the same seeding, inspection, fault and clock operations as
 * the typed `FakeQingCloud` interface, as JSON over HTTP for harnesses in other processes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { FakeInputError } from './errors.ts';
import type { FakeQingCloud } from './fake.ts';
// The typed methods validate their input at run time, so handing them unchecked JSON is safe.
import type {
  AccessKeyInput,
  ClusterInput,
  FaultRule,
  HostEvent,
  InstanceInput,
  NicInput,
  Quotas,
  RateLimitRule,
  SecurityGroupInput,
  TagInput,
  VxnetInput,
} from './types.ts';
import { Reader } from './validate.ts';

export const CONTROL_PREFIX = '/__fake';

export interface ControlDeps {
  fake: FakeQingCloud;
  /** Lets an event stream survive a `refuse` fault. */
  keepOnRefuse: (socket: Socket) => void;
  log: (line: string) => void;
}

class HttpProblem extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new FakeInputError('(body)', `is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function msField(body: unknown, allowNegative: boolean): number {
  const r = new Reader(body, '');
  const ms = r.number('ms', allowNegative ? {} : { min: 0 });
  r.done();
  return ms;
}

/** Host events on the wire use the API's snake_case, like everything else the fake serves. */
export function hostEventWire(event: HostEvent): Record<string, string> {
  return { event: event.event, nic_id: event.nicId, instance_id: event.instanceId, vxnet_id: event.vxnetId };
}

function streamEvents(req: IncomingMessage, res: ServerResponse, url: URL, deps: ControlDeps): void {
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-cache' });
  res.flushHeaders();
  deps.keepOnRefuse(req.socket);
  if (url.searchParams.get('replay') === '1') {
    for (const event of deps.fake.events()) res.write(`${JSON.stringify(hostEventWire(event))}\n`);
  }
  const unsubscribe = deps.fake.onHostEvent((event) => {
    if (!res.destroyed) res.write(`${JSON.stringify(hostEventWire(event))}\n`);
  });
  res.on('close', unsubscribe);
}

type Route = (body: unknown, url: URL) => unknown;

const CREATES: ReadonlySet<string> = new Set([
  '/faults',
  '/rate-limits',
  '/access-keys',
  '/instances',
  '/vxnets',
  '/nics',
  '/security-groups',
  '/clusters',
  '/tags',
]);

function routes(fake: FakeQingCloud): Record<string, Route> {
  return {
    'GET /state': () => fake.getState(),
    'POST /state': (body) => {
      fake.replaceState(body);
      return fake.getState();
    },
    'POST /reset': () => {
      fake.reset();
      return { ok: true };
    },
    'GET /faults': () => fake.faults.list(),
    'POST /faults': (body) => ({ id: fake.faults.add(body as FaultRule) }),
    'DELETE /faults': () => {
      fake.faults.clear();
      return { ok: true };
    },
    'GET /rate-limits': () => fake.rateLimits.list(),
    'POST /rate-limits': (body) => ({ id: fake.rateLimits.add(body as RateLimitRule) }),
    'DELETE /rate-limits': () => {
      fake.rateLimits.clear();
      return { ok: true };
    },
    'GET /clock': () => ({ now: fake.clock.now().toISOString(), skewMs: fake.clock.skewMs, mode: fake.clock.mode }),
    'POST /clock/skew': (body) => {
      fake.clock.setSkew(msField(body, true));
      return { now: fake.clock.now().toISOString(), skewMs: fake.clock.skewMs };
    },
    'POST /clock/set': (body) => {
      const r = new Reader(body, '');
      const time = r.string('time');
      r.done();
      if (Number.isNaN(new Date(time).getTime())) throw new FakeInputError('time', 'must be an ISO 8601 time');
      fake.clock.set(time);
      return { now: fake.clock.now().toISOString() };
    },
    'GET /requests': (_body, url) => fake.requests({ action: url.searchParams.get('action') ?? undefined }),
    'GET /events/history': () => fake.events().map(hostEventWire),
    'POST /quotas': (body) => fake.setQuota(body as Partial<Quotas>),
    'POST /access-keys': (body) => fake.addAccessKey(body as AccessKeyInput),
    'GET /access-keys': () => fake.accessKeys(),
    'POST /instances': (body) => fake.addInstance(body as InstanceInput),
    'GET /instances': () => fake.instances(),
    'POST /vxnets': (body) => fake.addVxnet(body as VxnetInput),
    'GET /vxnets': () => fake.vxnets(),
    'POST /nics': (body) => fake.addNic(body as NicInput),
    'GET /nics': () => fake.nics(),
    'POST /security-groups': (body) => fake.addSecurityGroup(body as SecurityGroupInput),
    'GET /security-groups': () => fake.securityGroups(),
    'POST /clusters': (body) => fake.addCluster(body as ClusterInput),
    'GET /clusters': () => fake.clusters(),
    'POST /tags': (body) => fake.addTag(body as TagInput),
    'GET /tags': () => fake.tags(),
    'GET /jobs': () => fake.jobs(),
    'GET /vips': () => fake.vips(),
  };
}

/** Routes with an id in the path. */
async function routeWithId(method: string, path: string, body: () => Promise<unknown>, fake: FakeQingCloud): Promise<unknown> {
  let match = /^\/(faults|rate-limits)\/([^/]+)$/.exec(path);
  if (match && method === 'DELETE') {
    const id = decodeURIComponent(match[2] ?? '');
    const removed = match[1] === 'faults' ? fake.faults.remove(id) : fake.rateLimits.remove(id);
    if (!removed) throw new HttpProblem(404, `no ${match[1] === 'faults' ? 'fault rule' : 'rate limit'} with id ${id}`);
    return { ok: true };
  }
  match = /^\/instances\/([^/]+)\/status$/.exec(path);
  if (match && method === 'POST') {
    const r = new Reader(await body(), '');
    const status = r.string('status');
    r.done();
    return fake.setInstanceStatus(decodeURIComponent(match[1] ?? ''), status);
  }
  return undefined;
}

/** Clock advance is the one asynchronous operation: it resolves when due transitions have run. */
async function advance(body: unknown, fake: FakeQingCloud): Promise<unknown> {
  await fake.clock.advance(msField(body, false));
  return { now: fake.clock.now().toISOString() };
}

export async function handleControl(req: IncomingMessage, res: ServerResponse, deps: ControlDeps): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://fake.invalid');
  const path = url.pathname.slice(CONTROL_PREFIX.length) || '/';
  const method = req.method ?? 'GET';
  try {
    if (method === 'GET' && path === '/events') {
      streamEvents(req, res, url, deps);
      return;
    }
    let result: unknown;
    if (method === 'POST' && path === '/clock/advance') {
      result = await advance(await readJson(req), deps.fake);
    } else {
      const route = routes(deps.fake)[`${method} ${path}`];
      if (route !== undefined) {
        result = route(method === 'GET' || method === 'DELETE' ? {} : await readJson(req), url);
      } else {
        result = await routeWithId(method, path, () => readJson(req), deps.fake);
        if (result === undefined) throw new HttpProblem(404, `no control route ${method} ${CONTROL_PREFIX}${path}`);
      }
    }
    sendJson(res, method === 'POST' && CREATES.has(path) ? 201 : 200, result);
  } catch (err) {
    if (err instanceof FakeInputError) {
      sendJson(res, 400, { error: err.message, field: err.field });
    } else if (err instanceof HttpProblem) {
      sendJson(res, err.status, { error: err.message });
    } else {
      deps.log(`control ${method} ${path} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      sendJson(res, 500, { error: err instanceof Error ? err.message : String(err) });
    }
  }
}
