import { afterEach, describe, expect, test } from 'vitest';
import type { KubeObject } from '@hostnic/sandbox/kube';
import { InvalidOptionError, silentLogger } from '@hostnic/runtime';
import type { Logger } from '@hostnic/runtime';
import { EventRecorder } from '../../src/kube/events.ts';
import type { EventRecorderOptions, EventSubject } from '../../src/kube/events.ts';
import { startKube } from './harness.ts';
import type { Kube } from './harness.ts';

let kube: Kube | undefined;
const recorders: EventRecorder[] = [];

afterEach(async () => {
  for (const recorder of recorders.splice(0)) await recorder.close(100);
  await kube?.close();
  kube = undefined;
});

const pod: EventSubject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'team-a', uid: 'uid-web-1', resourceVersion: '42' } };
const ippool: EventSubject = { apiVersion: 'network.qingcloud.com/v1alpha1', kind: 'IPPool', metadata: { name: 'vxnet-abc', uid: 'uid-pool' } };

/** A clock the test moves. */
function clock(start = Date.parse('2025-03-01T12:00:00Z')) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

function recorder(k: Kube, options: Partial<EventRecorderOptions> = {}): EventRecorder {
  if (!k.server.get('namespaces', 'team-a')) k.server.put('namespaces', { metadata: { name: 'team-a' }, status: { phase: 'Active' } });
  const r = new EventRecorder({ client: k.client, identity: 'hostnic-controller-0', ...options });
  recorders.push(r);
  return r;
}

function events(k: Kube, namespace: string): KubeObject[] {
  return k.server.list('events', { namespace });
}

describe('EventRecorder', () => {
  test('writes a core/v1 Event with the object reference, source and reporting fields', async () => {
    kube = await startKube();
    const c = clock();
    const r = recorder(kube, { now: c.now, host: 'node-1' });
    r.event(pod, 'Warning', 'AllocationFailed', 'no free IP in vxnet-abc');
    await r.flush();
    const [event, ...rest] = events(kube, 'team-a');
    expect(rest).toEqual([]);
    expect(event).toMatchObject({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { namespace: 'team-a' },
      involvedObject: { apiVersion: 'v1', kind: 'Pod', name: 'web-1', namespace: 'team-a', uid: 'uid-web-1', resourceVersion: '42' },
      type: 'Warning',
      reason: 'AllocationFailed',
      message: 'no free IP in vxnet-abc',
      source: { component: 'hostnic-controller', host: 'node-1' },
      reportingComponent: 'hostnic-controller',
      reportingInstance: 'hostnic-controller-0',
      count: 1,
      firstTimestamp: '2025-03-01T12:00:00.000Z',
      lastTimestamp: '2025-03-01T12:00:00.000Z',
    });
    expect(event?.metadata?.name).toMatch(/^web-1\.[0-9a-f]+$/);
    expect(r.stats).toEqual({ created: 1, aggregated: 0, dropped: 0, failed: 0 });
  });

  test('repeats within ten minutes bump count and lastTimestamp of the one Event', async () => {
    kube = await startKube();
    const c = clock();
    const r = recorder(kube, { now: c.now });
    r.event(pod, 'Normal', 'Allocated', 'assigned 10.0.0.5');
    c.advance(60_000);
    r.event(pod, 'Normal', 'Allocated', 'assigned 10.0.0.5');
    c.advance(60_000);
    r.event(pod, 'Normal', 'Allocated', 'assigned 10.0.0.5');
    r.event(pod, 'Normal', 'Allocated', 'assigned 10.0.0.6');
    r.event(pod, 'Warning', 'Allocated', 'assigned 10.0.0.5');
    await r.flush();
    const all = events(kube, 'team-a');
    expect(all.length).toBe(3);
    const repeated = all.find((e) => e['message'] === 'assigned 10.0.0.5' && e['type'] === 'Normal');
    expect(repeated).toMatchObject({ count: 3, firstTimestamp: '2025-03-01T12:00:00.000Z', lastTimestamp: '2025-03-01T12:02:00.000Z' });

    // Ten minutes after the last repeat it is a new Event.
    c.advance(10 * 60_000 + 1);
    r.event(pod, 'Normal', 'Allocated', 'assigned 10.0.0.5');
    await r.flush();
    expect(events(kube, 'team-a').length).toBe(4);
    expect(r.stats).toMatchObject({ created: 4, aggregated: 2, failed: 0 });
  });

  test('a repeat whose Event is gone creates a new one', async () => {
    kube = await startKube();
    const r = recorder(kube);
    r.event(pod, 'Normal', 'Allocated', 'x');
    await r.flush();
    const [first] = events(kube, 'team-a');
    kube.server.delete('events', first?.metadata?.name ?? '', 'team-a');
    r.event(pod, 'Normal', 'Allocated', 'x');
    await r.flush();
    const all = events(kube, 'team-a');
    expect(all.length).toBe(1);
    expect(all[0]?.['count']).toBe(1);
    expect(r.stats).toMatchObject({ created: 2, failed: 0 });
  });

  test('events of cluster-scoped objects go to the default namespace', async () => {
    kube = await startKube();
    const r = recorder(kube);
    r.event(ippool, 'Normal', 'Synced', 'pool ready');
    await r.flush();
    const [event] = events(kube, 'default');
    expect(event).toMatchObject({ metadata: { namespace: 'default' }, involvedObject: { kind: 'IPPool', name: 'vxnet-abc', uid: 'uid-pool' } });
    expect(event?.['involvedObject']).not.toHaveProperty('namespace');
  });

  test('apiserver failures are logged, never thrown', async () => {
    kube = await startKube();
    const warnings: string[] = [];
    const log: Logger = {
      ...silentLogger,
      warn: (message: string) => void warnings.push(message),
      with: () => log,
    };
    const r = recorder(kube, { log });
    kube.server.faults.fail({ verb: 'create', resource: 'events' }, 500);
    expect(() => r.event(pod, 'Warning', 'Boom', 'one')).not.toThrow();
    await r.flush();
    expect(r.stats).toMatchObject({ created: 0, failed: 1 });
    expect(warnings).toEqual(['writing an event failed']);
    // A malformed subject is logged too.
    expect(() => r.event({} as EventSubject, 'Normal', 'Odd', 'no metadata')).not.toThrow();
    await kube.server.close();
    expect(() => r.event(pod, 'Warning', 'Boom', 'two')).not.toThrow();
    await r.flush();
    expect(r.stats.failed).toBe(2);
  });

  test('a hot loop is limited per object: a burst, then one per refill period', async () => {
    kube = await startKube();
    const c = clock();
    const r = recorder(kube, { now: c.now, rateLimit: { burst: 5, refillMs: 60_000 } });
    for (let i = 0; i < 20; i++) r.event(pod, 'Warning', 'Retry', `attempt ${i}`);
    r.event(ippool, 'Normal', 'Other', 'another object has its own budget');
    c.advance(60_000);
    r.event(pod, 'Warning', 'Retry', 'after a refill');
    r.event(pod, 'Warning', 'Retry', 'still limited');
    await r.flush();
    expect(events(kube, 'team-a').map((e) => e['message'])).toEqual(
      ['attempt 0', 'attempt 1', 'attempt 2', 'attempt 3', 'attempt 4', 'after a refill'],
    );
    expect(events(kube, 'default').length).toBe(1);
    expect(r.stats).toMatchObject({ created: 7, dropped: 16 });
  });

  test('the queue is bounded: what does not fit is dropped', async () => {
    kube = await startKube();
    kube.server.faults.delay({ verb: 'create', resource: 'events' }, 20);
    const r = recorder(kube, { maxQueue: 3 });
    for (let i = 0; i < 10; i++) r.event({ ...pod, metadata: { ...pod.metadata, uid: `u${i}`, name: `p${i}` } }, 'Normal', 'R', 'm');
    await r.flush();
    // One in flight at once plus three waiting.
    expect(r.stats).toMatchObject({ created: 4, dropped: 6 });
  });

  test('close() refuses new events and does not wait for an unresponsive apiserver', async () => {
    kube = await startKube();
    kube.server.faults.delay({ verb: 'create', resource: 'events' }, 1000);
    const r = recorder(kube);
    r.event(pod, 'Normal', 'A', 'in flight');
    r.event(ippool, 'Normal', 'B', 'queued');
    await r.close(50);
    r.event(pod, 'Normal', 'C', 'after close');
    expect(r.stats).toMatchObject({ created: 0, dropped: 2, failed: 1 });
  });

  test('options are validated', () => {
    const unused = (): Promise<never> => Promise.reject(new Error('no request expected'));
    const client = { create: unused, patch: unused };
    expect(() => new EventRecorder({ client, identity: '' })).toThrow(InvalidOptionError);
    expect(() => new EventRecorder({ client, identity: 'x', rateLimit: { burst: 0, refillMs: 1 } })).toThrow(/rateLimit.burst/);
  });
});
