/**
 * The per-node directory tree that stands in for a node's real paths (/etc/qingcloud/instance-id,
 * /var/lib/hostnic, ...), so that agents of several nodes share one machine without sharing state.
 */

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NodePaths } from './types.ts';

export function nodePaths(sandboxDir: string, nodeName: string): NodePaths {
  const root = join(sandboxDir, nodeName);
  const runDir = join(root, 'var/run/hostnic');
  return {
    root,
    instanceIdFile: join(root, 'etc/qingcloud/instance-id'),
    stateDir: join(root, 'var/lib/hostnic'),
    runDir,
    socket: join(runDir, 'hostnic.socket'),
    cniBinDir: join(root, 'opt/cni/bin'),
    cniConfDir: join(root, 'etc/cni/net.d'),
  };
}

/** Creates the tree; the sandbox directory's removal takes it away again. */
export async function createNodeDirs(paths: NodePaths, instanceId: string): Promise<void> {
  for (const dir of [join(paths.root, 'etc/qingcloud'), paths.stateDir, paths.runDir, paths.cniBinDir, paths.cniConfDir]) {
    await mkdir(dir, { recursive: true, mode: 0o755 });
  }
  await writeFile(paths.instanceIdFile, `${instanceId}\n`, { mode: 0o644 });
}
