/**
 * The image test's container engine: podman as root, every container without a network (never a bridge or a
 * rule in the machine's network namespace), with runc and explicit limits so it also runs inside an
 * unprivileged container host (no CAP_SYS_RESOURCE to raise limits, cgroups v1 where crun refuses).
 */
import { spawnSync } from 'node:child_process';
import { homedir } from 'node:os';

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).status === 0;
}

function run(argv: readonly string[], timeoutMs: number, env?: NodeJS.ProcessEnv): Run {
  const [program, ...args] = argv;
  if (program === undefined) throw new Error('empty command line');
  // A task runner may pass no HOME; podman, buildah and the root filesystem cache look there.
  const withHome = { ...(env ?? process.env), HOME: (env ?? process.env)['HOME'] ?? homedir() };
  const r = spawnSync(program, args, { encoding: 'utf8', timeout: timeoutMs, env: withHome, maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Soft limit of this process's open files, lowered to what a container ever needs: setting it never raises. */
function openFilesLimit(): number {
  const soft = Number(spawnSync('sh', ['-c', 'ulimit -Sn'], { encoding: 'utf8' }).stdout.trim());
  return Number.isFinite(soft) && soft > 0 ? Math.min(soft, 65_536) : 1024;
}

export interface ContainerOptions {
  /** host:container[:ro] bind mounts */
  volumes?: readonly string[];
  user?: string;
  env?: Readonly<Record<string, string>>;
  /** A namespace of the test's own (by path) instead of none; never the machine's. */
  netnsPath?: string;
  /** Privileged, or these capabilities only (all others dropped). */
  privileges?: 'privileged' | readonly string[];
  /** Paths the runtime masks or mounts read-only that this container gets as they are (e.g. /proc/sys). */
  unmask?: readonly string[];
  /** A read-only root filesystem (securityContext.readOnlyRootFilesystem). */
  readOnlyRoot?: boolean;
  /** tmpfs mounts (an emptyDir of medium Memory). */
  tmpfs?: readonly string[];
  /** No privilege escalation (allowPrivilegeEscalation: false). */
  noNewPrivileges?: boolean;
  /** The container's output in this file, in the CRI log format kubelet writes (podman's k8s-file driver). */
  criLogFile?: string;
}

function runArgv(image: string, command: readonly string[], options: ContainerOptions): string[] {
  const files = openFilesLimit();
  const network = options.netnsPath === undefined ? 'none' : `ns:${options.netnsPath}`;
  const argv = [`--network=${network}`, '--runtime', 'runc', '--ulimit', `nofile=${files}:${files}`, '--ulimit', 'nproc=4096:4096'];
  const privileges = options.privileges;
  if (privileges === 'privileged') argv.push('--privileged');
  else if (privileges !== undefined) argv.push('--cap-drop=all', ...privileges.map((c) => `--cap-add=${c}`));
  for (const path of options.unmask ?? []) argv.push('--security-opt', `unmask=${path}`);
  if (options.noNewPrivileges === true) argv.push('--security-opt', 'no-new-privileges');
  if (options.readOnlyRoot === true) argv.push('--read-only');
  for (const t of options.tmpfs ?? []) argv.push('--tmpfs', t);
  if (options.criLogFile !== undefined) argv.push('--log-driver', 'k8s-file', '--log-opt', `path=${options.criLogFile}`);
  for (const v of options.volumes ?? []) argv.push('-v', v);
  if (options.user !== undefined) argv.push('--user', options.user);
  for (const [k, v] of Object.entries(options.env ?? {})) argv.push('--env', `${k}=${v}`);
  return [...argv, image, ...command];
}

export function podmanRun(image: string, command: readonly string[], options: ContainerOptions = {}): Run {
  return run(['podman', 'run', '--rm', ...runArgv(image, command, options)], 120_000);
}

/** A long-running container (a daemon), named so that a test can read its logs, exec in it and remove it. */
export function podmanStart(name: string, image: string, command: readonly string[], options: ContainerOptions = {}): Run {
  return run(['podman', 'run', '--detach', '--name', name, ...runArgv(image, command, options)], 120_000);
}

export function podman(args: readonly string[]): Run {
  return run(['podman', ...args], 120_000);
}

/**
 * scripts/image/build.sh from the bundles already built (this package's tests depend on the apps' build),
 * the root filesystem from cache.
 */
export function buildImage(repo: string, ref: string): Run {
  return run(['bash', `${repo}/scripts/image/build.sh`, '--no-build'], 600_000, { ...process.env, HOSTNIC_IMAGE: ref });
}
