/**
 * turbo replays a cached test result only while nothing its package depends on changed: editing a dependency's
 * source changes the dependent's task hash (the `transit` task carries packages without a build). Run on a
 * temporary copy of the checkout, so that the edits never touch the tree.
 */
import { execFile } from 'node:child_process';
import { appendFile, cp, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../../src/stack/index.ts';

const exec = promisify(execFile);
let copy: string;

async function hashes(): Promise<Map<string, string>> {
  const { stdout } = await exec(join(REPO, 'node_modules/.bin/turbo'), ['run', 'test', '--dry=json'], {
    cwd: copy,
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', TURBO_NO_UPDATE_NOTIFIER: '1' },
    maxBuffer: 64 * 1024 * 1024,
  });
  const plan = JSON.parse(stdout) as { tasks: { taskId: string; hash: string }[] };
  return new Map(plan.tasks.map((t) => [t.taskId, t.hash]));
}

async function changedBy(file: string): Promise<Set<string>> {
  const before = await hashes();
  await appendFile(join(copy, file), '\n// edited by the turbo-hashes test\n');
  const after = await hashes();
  return new Set([...after].filter(([id, hash]) => before.get(id) !== hash).map(([id]) => id));
}

beforeAll(async () => {
  copy = await mkdtemp(join(tmpdir(), 'hostnic-turbo-hashes-'));
  const { stdout } = await exec('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO, maxBuffer: 64 * 1024 * 1024 });
  const files = stdout.split('\0').filter((f) => f !== '');
  await Promise.all(
    files.map(async (f) => {
      await cp(join(REPO, f), join(copy, f)).catch((e: unknown) => {
        // A tracked file deleted in the working tree is simply absent from the copy.
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      });
    }),
  );
  // turbo only needs to find itself; workspaces are read from package.json files of the copy.
  await symlink(join(REPO, 'node_modules'), join(copy, 'node_modules'));
}, 60_000);
afterAll(async () => {
  await rm(copy, { recursive: true, force: true });
});

describe('turbo task hashes follow the package graph', () => {
  it('editing the sandbox network changes the tests of the agent, controller and e2e, not of the libraries', async () => {
    const changed = await changedBy('packages/sandbox/src/cluster/network.ts');
    for (const id of ['@hostnic/sandbox#test', '@hostnic/agent#test', '@hostnic/controller#test', '@hostnic/e2e#test']) expect(changed).toContain(id);
    for (const id of ['@hostnic/ipam#test', '@hostnic/netlink#test', '@hostnic/iaas-client#test', '@hostnic/cni-plugin#test']) expect(changed).not.toContain(id);
  }, 60_000);

  it('editing the agent changes the e2e tests, not the sandbox', async () => {
    const changed = await changedBy('packages/agent/src/pods/service.ts');
    expect(changed).toContain('@hostnic/agent#test');
    expect(changed).toContain('@hostnic/e2e#test');
    expect(changed).not.toContain('@hostnic/sandbox#test');
    expect(changed).not.toContain('@hostnic/controller#test');
  }, 60_000);

  it('editing the protocol changes the tests of the plugin, the agent and e2e, not of the controller', async () => {
    const changed = await changedBy('packages/protocol/src/messages.ts');
    for (const id of ['@hostnic/protocol#test', '@hostnic/cni-plugin#test', '@hostnic/agent#test', '@hostnic/e2e#test']) expect(changed).toContain(id);
    for (const id of ['@hostnic/controller#test', '@hostnic/ipam#test', '@hostnic/sandbox#test']) expect(changed).not.toContain(id);
  }, 60_000);
});
