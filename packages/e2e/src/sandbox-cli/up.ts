/**
 * `up`: starts the supervisor of a named sandbox as a detached process (its output in logs/supervisor.log)
 * and waits until it has written state.json, or has died, in which case everything it made is removed.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_VXNETS } from '@hostnic/sandbox/cluster';
import type { VxnetOption } from '@hostnic/sandbox/cluster';
import { REPO, until } from '../stack/index.ts';
import { down } from './down.ts';
import { readState, SandboxUsageError } from './state.ts';
import type { SandboxDirs, SandboxState } from './state.ts';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const VXNET_SPEC = /^(vxnet-[a-z0-9]+)=(\d+\.\d+\.\d+\.\d+\/\d+)(:vlan)?$/;

/** `vxnet-a=172.16.3.0/24,vxnet-b=172.16.4.0/24:vlan`: the pod vxnets; the management vxnet is added. */
export function parseVxnets(spec: string | undefined): VxnetOption[] {
  const management = DEFAULT_VXNETS.filter((v) => v.management === true);
  if (spec === undefined) return [...DEFAULT_VXNETS];
  const pods = spec.split(',').map((item, index) => {
    const m = VXNET_SPEC.exec(item.trim());
    if (m === null) {
      throw new SandboxUsageError(`--vxnets item ${index + 1} "${item}": write <vxnet id>=<cidr>[:vlan], e.g. vxnet-pods001=172.16.3.0/24`);
    }
    return { id: m[1] ?? '', cidr: m[2] ?? '', ...(m[3] === undefined ? {} : { tunnelType: 'vlan' as const }) };
  });
  return [...management, ...pods];
}

export interface UpOptions {
  readonly nodes: number;
  readonly vxnets: readonly VxnetOption[];
  readonly installAsDocumented?: boolean;
  readonly timeoutMs?: number;
  /** Each line the supervisor prints while the sandbox comes up (its progress, the install steps). */
  readonly onProgress?: (line: string) => void;
}

function tail(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-30).join('\n') : '(no log)';
}

export async function up(dirs: SandboxDirs, options: UpOptions): Promise<SandboxState> {
  if (existsSync(dirs.root)) {
    throw new SandboxUsageError(`sandbox "${dirs.name}" exists (${dirs.root}): take it down first with \`hostnic-sandbox down ${dirs.name}\``);
  }
  await mkdir(dirs.logDir, { recursive: true });
  const log = join(dirs.logDir, 'supervisor.log');
  const fd = openSync(log, 'a');
  let exited = false;
  try {
    const child = spawn(
      process.execPath,
      [
        '--conditions=@hostnic/source', MAIN, 'supervise', '--state-dir', dirs.root, '--nodes', String(options.nodes), '--vxnets-json', JSON.stringify(options.vxnets),
        ...(options.installAsDocumented === true ? ['--install-as-documented'] : []),
      ],
      { cwd: REPO, env: { ...process.env, KUBECONFIG: '' }, stdio: ['ignore', fd, fd], detached: true },
    );
    child.on('exit', () => (exited = true));
    child.unref();
  } finally {
    closeSync(fd);
  }
  let printed = 0;
  const progress = (): void => {
    if (options.onProgress === undefined || !existsSync(log)) return;
    const lines = readFileSync(log, 'utf8').split('\n');
    // The last element is a line still being written (or empty): it is printed once complete.
    for (const line of lines.slice(printed, -1)) options.onProgress(line);
    printed = Math.max(printed, lines.length - 1);
  };
  try {
    return await until(`sandbox ${dirs.name} to be up`, options.timeoutMs ?? 180_000, async () => {
      progress();
      if (existsSync(dirs.stateFile)) return readState(dirs);
      if (exited) throw new Error("the sandbox supervisor exited before it was up");
      return undefined;
    });
  } catch (e) {
    const cause = e instanceof Error ? e.message : String(e);
    await down(dirs);
    throw new Error(`hostnic-sandbox up ${dirs.name} failed; everything it made is removed.\n${cause}\n${tail(log)}`, { cause: e });
  }
}
