import { describe, expect, it } from 'vitest';
import { newHandle } from '@hostnic/ipam';
import { exampleStore, handleOf, KEY0, livePods, MINUTE, runIpam, snapshot, at, BLOCK0 } from './helpers.ts';

/** The running example with one problem of each common kind. */
async function troubledStore() {
  const rig = await exampleStore();
  const { memory } = rig;
  // A handle whose block holds nothing for it (e.g. a crash between the handle and the block write).
  const ghost = newHandle('default-ghost-123');
  await memory.createHandle({ ...ghost, spec: { ...ghost.spec, block: { [KEY0]: 1 } } });
  // A handle that counts one address too many.
  const nginx = await memory.getHandle(handleOf('nginx'));
  if (nginx === undefined) throw new Error('no nginx handle');
  await memory.updateHandle({ ...nginx.object, spec: { ...nginx.object.spec, block: { [KEY0]: 2 } } }, nginx.version);
  // An allocation whose handle object is gone.
  await memory.deleteHandle(handleOf('db'));
  return rig;
}

describe('ipam check', () => {
  it('exits 0 on a clean store and says what it checked', async () => {
    const { store } = await exampleStore();
    const run = await runIpam(['check'], { openStore: async () => store, listLivePods: async () => livePods('nginx', 'web', 'db') });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('No problems found: checked 1 pool, 8 blocks, 3 handles and 3 live pods at 2025-03-03T08:01:02.123Z.\n');
  });

  it('exits 1 and groups findings in plain words: leaked address, stale handle, miscounted handle, orphan allocation', async () => {
    const { store } = await troubledStore();
    const before = await snapshot(store);
    const run = await runIpam(['check'], {
      openStore: async () => store,
      listLivePods: async () => livePods('nginx', 'db'),
      now: () => at(10 * MINUTE),
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe(
      'Leaked addresses (their pod is gone or runs a newer sandbox) (1):\n' +
        `  172.16.3.3 in block ${BLOCK0}: pod default/web is gone; held by handle ${handleOf('web')} since 2025-03-03T08:01:02.123Z\n` +
        '\n' +
        'Addresses without an IPAMHandle (1):\n' +
        `  172.16.3.4 in block ${BLOCK0}: held by handle ${handleOf('db')}, which has no IPAMHandle object\n` +
        '\n' +
        'Handles naming blocks that hold nothing for them (1):\n' +
        `  handle default-ghost-123 counts addresses in block ${KEY0}, which holds no address for it\n` +
        '\n' +
        'Handles whose counts differ from their blocks (1):\n' +
        `  handle ${handleOf('nginx')} counts 2 addresses in block ${KEY0}; the block holds 1\n` +
        '\n' +
        'Found 4 problems: checked 1 pool, 8 blocks, 3 handles and 2 live pods at 2025-03-03T08:11:02.123Z.\n' +
        "Nothing was changed. The controller's garbage collector repairs what persists; `ipam check --show-plan` shows that repair, " +
        '`ipam release --ip <address>` frees one address now.\n',
    );
    expect(await snapshot(store)).toBe(before);
  });

  it('--show-plan prints the repair plan without applying it', async () => {
    const { store } = await troubledStore();
    const before = await snapshot(store);
    const run = await runIpam(['check', '--show-plan'], {
      openStore: async () => store,
      listLivePods: async () => livePods('nginx', 'db'),
      now: () => at(10 * MINUTE),
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      'Repair plan (not applied; ipam check never writes):\n' +
        `  release 172.16.3.3 in block ${BLOCK0} (handle ${handleOf('web')})\n` +
        `  create handle ${handleOf('db')}: ${KEY0}=1\n` +
        `  correct handle ${handleOf('nginx')}: ${KEY0}=1\n` +
        `  delete handle default-ghost-123\n` +
        `  delete handle ${handleOf('web')}\n`,
    );
    expect(await snapshot(store)).toBe(before);
  });

  it('counts a gone pod within the grace period as pending, not as a problem; --grace moves the line', async () => {
    const { store } = await exampleStore();
    const deps = { openStore: async () => store, listLivePods: async () => livePods('nginx', 'db'), now: () => at(2 * MINUTE) };
    const within = await runIpam(['check'], deps);
    expect(within.code).toBe(0);
    expect(within.stdout).toContain('Addresses of gone pods within the 5m grace period, not counted as problems (1):\n  172.16.3.3');
    expect(within.stdout).toContain('No problems found');
    const past = await runIpam(['check', '--grace', '1m'], deps);
    expect(past.code).toBe(1);
    expect(past.stdout).toContain('Leaked addresses');
    const plainMs = await runIpam(['check', '--grace', '60000'], deps);
    expect(plainMs.code).toBe(1);
  });

  it('prints findings as JSON with addresses and a problem flag', async () => {
    const { store } = await troubledStore();
    const run = await runIpam(['check', '-o', 'json', '--show-plan'], {
      openStore: async () => store,
      listLivePods: async () => livePods('nginx', 'db'),
      now: () => at(10 * MINUTE),
    });
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as {
      clean: boolean;
      problems: number;
      pending: number;
      graceMs: number;
      checked: unknown;
      findings: { kind: string; problem: boolean; addresses: string[]; message: string }[];
      plan: { release: { addresses: string[] }[]; deleteHandles: string[] };
    };
    expect(Object.keys(report)).toEqual(['checkedAt', 'graceMs', 'checked', 'clean', 'problems', 'pending', 'findings', 'plan']);
    expect(report).toMatchObject({ clean: false, problems: 4, pending: 0, graceMs: 300_000 });
    expect(report.checked).toEqual({ pools: 1, blocks: 8, handles: 3, livePods: 2 });
    expect(report.findings.map((f) => f.kind).sort()).toEqual(
      ['DeadPodAllocation', 'HandleCountMismatch', 'OrphanAllocation', 'StaleHandleBlock'].sort(),
    );
    expect(report.findings.find((f) => f.kind === 'DeadPodAllocation')).toMatchObject({
      addresses: ['172.16.3.3'],
      problem: true,
      reason: 'PodGone',
      namespace: 'default',
      pod: 'web',
    });
    expect(report.plan.release[0]?.addresses).toEqual(['172.16.3.3']);
    expect(report.plan.deleteHandles).toEqual(['default-ghost-123', handleOf('web')]);
  });

  it('refuses a bad --grace with exit code 2, naming the option', async () => {
    const { store } = await exampleStore();
    const run = await runIpam(['check', '--grace', 'soon'], { openStore: async () => store });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('error: --grace "soon" is not a duration: write it like 30s, 5m, 1h, 1h30m or a number of milliseconds\n');
  });

  it('reports an API failure with exit code 2, and closes the store', async () => {
    const { store } = await exampleStore();
    const run = await runIpam(['check'], {
      openStore: async () => store,
      listLivePods: async () => {
        throw new Error('connect ECONNREFUSED 127.0.0.1:6443');
      },
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('error: connect ECONNREFUSED 127.0.0.1:6443\n');
    expect(store.closed).toBe(1);
  });
});

describe('ipam check --fix (the original ipam-client -fb)', () => {
  it('records the address a live pod uses that its block forgot, then exits 0; nothing else is touched', async () => {
    const { store } = await exampleStore();
    // A pod that holds 172.16.3.9 (its status says so) while block 0 has that address free.
    const pods = [...livePods('nginx', 'web', 'db'), { namespace: 'default', name: 'lost', containerID: 'feed01', ip: '172.16.3.9' }];
    const deps = { openStore: async () => store, listLivePods: async () => pods };
    const before = await runIpam(['check'], deps);
    expect(before.code).toBe(1);
    expect(before.stdout).toContain('Addresses of live pods their blocks do not record (`ipam check --fix`) (1):\n');
    expect(before.stdout).toContain(`  172.16.3.9 of pod default/lost is not recorded in block ${BLOCK0}: \`ipam check --fix\` records it\n`);
    const fixed = await runIpam(['check', '--fix'], deps);
    expect(fixed.stdout).toContain('fixed: recorded 1 address for the pods using them\n  recorded 172.16.3.9\n');
    expect(fixed.code).toBe(0);
    expect((await runIpam(['check'], deps)).code).toBe(0);
    const handle = await store.getHandle('default-lost-feed01');
    expect(handle?.object.spec.block).toEqual({ [KEY0]: 1 });
  });
});
