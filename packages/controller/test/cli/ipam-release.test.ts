import { describe, expect, it } from 'vitest';
import { Ipam } from '@hostnic/ipam';
import type { IpamCliDeps } from '../../src/cli/ipam.ts';
import { at, BLOCK0, exampleStore, handleOf, KEY0, livePods, MINUTE, runIpam, snapshot, T0 } from './helpers.ts';

/** The running example where web (gone from the API) also holds the fixed address .10. */
async function leakyStore() {
  const rig = await exampleStore();
  const second = await rig.ipam.allocate({
    handleId: handleOf('web'),
    namespace: 'default',
    pod: 'web',
    node: 'node-1',
    fixedIps: ['172.16.3.10'],
  });
  expect(second).toMatchObject({ address: '172.16.3.10', reused: false });
  const existing = new Set(['default/nginx', 'default/db']);
  const podsAsked: string[] = [];
  const deps: Partial<IpamCliDeps> = {
    openStore: async () => rig.store,
    podExists: async (_kc, namespace, name) => {
      podsAsked.push(`${namespace}/${name}`);
      return existing.has(`${namespace}/${name}`);
    },
    listLivePods: async () => livePods('nginx', 'db'),
    now: () => at(10 * MINUTE),
  };
  return { ...rig, deps, podsAsked };
}

async function handleBlock(rig: { memory: { getHandle(name: string): Promise<{ object: { spec: { block: object } } } | undefined> } }, id: string) {
  return (await rig.memory.getHandle(id))?.object.spec.block;
}

describe('ipam release --ip', () => {
  it("releases exactly the leaked address, keeps the handle's other address, and leaves the handle consistent", async () => {
    const rig = await leakyStore();
    const run = await runIpam(['release', '--ip', '172.16.3.10'], rig.deps);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      `released 172.16.3.10 (block ${BLOCK0}, handle ${handleOf('web')}, pod default/web); corrected the counts of handle ${handleOf('web')}\n` +
        '1 released.\n',
    );
    expect(rig.podsAsked).toEqual(['default/web']);
    expect((await rig.ipam.addressesOf(handleOf('web'))).map((a) => a.address)).toEqual(['172.16.3.3']);
    expect(await handleBlock(rig, handleOf('web'))).toEqual({ [KEY0]: 1 });
    // The handle counts agree with the block: only the other, still leaked address is left (within a long grace).
    const check = await runIpam(['check', '-o', 'json', '--grace', '1h'], rig.deps);
    expect(check.code).toBe(0);
    const report = JSON.parse(check.stdout) as { findings: { kind: string; addresses: string[] }[] };
    expect(report.findings.map((f) => [f.kind, f.addresses])).toEqual([['DeadPodAllocation', ['172.16.3.3']]]);
    // The released address is cooling down now, not handed out at once.
    const show = await runIpam(['show', '-o', 'json', '--ip', '172.16.3.10'], rig.deps);
    expect(JSON.parse(show.stdout)).toMatchObject({ addresses: [{ state: 'cooling' }] });
  });

  it('deletes the handle when its last address goes', async () => {
    const rig = await leakyStore();
    const run = await runIpam(['release', '--ip', '172.16.3.3', '--ip', '172.16.3.10'], rig.deps);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      `released 172.16.3.3 (block ${BLOCK0}, handle ${handleOf('web')}, pod default/web); corrected the counts of handle ${handleOf('web')}\n` +
        `released 172.16.3.10 (block ${BLOCK0}, handle ${handleOf('web')}, pod default/web); deleted handle ${handleOf('web')}\n` +
        '2 released.\n',
    );
    expect(await rig.memory.getHandle(handleOf('web'))).toBeUndefined();
    const check = await runIpam(['check'], rig.deps);
    expect(check.code).toBe(0);
  });

  it('refuses an address whose pod still exists, naming the fix, and writes nothing', async () => {
    const rig = await leakyStore();
    const before = await snapshot(rig.store);
    const run = await runIpam(['release', '--ip', '172.16.3.2'], rig.deps);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe(
      'refused 172.16.3.2: 172.16.3.2 belongs to pod default/nginx, which still exists: delete the pod (its CNI DEL releases ' +
        'the address), or pass --force if you are sure the address is not in use\n' +
        '1 refused.\n',
    );
    expect(await snapshot(rig.store)).toBe(before);
  });

  it('--force releases it anyway, with a warning', async () => {
    const rig = await leakyStore();
    const run = await runIpam(['release', '--ip', '172.16.3.2', '--force'], rig.deps);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      `released 172.16.3.2 (block ${BLOCK0}, handle ${handleOf('nginx')}, pod default/nginx); deleted handle ${handleOf('nginx')}\n` +
        '  warning: 172.16.3.2 belongs to pod default/nginx, which still exists; released anyway because of --force\n' +
        '1 released.\n',
    );
    expect(await rig.ipam.addressesOf(handleOf('nginx'))).toEqual([]);
  });

  it('--dry-run prints what would happen and writes nothing', async () => {
    const rig = await leakyStore();
    const before = await snapshot(rig.store);
    const run = await runIpam(['release', '--dry-run', '--ip', '172.16.3.10', '--ip', '172.16.3.2'], rig.deps);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe(
      `would release 172.16.3.10 (block ${BLOCK0}, handle ${handleOf('web')}, pod default/web); would correct the counts of handle ${handleOf('web')}\n` +
        'refused 172.16.3.2: 172.16.3.2 belongs to pod default/nginx, which still exists: delete the pod (its CNI DEL releases ' +
        'the address), or pass --force if you are sure the address is not in use\n' +
        'Dry run, nothing was written: 1 would release, 1 refused.\n',
    );
    expect(await snapshot(rig.store)).toBe(before);
    const asJson = await runIpam(['release', '--dry-run', '-o', 'json', '--ip', '172.16.3.10'], rig.deps);
    expect(asJson.code).toBe(0);
    expect(JSON.parse(asJson.stdout)).toEqual({
      dryRun: true,
      results: [
        {
          kind: 'address',
          target: '172.16.3.10',
          status: 'would-release',
          addresses: ['172.16.3.10'],
          block: BLOCK0,
          handleId: handleOf('web'),
          pods: [{ namespace: 'default', name: 'web' }],
          handleChange: 'correct',
          handleChangeApplied: null,
          reason: null,
          warnings: [],
          plan: {
            release: [{ blockName: BLOCK0, handleId: handleOf('web'), ordinals: [10] }],
            deleteHandles: [],
            updateHandles: [{ handleId: handleOf('web'), block: { [KEY0]: 1 } }],
            createHandles: [],
          },
        },
      ],
    });
    expect(await snapshot(rig.store)).toBe(before);
  });

  it('refuses free, cooling, reserved and unmanaged addresses, and writes nothing', async () => {
    const rig = await leakyStore();
    await rig.ipam.release(handleOf('db'), { now: at(10 * MINUTE) });
    const before = await snapshot(rig.store);
    const run = await runIpam(
      ['release', '--ip', '172.16.3.20', '--ip', '172.16.3.4', '--ip', '172.16.3.0', '--ip', '172.16.3.1', '--ip', '10.1.2.3'],
      rig.deps,
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toBe(
      'refused 172.16.3.20: 172.16.3.20 is free: there is nothing to release\n' +
        'refused 172.16.3.4: 172.16.3.4 is free (released, cooling down until 2025-03-03T08:12:02.123Z): there is nothing to release\n' +
        'refused 172.16.3.0: 172.16.3.0 is reserved (outside the pod range of pool vxnet-abc1234): reserved addresses are never allocated and cannot be released\n' +
        'refused 172.16.3.1: 172.16.3.1 is reserved (outside the pod range of pool vxnet-abc1234): reserved addresses are never allocated and cannot be released\n' +
        'refused 10.1.2.3: 10.1.2.3 is not in any IP pool: hostnic holds nothing to release\n' +
        '5 refused.\n',
    );
    expect(rig.podsAsked).toEqual([]);
    expect(await snapshot(rig.store)).toBe(before);
  });

  it('--force does not make a free or reserved address releasable', async () => {
    const rig = await leakyStore();
    const run = await runIpam(['release', '--force', '--ip', '172.16.3.0', '--ip', '172.16.3.20'], rig.deps);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('2 refused.');
  });

  it('refuses an address whose attributes name no pod unless forced', async () => {
    const rig = await leakyStore();
    const raw = new Ipam(rig.memory, { clock: () => T0 });
    // Allocations without pod attributes are possible through the library (e.g. a Go-era row without secondary data).
    const block = await rig.memory.getBlock(BLOCK0);
    if (block === undefined) throw new Error('no block');
    const spec = block.object.spec;
    const index = spec.allocations[2];
    if (index === undefined || index === null) throw new Error('no allocation at .2');
    const attributes = spec.attributes.map((row, i) => (i === index ? { handle_id: row.handle_id ?? '' } : row));
    await rig.memory.updateBlock({ ...block.object, spec: { ...spec, attributes } }, block.version);
    const refusedRun = await runIpam(['release', '--ip', '172.16.3.2'], rig.deps);
    expect(refusedRun.code).toBe(1);
    expect(refusedRun.stdout).toContain('172.16.3.2 names no pod, so whether it is still in use cannot be checked: pass --force');
    const forced = await runIpam(['release', '--ip', '172.16.3.2', '--force'], rig.deps);
    expect(forced.code).toBe(0);
    expect(await raw.addressesOf(handleOf('nginx'))).toEqual([]);
  });

  it('reports a lost race (the block changed after the decision) as not released, never as success', async () => {
    const rig = await leakyStore();
    const other = new Ipam(rig.memory, { clock: () => at(10 * MINUTE) });
    const run = await runIpam(['release', '--ip', '172.16.3.10'], {
      ...rig.deps,
      // Another actor releases the handle between the pod check and the write.
      podExists: async () => {
        await other.release(handleOf('web'));
        return false;
      },
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe(
      `NOT released 172.16.3.10: block ${BLOCK0} changed before the release was written (the handle no longer holds these addresses): ` +
        'nothing was released; `ipam show --ip 172.16.3.10` shows who holds it now\n' +
        '1 not released.\n',
    );
    expect(run.stdout).not.toMatch(/^released/m);
  });

  it('retries writes that lose to unrelated changes of the block', async () => {
    const rig = await leakyStore();
    rig.memory.failWrites({ kind: 'IPAMBlock', op: 'update', times: 2 });
    const run = await runIpam(['release', '--ip', '172.16.3.10'], rig.deps);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^released 172\.16\.3\.10/);
    expect((await rig.ipam.addressesOf(handleOf('web'))).map((a) => a.address)).toEqual(['172.16.3.3']);
  });

  it('without --ip or --handle is a usage error (exit 2)', async () => {
    const rig = await leakyStore();
    const run = await runIpam(['release'], rig.deps);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('nothing to release: pass --ip <address> or --handle <id>');
  });

  it('reports a store failure during the write as FAILED (exit 2), never as released', async () => {
    const rig = await leakyStore();
    rig.memory.failWrites({ kind: 'IPAMBlock', op: 'update', error: 'unavailable' });
    const run = await runIpam(['release', '--ip', '172.16.3.10'], rig.deps);
    expect(run.code).toBe(2);
    expect(run.stdout).toMatch(/^FAILED 172\.16\.3\.10: /);
    expect(run.stdout).not.toMatch(/^released/m);
  });
});

describe('ipam release --handle', () => {
  it('releases every address of a handle of a gone pod and deletes the handle', async () => {
    const rig = await leakyStore();
    const run = await runIpam(['release', '--handle', handleOf('web')], rig.deps);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      `released ${handleOf('web')} (172.16.3.3, 172.16.3.10, pod default/web); deleted handle ${handleOf('web')}\n1 released.\n`,
    );
    expect(await rig.memory.getHandle(handleOf('web'))).toBeUndefined();
    expect((await runIpam(['check'], rig.deps)).code).toBe(0);
  });

  it('refuses a handle of a pod that still exists unless forced', async () => {
    const rig = await leakyStore();
    const before = await snapshot(rig.store);
    const run = await runIpam(['release', '--handle', handleOf('db')], rig.deps);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`refused ${handleOf('db')}: handle ${handleOf('db')} belongs to pod default/db, which still exists: delete the pod`);
    expect(await snapshot(rig.store)).toBe(before);
    const forced = await runIpam(['release', '--handle', handleOf('db'), '--force'], rig.deps);
    expect(forced.code).toBe(0);
    expect(await rig.ipam.addressesOf(handleOf('db'))).toEqual([]);
  });

  it('also frees addresses the handle object does not count (and orphan allocations)', async () => {
    const rig = await leakyStore();
    await rig.memory.deleteHandle(handleOf('web'));
    const run = await runIpam(['release', '--handle', handleOf('web'), '-o', 'json'], rig.deps);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      results: [{ status: 'released', addresses: ['172.16.3.3', '172.16.3.10'], handleChange: 'none' }],
    });
    expect((await runIpam(['check'], rig.deps)).code).toBe(0);
  });

  it('refuses unknown, invalid and reserved handle IDs', async () => {
    const rig = await leakyStore();
    const run = await runIpam(
      ['release', '--handle', 'default-nobody-1', '--handle', 'Not_A_Handle', '--handle', 'kubesphere-reserved-handle'],
      rig.deps,
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('refused default-nobody-1: no handle default-nobody-1, and no block holds an address for it');
    expect(run.stdout).toContain('refused Not_A_Handle: "Not_A_Handle" is not a handle ID');
    expect(run.stdout).toContain('refused kubesphere-reserved-handle: kubesphere-reserved-handle owns the reserved addresses');
  });

  it('deletes a handle that holds nothing only with --force; --dry-run writes nothing', async () => {
    const rig = await leakyStore();
    const stale = await rig.memory.createHandle({
      metadata: { name: 'default-stale-1' },
      spec: { handleID: 'default-stale-1', block: { [KEY0]: 1 }, deleted: false },
    });
    expect(stale.object.metadata.name).toBe('default-stale-1');
    const plain = await runIpam(['release', '--handle', 'default-stale-1'], rig.deps);
    expect(plain.code).toBe(1);
    expect(plain.stdout).toContain('handle default-stale-1 holds no address');
    const before = await snapshot(rig.store);
    const dry = await runIpam(['release', '--handle', 'default-stale-1', '--force', '--dry-run'], rig.deps);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toBe('would release default-stale-1; would delete handle default-stale-1 (nothing left)\nDry run, nothing was written: 1 would release.\n');
    expect(await snapshot(rig.store)).toBe(before);
    const forced = await runIpam(['release', '--handle', 'default-stale-1', '--force'], rig.deps);
    expect(forced.code).toBe(0);
    expect(await rig.memory.getHandle('default-stale-1')).toBeUndefined();
  });
});
