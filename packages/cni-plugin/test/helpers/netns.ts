/**
 * Throwaway network namespaces for one test file: a node namespace (where the plugin, the chained plugins
 * and the host side of the wiring run) and pod namespaces. Names are unique per file and run; the root
 * namespace is never touched. `cleanup` removes everything, and is safe to call twice.
 */

import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, sh } from './sh.ts';

export const isRoot = process.getuid?.() === 0;

export interface Sandbox {
  /** Short unique tag (letters and digits). */
  tag: string;
  node: string;
  /** A scratch directory for sockets, spool, locks and host-local data. */
  dir: string;
  pods: string[];
  addPod(suffix: string): Promise<string>;
  podPath(name: string): string;
  removePod(name: string): Promise<void>;
  cleanup(): Promise<void>;
}

export async function createSandbox(label: string): Promise<Sandbox> {
  const tag = `${label}${randomBytes(3).toString('hex')}`;
  const node = `hn-${tag}-node`;
  const dir = await mkdtemp(join(tmpdir(), `hn-${tag}-`));
  const pods: string[] = [];
  await sh(['ip', 'netns', 'add', node]);
  await sh(['ip', '-n', node, 'link', 'set', 'lo', 'up']);
  const box: Sandbox = {
    tag,
    node,
    dir,
    pods,
    async addPod(suffix: string) {
      const name = `hn-${tag}-${suffix}`;
      await sh(['ip', 'netns', 'add', name]);
      await sh(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
      pods.push(name);
      return name;
    },
    podPath(name: string) {
      return `/var/run/netns/${name}`;
    },
    async removePod(name: string) {
      if (existsSync(`/var/run/netns/${name}`)) await run(['ip', 'netns', 'del', name]);
    },
    async cleanup() {
      for (const p of pods) await box.removePod(p);
      if (existsSync(`/var/run/netns/${node}`)) await run(['ip', 'netns', 'del', node]);
      await rm(dir, { recursive: true, force: true });
    },
  };
  return box;
}
