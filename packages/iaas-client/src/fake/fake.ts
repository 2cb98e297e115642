/** Composition of the fake: options, state, clock, jobs, faults and the HTTP listener. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ActionSettings } from './actions/context.ts';
import { handleApi } from './api-handler.ts';
import type { ApiDeps } from './api-handler.ts';
import { FakeClock } from './clock.ts';
import { CONTROL_PREFIX, handleControl } from './control.ts';
import { FakeInputError } from './errors.ts';
import { FaultBook } from './faults.ts';
import { HostEventHub } from './host-events.ts';
import type { HostEventListener } from './host-events.ts';
import { JobEngine } from './jobs.ts';
import { Listener } from './listener.ts';
import { IdGenerator, SeededRandom } from './random.ts';
import { RateLimiter } from './rate-limit.ts';
import type { StoredRateLimitRule } from './rate-limit.ts';
import {
  accessKeyFromInput,
  clusterFromInput,
  instanceFromInput,
  nicFromInput,
  securityGroupFromInput,
  tagFromInput,
  vxnetFromInput,
} from './records.ts';
import type { RecordContext } from './records.ts';
import { RequestLog } from './request-log.ts';
import { DEFAULT_OWNER, loadSnapshot, parseQuotas } from './state-io.ts';
import { FakeStore } from './store.ts';
import { formatTimestamp } from '../sign.ts';
import type {
  AccessKeyInput,
  AccessKeyRecord,
  ClockMode,
  ClusterInput,
  ClusterRecord,
  FakeQingCloudOptions,
  FakeStateSnapshot,
  FaultRule,
  FaultRuleStatus,
  HostEvent,
  InstanceInput,
  InstanceRecord,
  JobRecord,
  NicInput,
  NicRecord,
  Quotas,
  RateLimitRule,
  RequestLogEntry,
  SecurityGroupInput,
  SecurityGroupRecord,
  SecurityGroupRuleRecord,
  TagInput,
  TagRecord,
  VipRecord,
  VxnetInput,
  VxnetRecord,
} from './types.ts';

export const DEFAULT_ACCESS_KEY = { accessKeyId: 'QYACCESSKEYIDEXAMPLE', secretAccessKey: 'SECRETACCESSKEY', owner: DEFAULT_OWNER } as const;

export type AddedInstance = InstanceRecord & { primary_nic_id: string };
export type AddedSecurityGroup = SecurityGroupRecord & { rules: SecurityGroupRuleRecord[] };

export interface FakeClockControl {
  readonly mode: ClockMode;
  readonly skewMs: number;
  now(): Date;
  /** Moves time forward and runs every job transition that falls due, in order. */
  advance(ms: number): Promise<void>;
  /** Jumps to a time (e.g. a recorded request's time_stamp) without running anything. */
  set(time: Date | string | number): void;
  setSkew(ms: number): void;
  /** Resolves once transitions that are already due (realtime timers) have run. */
  idle(): Promise<void>;
}

export interface FakeQingCloud {
  readonly url: string;
  readonly endpoint: { protocol: 'http'; host: string; port: number; uri: '/iaas' };
  /** The first access key, and the default zone: what a client config needs. */
  readonly accessKey: { accessKeyId: string; secretAccessKey: string; owner: string };
  readonly zone: string;

  addAccessKey(input?: AccessKeyInput): AccessKeyRecord;
  addInstance(input?: InstanceInput): AddedInstance;
  addVxnet(input?: VxnetInput): VxnetRecord;
  addNic(input: NicInput): NicRecord;
  addSecurityGroup(input?: SecurityGroupInput): AddedSecurityGroup;
  addCluster(input?: ClusterInput): ClusterRecord;
  addTag(input?: TagInput): TagRecord;
  setQuota(quotas: Partial<Quotas>): Quotas;
  setInstanceStatus(instanceId: string, status: string): InstanceRecord;
  getState(): FakeStateSnapshot;
  /** Validates completely before replacing anything; unfinished jobs are rescheduled. */
  replaceState(snapshot: unknown): void;

  accessKeys(): AccessKeyRecord[];
  instances(): InstanceRecord[];
  vxnets(): VxnetRecord[];
  nics(): NicRecord[];
  jobs(): JobRecord[];
  vips(): VipRecord[];
  securityGroups(): SecurityGroupRecord[];
  securityGroupRules(): SecurityGroupRuleRecord[];
  tags(): TagRecord[];
  clusters(): ClusterRecord[];

  readonly faults: {
    add(rule: FaultRule): string;
    remove(id: string): boolean;
    clear(): void;
    list(): FaultRuleStatus[];
  };
  readonly rateLimits: {
    add(rule: RateLimitRule): string;
    remove(id: string): boolean;
    clear(): void;
    list(): StoredRateLimitRule[];
  };
  /** Shorthand for `rateLimits.add`. */
  setRateLimit(rule: RateLimitRule): string;
  readonly clock: FakeClockControl;

  requests(filter?: { action?: string | undefined }): RequestLogEntry[];
  /** Host events delivered so far. */
  events(): HostEvent[];
  onHostEvent(listener: HostEventListener): () => void;
  /** Back to the initial state: no faults, no log, clock at its start, ids from the seed again. */
  reset(): void;
  close(): Promise<void>;
}

interface Resolved {
  host: string;
  port: number;
  zones: string[];
  seed: number;
  accessKeys: { accessKeyId: string; secretAccessKey: string; owner: string }[];
  pendingMs: number;
  workMs: number;
  verifySignature: boolean;
  timestampWindowSec: number;
  unknownZoneRetCode: number;
  plusIsSpace: boolean;
  settings: ActionSettings;
  log: (line: string) => void;
}

function resolve(options: FakeQingCloudOptions): Resolved {
  const nonNegative = (name: string, value: number | undefined, fallback: number): number => {
    const v = value ?? fallback;
    if (!Number.isFinite(v) || v < 0) throw new FakeInputError(name, 'must be a non-negative number');
    return v;
  };
  const keys = (options.accessKeys ?? [DEFAULT_ACCESS_KEY]).map((k) => ({ ...k, owner: k.owner ?? DEFAULT_OWNER }));
  if (keys.length === 0) throw new FakeInputError('accessKeys', 'must hold at least one key');
  const zones = options.zones ?? ['pek3a'];
  if (zones.length === 0) throw new FakeInputError('zones', 'must name at least one zone');
  const maxLimit = options.maxLimit ?? 100;
  if (!Number.isInteger(maxLimit) || maxLimit < 1) throw new FakeInputError('maxLimit', 'must be a positive integer');
  return {
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    zones,
    seed: options.seed ?? 1,
    accessKeys: keys,
    pendingMs: nonNegative('jobDurations.pendingMs', options.jobDurations?.pendingMs, 0),
    workMs: nonNegative('jobDurations.workMs', options.jobDurations?.workMs, 2000),
    verifySignature: options.verifySignature ?? true,
    timestampWindowSec: nonNegative('timestampWindowSec', options.timestampWindowSec, 60),
    unknownZoneRetCode: options.unknownZoneRetCode ?? 1100,
    plusIsSpace: options.plusIsSpace ?? false,
    settings: {
      maxLimit,
      oneNicPerVxnetPerInstance: options.oneNicPerVxnetPerInstance ?? false,
      describeJobsUnknownIsError: options.describeJobsUnknownIsError ?? true,
      hideVxnetType2ByDefault: options.hideVxnetType2ByDefault ?? true,
      vipsVisibleImmediately: options.vipsVisibleImmediately ?? false,
      noFreeIpRetCode: options.noFreeIpRetCode ?? 2500,
    },
    log: options.log ?? (() => undefined),
  };
}

function startTimeOf(value: Date | string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = new Date(value).getTime();
  if (Number.isNaN(ms)) throw new FakeInputError('startTime', 'must be a valid time');
  return ms;
}

class FakeServer implements FakeQingCloud {
  readonly #options: FakeQingCloudOptions;
  readonly #o: Resolved;
  readonly #idRandom: SeededRandom;
  readonly #ids: IdGenerator;
  readonly #store = new FakeStore();
  readonly #clockImpl: FakeClock;
  readonly #hub: HostEventHub;
  readonly #log = new RequestLog();
  readonly #faults: FaultBook;
  readonly #rateLimiter = new RateLimiter();
  readonly #jobs: JobEngine;
  readonly #listener: Listener;
  readonly #apiDeps: ApiDeps;

  constructor(options: FakeQingCloudOptions) {
    this.#options = options;
    this.#o = resolve(options);
    const log = this.#o.log;
    this.#idRandom = new SeededRandom(this.#o.seed, 'ids');
    this.#ids = new IdGenerator(this.#idRandom);
    this.#clockImpl = new FakeClock(options.clock ?? 'realtime', startTimeOf(options.startTime), (err) =>
      log(`scheduled work failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`));
    this.#hub = new HostEventHub(options.hostHook);
    this.#faults = new FaultBook(new SeededRandom(this.#o.seed, 'faults'));
    this.#jobs = new JobEngine({
      store: this.#store,
      clock: this.#clockImpl,
      ids: this.#ids,
      hub: this.#hub,
      durations: () => ({ pendingMs: this.#o.pendingMs, workMs: this.#o.workMs }),
      hookFailureFailsJob: options.hookFailureFailsJob ?? false,
      note: (seq, text) => {
        log(text);
        this.#log.note(seq, text);
      },
    });
    this.#listener = new Listener((req, res) => this.#route(req, res), this.#o.host, this.#o.port, log);
    this.#apiDeps = {
      store: this.#store,
      clock: this.#clockImpl,
      ids: this.#ids,
      faults: this.#faults,
      rateLimiter: this.#rateLimiter,
      requestLog: this.#log,
      jobs: this.#jobs,
      random: new SeededRandom(this.#o.seed, 'latency'),
      settings: this.#o.settings,
      verifySignature: this.#o.verifySignature,
      timestampWindowSec: this.#o.timestampWindowSec,
      unknownZoneRetCode: this.#o.unknownZoneRetCode,
      plusIsSpace: this.#o.plusIsSpace,
      defaultOwner: () => this.#defaultOwner(),
      refuse: (ms) => this.#listener.refuse(ms),
      log,
    };
    this.#initialize();
  }

  async start(): Promise<void> {
    await this.#listener.start();
  }

  get url(): string {
    const host = this.#o.host.includes(':') ? `[${this.#o.host}]` : this.#o.host;
    return `http://${host}:${this.#listener.port}`;
  }

  get endpoint(): FakeQingCloud['endpoint'] {
    return { protocol: 'http', host: this.#o.host, port: this.#listener.port, uri: '/iaas' };
  }

  get accessKey(): FakeQingCloud['accessKey'] {
    const first = [...this.#store.tables.accessKeys.values()][0];
    return first
      ? { accessKeyId: first.access_key_id, secretAccessKey: first.secret_access_key, owner: first.owner }
      : { ...DEFAULT_ACCESS_KEY };
  }

  get zone(): string {
    return this.#store.zones[0] ?? '';
  }

  // ---- seeding ----

  #recordContext(): RecordContext {
    return {
      store: this.#store,
      ids: this.#ids,
      nowIso: formatTimestamp(this.#clockImpl.now()),
      owner: this.#defaultOwner(),
      zone: this.zone,
    };
  }

  #defaultOwner(): string {
    return [...this.#store.tables.accessKeys.values()][0]?.owner ?? DEFAULT_OWNER;
  }

  addAccessKey(input: AccessKeyInput = {}): AccessKeyRecord {
    const key = accessKeyFromInput(input, '', this.#recordContext());
    this.#store.tables.accessKeys.set(key.access_key_id, key);
    return structuredClone(key);
  }

  addInstance(input: InstanceInput = {}): AddedInstance {
    const { instance, primaryNic } = instanceFromInput(input, '', this.#recordContext(), 'create');
    this.#store.tables.instances.set(instance.instance_id, instance);
    if (primaryNic) this.#store.tables.nics.set(primaryNic.nic_id, primaryNic);
    return structuredClone({ ...instance, primary_nic_id: primaryNic?.nic_id ?? '' });
  }

  addVxnet(input: VxnetInput = {}): VxnetRecord {
    const vxnet = vxnetFromInput(input, '', this.#recordContext());
    this.#store.tables.vxnets.set(vxnet.vxnet_id, vxnet);
    return structuredClone(vxnet);
  }

  addNic(input: NicInput): NicRecord {
    const nic = nicFromInput(input, '', this.#recordContext(), 'create');
    this.#store.tables.nics.set(nic.nic_id, nic);
    return structuredClone(nic);
  }

  addSecurityGroup(input: SecurityGroupInput = {}): AddedSecurityGroup {
    const { group, rules } = securityGroupFromInput(input, '', this.#recordContext());
    this.#store.tables.securityGroups.set(group.security_group_id, group);
    for (const rule of rules) this.#store.tables.securityGroupRules.set(rule.security_group_rule_id, rule);
    return structuredClone({ ...group, rules });
  }

  addCluster(input: ClusterInput = {}): ClusterRecord {
    const cluster = clusterFromInput(input, '', this.#recordContext());
    this.#store.tables.clusters.set(cluster.cluster_id, cluster);
    return structuredClone(cluster);
  }

  addTag(input: TagInput = {}): TagRecord {
    const tag = tagFromInput(input, '', this.#recordContext());
    this.#store.tables.tags.set(tag.tag_id, tag);
    return structuredClone(tag);
  }

  setQuota(quotas: Partial<Quotas>): Quotas {
    this.#store.quotas = parseQuotas(quotas, this.#store.quotas);
    return { ...this.#store.quotas };
  }

  setInstanceStatus(instanceId: string, status: string): InstanceRecord {
    const instance = this.#store.tables.instances.get(instanceId);
    if (instance === undefined) throw new FakeInputError('instance_id', `instance ${instanceId} does not exist`);
    if (typeof status !== 'string' || status === '') throw new FakeInputError('status', 'must be a non-empty string');
    instance.status = status;
    return structuredClone(instance);
  }

  getState(): FakeStateSnapshot {
    return this.#store.snapshot();
  }

  replaceState(snapshot: unknown): void {
    const loaded = loadSnapshot(snapshot, this.#ids, formatTimestamp(this.#clockImpl.now()), this.#o.zones);
    this.#clockImpl.cancelAll();
    this.#store.generation++;
    this.#store.tables = loaded.tables;
    this.#store.zones = loaded.zones;
    this.#store.quotas = loaded.quotas;
    this.#store.lag.clear();
    this.#jobs.scheduleAll();
  }

  // ---- inspection ----

  accessKeys(): AccessKeyRecord[] {
    return structuredClone([...this.#store.tables.accessKeys.values()]);
  }
  instances(): InstanceRecord[] {
    return structuredClone([...this.#store.tables.instances.values()]);
  }
  vxnets(): VxnetRecord[] {
    return structuredClone([...this.#store.tables.vxnets.values()]);
  }
  nics(): NicRecord[] {
    return structuredClone([...this.#store.tables.nics.values()]);
  }
  jobs(): JobRecord[] {
    return structuredClone([...this.#store.tables.jobs.values()]);
  }
  vips(): VipRecord[] {
    return structuredClone([...this.#store.tables.vips.values()]);
  }
  securityGroups(): SecurityGroupRecord[] {
    return structuredClone([...this.#store.tables.securityGroups.values()]);
  }
  securityGroupRules(): SecurityGroupRuleRecord[] {
    return structuredClone([...this.#store.tables.securityGroupRules.values()]);
  }
  tags(): TagRecord[] {
    return structuredClone([...this.#store.tables.tags.values()]);
  }
  clusters(): ClusterRecord[] {
    return structuredClone([...this.#store.tables.clusters.values()]);
  }

  readonly faults: FakeQingCloud['faults'] = {
    add: (rule) => this.#faults.add(rule),
    remove: (id) => this.#faults.remove(id),
    clear: () => this.#faults.clear(),
    list: () => this.#faults.list(),
  };

  readonly rateLimits: FakeQingCloud['rateLimits'] = {
    add: (rule) => this.#rateLimiter.add(rule),
    remove: (id) => this.#rateLimiter.remove(id),
    clear: () => this.#rateLimiter.clear(),
    list: () => this.#rateLimiter.list(),
  };

  setRateLimit(rule: RateLimitRule): string {
    return this.#rateLimiter.add(rule);
  }

  get clock(): FakeClockControl {
    const clock = this.#clockImpl;
    return {
      mode: clock.mode,
      skewMs: clock.skewMs,
      now: () => clock.now(),
      advance: (ms) => clock.advance(ms),
      set: (time) => clock.set(time),
      setSkew: (ms) => {
        if (!Number.isFinite(ms)) throw new FakeInputError('ms', 'must be a finite number');
        clock.setSkew(ms);
      },
      idle: () => clock.idle(),
    };
  }

  requests(filter: { action?: string | undefined } = {}): RequestLogEntry[] {
    return this.#log.list(filter.action === undefined ? {} : { action: filter.action });
  }

  events(): HostEvent[] {
    return this.#hub.history();
  }

  onHostEvent(listener: HostEventListener): () => void {
    return this.#hub.subscribe(listener);
  }

  reset(): void {
    this.#clockImpl.reset();
    this.#idRandom.reset();
    this.#faults.clear();
    this.#rateLimiter.clear();
    this.#log.clear();
    this.#hub.clearHistory();
    this.#initialize();
  }

  async close(): Promise<void> {
    this.#clockImpl.cancelAll();
    await this.#listener.close();
  }

  /** The state the fake starts with and `reset()` returns to. */
  #initialize(): void {
    this.#store.clear();
    this.#store.zones = [...this.#o.zones];
    if (this.#options.quotas) this.#store.quotas = parseQuotas(this.#options.quotas, this.#store.quotas);
    if (this.#options.state !== undefined) {
      this.replaceState(this.#options.state);
    }
    // A state file brings its own keys; the option keys (or the default key) fill in when it has none
    // or when the caller asked for specific keys explicitly.
    const addOptionKeys = this.#options.state === undefined || this.#options.accessKeys !== undefined ||
      this.#store.tables.accessKeys.size === 0;
    for (const key of addOptionKeys ? this.#o.accessKeys : []) {
      if (!this.#store.tables.accessKeys.has(key.accessKeyId)) this.addAccessKey(key);
    }
    for (const rule of this.#options.rateLimits ?? []) this.#rateLimiter.add(rule);
  }

  #route(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const work = path === CONTROL_PREFIX || path.startsWith(`${CONTROL_PREFIX}/`)
      ? handleControl(req, res, { fake: this, keepOnRefuse: (s) => this.#listener.keepOnRefuse(s), log: this.#o.log })
      : path === '/iaas' || path === '/iaas/'
        ? handleApi(req, res, this.#apiDeps)
        : Promise.resolve(notFound(res, path));
    work.catch((err: unknown) => {
      this.#o.log(`request ${req.method ?? ''} ${req.url ?? ''} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('fake QingCloud internal error\n');
      } else {
        res.destroy();
      }
    });
  }
}

function notFound(res: ServerResponse, path: string): void {
  const body = `no such endpoint: ${path} (the API is at /iaas, the control API under ${CONTROL_PREFIX}/)\n`;
  res.writeHead(404, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Starts a fake QingCloud API server on loopback (port 0 = ephemeral by default). */
export async function startFakeQingCloud(options: FakeQingCloudOptions = {}): Promise<FakeQingCloud> {
  const fake = new FakeServer(options);
  await fake.start();
  return fake;
}
