import { describe, expect, it } from 'vitest';
import { BLOCK0, exampleStore, handleOf, MINUTE, POOL, runIpam, at } from './helpers.ts';

describe('ipam show', () => {
  it('prints pool utilisation with the spec figures of the running example (256 / 15 / 3 / 238)', async () => {
    const { store } = await exampleStore();
    const run = await runIpam(['show'], { openStore: async () => store });
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(
      'POOL           BLOCKS  CAPACITY  RESERVED  ALLOCATED  FREE  USED\n' +
        'vxnet-abc1234       8       256        15          3   238  1.2%\n',
    );
    expect(store.closed).toBe(1);
  });

  it('shows blocks with their CIDR, pool, mapped namespaces and cooling addresses', async () => {
    const { store, ipam } = await exampleStore();
    await ipam.release(handleOf('db'), { now: at(0) });
    const run = await runIpam(['show', '--show-blocks'], { openStore: async () => store, now: () => at(10_000) });
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines).toContain('BLOCK                 CIDR             POOL           NAMESPACES  CAPACITY  RESERVED  ALLOCATED  FREE  COOLING');
    expect(lines).toContain('4100-172-16-3-0-27    172.16.3.0/27    vxnet-abc1234  default           32         2          2    28        1');
    expect(lines).toContain('4100-172-16-3-224-27  172.16.3.224/27  vxnet-abc1234  -                 32        13          0    19        0');
    // Numeric block order, as everywhere.
    expect(lines.findIndex((l) => l.startsWith('4100-172-16-3-32-27'))).toBeLessThan(lines.findIndex((l) => l.startsWith('4100-172-16-3-128-27')));
  });

  it('shows namespaces: mapped blocks and the addresses their pods hold', async () => {
    const { store } = await exampleStore();
    const run = await runIpam(['show', '--show-namespaces'], { openStore: async () => store });
    expect(run.stdout).toContain('NAMESPACE  BLOCKS              ADDRESSES  CAPACITY  ALLOCATED  FREE\n');
    expect(run.stdout).toContain('default    4100-172-16-3-0-27          3        32          3    27\n');
  });

  it('prints the same data as stable JSON, with either placement of -o', async () => {
    const { store } = await exampleStore();
    const a = await runIpam(['show', '-o', 'json', '--show-blocks', '--show-namespaces'], { openStore: async () => store });
    const b = await runIpam(['-o', 'json', 'show', '--show-blocks', '--show-namespaces'], { openStore: async () => store });
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    const report = JSON.parse(a.stdout) as {
      pools: unknown[];
      blocks: { name: string }[];
      namespaces: unknown[];
    };
    expect(Object.keys(report)).toEqual(['pools', 'blocks', 'namespaces']);
    expect(report.pools).toEqual([
      { name: POOL, blocks: 8, capacity: 256, reserved: 15, allocated: 3, free: 238, usedPercent: 1.24 },
    ]);
    expect(report.blocks).toHaveLength(8);
    expect(report.blocks[0]).toEqual({
      name: BLOCK0,
      cidr: '172.16.3.0/27',
      pool: POOL,
      namespaces: ['default'],
      capacity: 32,
      reserved: 2,
      allocated: 3,
      free: 27,
      cooling: 0,
    });
    expect(report.namespaces).toEqual([
      { namespace: 'default', blocks: [BLOCK0], addresses: 3, capacity: 32, reserved: 2, allocated: 3, free: 27 },
    ]);
    const plain = JSON.parse((await runIpam(['show', '-o', 'json'], { openStore: async () => store })).stdout) as object;
    expect(Object.keys(plain)).toEqual(['pools']);
  });

  it('--ip tells who holds an allocated address and since when', async () => {
    const { store } = await exampleStore();
    const run = await runIpam(['show', '--ip', '172.16.3.3'], { openStore: async () => store });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      'Address:  172.16.3.3\n' +
        'State:    allocated\n' +
        'Pool:     vxnet-abc1234\n' +
        'Block:    4100-172-16-3-0-27 (172.16.3.0/27, ordinal 3)\n' +
        `Handle:   ${handleOf('web')}\n` +
        'Pod:      default/web\n' +
        'Node:     node-1\n' +
        'Since:    2025-03-03T08:01:02.123Z\n' +
        `Note:     allocated to handle ${handleOf('web')}\n`,
    );
  });

  it('--ip tells free, cooling, reserved and unmanaged addresses apart (JSON)', async () => {
    const { store, ipam } = await exampleStore();
    await ipam.release(handleOf('db'), { now: at(0) });
    const run = await runIpam(
      ['show', '-o', 'json', '--ip', '172.16.3.20', '--ip', '172.16.3.4', '--ip', '172.16.3.0', '--ip', '172.16.3.250', '--ip', '10.0.0.1'],
      { openStore: async () => store, now: () => at(MINUTE / 2) },
    );
    expect(run.code).toBe(0);
    const { addresses } = JSON.parse(run.stdout) as { addresses: Record<string, unknown>[] };
    expect(addresses.map((a) => [a['address'], a['state']])).toEqual([
      ['172.16.3.20', 'free'],
      ['172.16.3.4', 'cooling'],
      ['172.16.3.0', 'reserved'],
      ['172.16.3.250', 'reserved'],
      ['10.0.0.1', 'unmanaged'],
    ]);
    expect(addresses[1]).toMatchObject({ block: BLOCK0, ordinal: 4, handleId: null, coolingUntil: at(MINUTE).toISOString() });
    expect(addresses[4]).toMatchObject({ pool: null, block: null, note: expect.stringContaining('not in any IP pool') });
    // Every report has every key, so scripts can rely on the shape.
    for (const a of addresses) expect(Object.keys(a)).toEqual(Object.keys(addresses[0] ?? {}));
  });

  it('--ip flags an allocation whose handle object is missing', async () => {
    const { store, memory } = await exampleStore();
    await memory.deleteHandle(handleOf('nginx'));
    const run = await runIpam(['show', '-o', 'json', '--ip', '172.16.3.2'], { openStore: async () => store });
    const { addresses } = JSON.parse(run.stdout) as { addresses: Record<string, unknown>[] };
    expect(addresses[0]).toMatchObject({ state: 'allocated', handleId: handleOf('nginx'), handleExists: false, pod: 'nginx' });
  });

  it('fails with exit code 2 and a clear message on a bad address or output format', async () => {
    const { store } = await exampleStore();
    const bad = await runIpam(['show', '--ip', '172.16.3.999'], { openStore: async () => store });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: invalid address "172\.16\.3\.999" in --ip/);
    const format = await runIpam(['show', '-o', 'yaml'], { openStore: async () => store });
    expect(format.code).toBe(2);
    expect(format.stderr).toContain('--output "yaml" is not a format: use table or json');
  });
});
