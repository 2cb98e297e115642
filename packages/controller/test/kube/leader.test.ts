import { afterEach, describe, expect, test } from 'vitest';
import { InvalidOptionError } from '@hostnic/runtime';
import { AlreadyRunningError } from '../../src/kube/errors.ts';
import { LeaderElector, microTime } from '../../src/kube/leader.ts';
import type { Lease } from '../../src/kube/objects.ts';
import type { LeaderElectorOptions } from '../../src/kube/leader.ts';
import { delay, eventually, startKube } from './harness.ts';
import type { Kube } from './harness.ts';

const LEASE = { namespace: 'kube-system', name: 'hostnic-controller' };
/** Whole seconds: the Lease records its duration in seconds. */
const FAST = { leaseDurationMs: 1000, renewDeadlineMs: 500, retryPeriodMs: 50 };

let kube: Kube | undefined;
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await kube?.close();
  kube = undefined;
});

interface Replica {
  elector: LeaderElector;
  log: string[];
  /** Aborted when leadership ends. */
  leaderSignals: AbortSignal[];
  stop(): Promise<void>;
}

function replica(k: Kube, identity: string, options: Partial<LeaderElectorOptions> = {}): Replica {
  const elector = new LeaderElector({ client: k.newClient(), ...LEASE, ...FAST, identity, ...options });
  const log: string[] = [];
  const leaderSignals: AbortSignal[] = [];
  const controller = new AbortController();
  const running = elector.run(controller.signal, {
    onStartedLeading: (signal) => {
      log.push('started');
      leaderSignals.push(signal);
    },
    onStoppedLeading: () => log.push('stopped'),
    onNewLeader: (id) => log.push(`leader:${id}`),
  });
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    controller.abort();
    await running;
  };
  cleanups.push(stop);
  return { elector, log, leaderSignals, stop };
}

/** Samples both replicas every few milliseconds; records who led when, and any instant with two leaders. */
function watchLeaders(replicas: Replica[]) {
  const state = { both: 0, samples: 0, timeline: [] as string[] };
  let last = '';
  const timer = setInterval(() => {
    const leaders = replicas.filter((r) => r.elector.isLeader()).map((r) => r.elector.identity);
    state.samples++;
    if (leaders.length > 1) state.both++;
    const now = leaders.join(',') || '-';
    if (now !== last) state.timeline.push(now);
    last = now;
  }, 2);
  cleanups.push(() => clearInterval(timer));
  return state;
}

async function readLease(k: Kube): Promise<Lease> {
  return k.client.get<Lease>(`/apis/coordination.k8s.io/v1/namespaces/${LEASE.namespace}/leases/${LEASE.name}`);
}

describe('LeaderElector', () => {
  test('of two replicas exactly one leads, and both learn who', async () => {
    kube = await startKube();
    const a = replica(kube, 'a');
    const b = replica(kube, 'b');
    const sample = watchLeaders([a, b]);
    await eventually(() => a.elector.isLeader() || b.elector.isLeader(), 'a leader');
    const [leader, follower] = a.elector.isLeader() ? [a, b] : [b, a];
    await delay(300);
    expect(leader.elector.isLeader()).toBe(true);
    expect(follower.elector.isLeader()).toBe(false);
    expect(leader.log).toEqual([`leader:${leader.elector.identity}`, 'started']);
    expect(follower.log).toEqual([`leader:${leader.elector.identity}`]);
    expect(follower.elector.observedLeader).toBe(leader.elector.identity);
    const lease = await readLease(kube);
    expect(lease.spec?.holderIdentity).toBe(leader.elector.identity);
    expect(lease.spec?.leaseDurationSeconds).toBe(1);
    expect(lease.spec?.leaseTransitions).toBe(0);
    expect(sample.both).toBe(0);
    expect(sample.timeline).toEqual(['-', leader.elector.identity]);
  });

  test('renewTime and acquireTime are MicroTimes, and renewals keep acquireTime', async () => {
    kube = await startKube();
    const a = replica(kube, 'a');
    await eventually(() => a.elector.isLeader(), 'a leads');
    const k = kube;
    const rvOf = (): string | undefined => k.server.get('leases', LEASE.name, LEASE.namespace)?.metadata?.resourceVersion;
    const first = k.server.get('leases', LEASE.name, LEASE.namespace);
    const firstRv = rvOf();
    await eventually(() => rvOf() !== firstRv, 'a renewal');
    const renewed = kube.server.get('leases', LEASE.name, LEASE.namespace) as unknown as { spec: Record<string, unknown> };
    const micro = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
    expect(renewed.spec['renewTime']).toMatch(micro);
    expect(renewed.spec['acquireTime']).toMatch(micro);
    expect(renewed.spec['acquireTime']).toBe((first as unknown as { spec: Record<string, unknown> }).spec['acquireTime']);
    expect(renewed.spec['renewTime']).not.toBe(renewed.spec['acquireTime']);
    // What the apiserver hands back parses to the time we wrote.
    const lease = await readLease(kube);
    expect(Number.isNaN(Date.parse(String(lease.spec?.renewTime)))).toBe(false);
  });

  test('a leader that stops releases the lease and the other takes over long before it would expire', async () => {
    kube = await startKube();
    const k = kube;
    // A 30 s lease: without the release the takeover could not happen within this test.
    const slow = { leaseDurationMs: 30_000, renewDeadlineMs: 500, retryPeriodMs: 50 };
    const a = replica(k, 'a', slow);
    await eventually(() => a.elector.isLeader(), 'a leads');
    const b = replica(k, 'b', slow);
    const sample = watchLeaders([a, b]);
    await eventually(() => b.log.includes('leader:a'), 'b sees a');
    const acquiredByA = (await readLease(k)).spec?.acquireTime;
    await a.stop();
    expect(a.elector.isLeader()).toBe(false);
    expect(a.log).toEqual(['leader:a', 'started', 'stopped']);
    expect(a.leaderSignals[0]?.aborted).toBe(true);
    // 15 s: well inside the 30 s lease, so only the release can explain the takeover.
    await eventually(() => b.elector.isLeader(), 'b takes over', 15_000);
    expect(b.log).toEqual(['leader:a', 'leader:b', 'started']);
    const lease = await readLease(k);
    expect(lease.spec?.holderIdentity).toBe('b');
    expect(lease.spec?.leaseTransitions).toBe(1);
    expect(lease.spec?.leaseDurationSeconds).toBe(30);
    expect(String(lease.spec?.acquireTime)).not.toBe(String(acquiredByA));
    expect(sample.both).toBe(0);
  });

  test('release leaves an empty holder and a one-second duration', async () => {
    kube = await startKube();
    const a = replica(kube, 'a');
    await eventually(() => a.elector.isLeader(), 'a leads');
    await a.stop();
    const lease = await readLease(kube);
    expect(lease.spec?.holderIdentity ?? '').toBe('');
    expect(lease.spec?.leaseDurationSeconds).toBe(1);
    expect(lease.spec?.leaseTransitions).toBe(0);
    // The next holder counts a transition.
    const b = replica(kube, 'b');
    await eventually(() => b.elector.isLeader(), 'b leads');
    expect((await readLease(kube)).spec?.leaseTransitions).toBe(1);
  });

  test('a leader that cannot renew stops being leader before the other replica may take over', async () => {
    kube = await startKube();
    const k = kube;
    const a = replica(k, 'a');
    await eventually(() => a.elector.isLeader(), 'a leads');
    const b = replica(k, 'b');
    await eventually(() => b.log.includes('leader:a'), 'b sees a');
    const sample = watchLeaders([a, b]);
    // Only a's writes fail, as if a were cut off from the apiserver while b is not.
    const heal = k.server.faults.fail(
      (info) => info.resource === 'leases' && info.verb === 'update' && JSON.stringify(info.body ?? null).includes('"holderIdentity":"a"'),
      503,
    );
    await eventually(() => b.elector.isLeader(), 'b takes over', 20_000);
    heal();
    expect(a.elector.isLeader()).toBe(false);
    await eventually(() => a.log.includes('leader:b'), 'a sees b');
    expect(a.log).toEqual(['leader:a', 'started', 'stopped', 'leader:b']);
    expect(a.leaderSignals[0]?.aborted).toBe(true);
    expect(sample.both).toBe(0);
    // a lost the fence first, then nobody led for a while, then b (once the sampler, a second view, saw b too).
    await eventually(() => sample.timeline.at(-1) === 'b', 'the sampler sees b lead', 20_000);
    expect(sample.timeline.slice(-3)).toEqual(['a', '-', 'b']);
    // a campaigns again but stays a follower while b renews.
    await delay(300);
    expect(a.elector.isLeader()).toBe(false);
    expect(b.elector.isLeader()).toBe(true);
    expect((await readLease(k)).spec?.leaseTransitions).toBe(1);
  });

  test('clock skew between replicas does not shorten the wait: only local time since the last change counts', async () => {
    kube = await startKube();
    const a = replica(kube, 'a', { now: () => Date.now() - 3_600_000 });
    await eventually(() => a.elector.isLeader(), 'a leads');
    // b's clock is two hours ahead of a's: a's renewTime looks ancient to it.
    const b = replica(kube, 'b', { now: () => Date.now() + 3_600_000 });
    const sample = watchLeaders([a, b]);
    await delay(1500);
    expect(b.elector.isLeader()).toBe(false);
    expect(b.log).toEqual(['leader:a']);
    expect(sample.both).toBe(0);
  });

  test('simultaneous creation: the loser of the 409 follows', async () => {
    kube = await startKube();
    const replicas = ['a', 'b', 'c'].map((id) => replica(kube as Kube, id));
    const sample = watchLeaders(replicas);
    await eventually(() => replicas.some((r) => r.elector.isLeader()), 'a leader');
    await delay(200);
    expect(replicas.filter((r) => r.elector.isLeader()).length).toBe(1);
    expect(sample.both).toBe(0);
    const creates = kube.server.requestLog({ verb: 'create', resource: 'leases' });
    expect(creates.filter((c) => c.status === 201).length).toBe(1);
  });

  test('options are validated, naming the field', () => {
    const unused = (): Promise<never> => Promise.reject(new Error('no request expected'));
    const base = { client: { get: unused, create: unused, replace: unused }, ...LEASE, identity: 'a' };
    const fieldOf = (options: Partial<LeaderElectorOptions>): string | undefined => {
      try {
        new LeaderElector({ ...base, ...options });
        return undefined;
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidOptionError);
        return (error as InvalidOptionError).field;
      }
    };
    expect(fieldOf({ leaseDurationMs: 10_000, renewDeadlineMs: 10_000 })).toBe('leaseDurationMs');
    expect(fieldOf({ renewDeadlineMs: 2000, retryPeriodMs: 2000 })).toBe('renewDeadlineMs');
    expect(fieldOf({ retryPeriodMs: 0 })).toBe('retryPeriodMs');
    expect(fieldOf({ identity: '' })).toBe('identity');
    expect(fieldOf({})).toBeUndefined();
  });

  test('Lease times are MicroTime: six fractional digits, as the apiserver requires', () => {
    expect(microTime(Date.parse('2026-12-07T12:00:00.123Z'))).toBe('2026-12-07T12:00:00.123000Z');
    expect(microTime(Date.parse('2026-12-07T12:00:00Z'))).toBe('2026-12-07T12:00:00.000000Z');
  });

  test('run() twice at once is refused', async () => {
    kube = await startKube();
    const a = replica(kube, 'a');
    await expect(a.elector.run(new AbortController().signal, { onStartedLeading: () => undefined })).rejects.toBeInstanceOf(AlreadyRunningError);
  });
});
