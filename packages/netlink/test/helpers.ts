import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Netns } from '../src/index.ts';
import { applyBatchOrThrow, addrReplaceOp, createNamedNetns, deleteNamedNetns, linkSetOp, vethAddOp } from '../src/index.ts';

const execFileP = promisify(execFile);

/** Kernel tests need root; everything they touch lives in namespaces they create. */
export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
export const ROOT_REASON = 'kernel tests need root (they create throwaway network namespaces)';

/** A short random id for names that must not collide with parallel test files. */
export function uid(): string {
  return randomBytes(3).toString('hex');
}

/** Runs a command and returns stdout; throws with stderr on failure. */
export async function sh(argv: readonly string[], input?: string): Promise<string> {
  const [cmd, ...args] = argv;
  if (cmd === undefined) throw new Error('empty argv');
  if (input === undefined) return (await execFileP(cmd, args, { encoding: 'utf8' })).stdout;
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${argv.join(' ')}: ${stderr || err.message}`));
      else resolve(stdout);
    });
    child.stdin?.end(input);
  });
}

/** Runs a command and reports its exit code instead of throwing. */
export async function tryRun(argv: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const stdout = await sh(argv);
    return { code: 0, stdout, stderr: '' };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : 1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

/** `ip -n <ns> ...` as text. */
export function ipn(ns: string, ...args: string[]): Promise<string> {
  return sh(['ip', '-n', ns, ...args]);
}

/** Throwaway namespaces that are deleted by {@link Namespaces.cleanup} whatever happened. */
export class Namespaces {
  readonly prefix = `hnl-${uid()}`;
  private readonly created: string[] = [];

  async create(role: string, loopbackUp = false): Promise<{ name: string; ns: Netns }> {
    const name = `${this.prefix}-${role}`;
    this.created.push(name);
    const ns = await createNamedNetns(name, { loopbackUp });
    return { name, ns };
  }

  async cleanup(): Promise<void> {
    for (const name of this.created.splice(0)) await deleteNamedNetns(name).catch(() => undefined);
  }
}

/** The example NIC of the spec. */
export const NIC = {
  mac: '52:54:9e:d0:dd:96',
  vxnetId: 'vxnet-abc1234',
  table: 260,
  network: '172.22.0.0/24',
  gateway: '172.22.0.1',
} as const;

export const NODE_IP = '172.22.0.21';

/**
 * A "node": an `eth0` with 172.22.0.21/24, and a NIC (a veth end, since this kernel has no
 * dummy driver) carrying the NIC MAC, not yet set up.
 */
export async function buildNode(ns: Netns): Promise<void> {
  await applyBatchOrThrow(
    [
      vethAddOp({ name: 'nic0', peerName: 'vpc0', mac: NIC.mac }),
      vethAddOp({ name: 'eth0', peerName: 'uplink0' }),
      addrReplaceOp({ cidr: `${NODE_IP}/24`, dev: 'eth0' }),
      linkSetOp('eth0', { up: true }),
      linkSetOp('uplink0', { up: true }),
      linkSetOp('vpc0', { up: true }),
    ],
    { netns: ns },
  );
}

/** A temporary directory (for lock files), removed by the returned function. */
export async function tempDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'hnl-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Whether ebtables in this kernel accepts the arpreply rule with --logical-in (nft needs meta ibrname). */
export async function ebtablesSupportsLogicalIn(nsName: string): Promise<{ ok: boolean; reason: string }> {
  const r = await tryRun([
    'ip', 'netns', 'exec', nsName, 'ebtables', '-t', 'nat', '-A', 'PREROUTING', '-p', 'ARP', '--logical-in', 'br_probe',
    '-j', 'ACCEPT',
  ]);
  if (r.code === 0) {
    await tryRun(['ip', 'netns', 'exec', nsName, 'ebtables', '-t', 'nat', '-F', 'PREROUTING']);
    return { ok: true, reason: '' };
  }
  return { ok: false, reason: r.stderr.trim() };
}
