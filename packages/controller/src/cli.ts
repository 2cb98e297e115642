#!/usr/bin/env node
/**
 * hostnic-controller command line. `run` is the default command so that the Go Deployment's command line
 * (`/app/hostnic-controller --v=5`) keeps working; `ipam show|check|release` are the operator's tools.
 */
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { IaasClient } from '@hostnic/iaas-client';
import { formatDuration, parseDuration } from './cli/duration.ts';
import { loadKubeConfig } from './cli/kube.ts';
import { ipamCommand } from './cli/ipam.ts';
import { parseClusterConfig } from './config/cluster-config.ts';
import type { ClusterConfig } from './config/cluster-config.ts';
import { startController } from './daemon/controller.ts';
import type { LogLevel } from './log.ts';
import { errorText, jsonLogger } from './log.ts';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Readonly<Record<string, string | undefined>>;
  /** Resolves when the process is asked to stop (SIGTERM/SIGINT); tests pass their own. */
  stopSignal?: Promise<void>;
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export const DEFAULT_IAAS_CONFIG = '/root/.qingcloud/config.yaml';
export const DEFAULT_METRICS_PORT = 9192;

function duration(option: string): (value: string) => number {
  return (value) => {
    try {
      return parseDuration(value, option);
    } catch (e) {
      throw new InvalidArgumentError(errorText(e));
    }
  };
}

/** A duration option whose help shows `5m`, not 300000. */
function dur(flags: string, description: string, defaultMs: number): Option {
  const name = flags.split(' ')[0] ?? flags;
  return new Option(flags, description).argParser(duration(name)).default(defaultMs, formatDuration(defaultMs));
}

function integer(option: string, min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) throw new InvalidArgumentError(`${option} must be an integer from ${min} to ${max}`);
    return n;
  };
}

interface RunOptions {
  kubeconfig?: string;
  iaasConfig: string;
  clusterConfig?: string;
  identity?: string;
  leaseNamespace: string;
  leaseName: string;
  leaseDuration: number;
  renewDeadline: number;
  retryPeriod: number;
  metricsPort: number;
  metricsBind?: string;
  workers: number;
  resync: number;
  ipamGcInterval: number;
  ipamLeakGrace: number;
  nicGcInterval: number;
  nicLeakGrace: number;
  releaseCooldown: number;
  logLevel: LogLevel;
  v?: number;
}

async function run(opts: RunOptions, io: CliIo): Promise<number> {
  const level: LogLevel = opts.v !== undefined && opts.v >= 4 ? 'debug' : opts.logLevel;
  const log = jsonLogger((line) => io.stderr(line), { level });
  const kc = loadKubeConfig(opts.kubeconfig);
  let clusterConfig: ClusterConfig | undefined;
  if (opts.clusterConfig !== undefined) clusterConfig = parseClusterConfig(await readFile(opts.clusterConfig, 'utf8'), opts.clusterConfig);
  const iaas = await IaasClient.fromConfigFile(opts.iaasConfig);
  try {
    // The start-up check of credentials, endpoint and clock, as the original made (DescribeAccessKeys).
    const owner = await iaas.whoAmI();
    log.info('IaaS credentials work', { owner, zone: iaas.config.zone });
  } catch (e) {
    await iaas.close();
    throw new Error(`the QingCloud API refused the credentials in ${opts.iaasConfig}: ${errorText(e)} (check Secret kube-system/qcsecret)`, { cause: e });
  }
  const identity = opts.identity ?? io.env['POD_NAME'] ?? `${hostname()}_${process.pid}`;
  const controller = await startController({
    kubeConfig: kc,
    iaas,
    identity,
    lease: { namespace: opts.leaseNamespace, name: opts.leaseName, durationMs: opts.leaseDuration, renewDeadlineMs: opts.renewDeadline, retryPeriodMs: opts.retryPeriod },
    ...(clusterConfig === undefined ? {} : { clusterConfig }),
    workers: opts.workers,
    resyncMs: opts.resync,
    ipamGcIntervalMs: opts.ipamGcInterval,
    ipamLeakGraceMs: opts.ipamLeakGrace,
    nicGcIntervalMs: opts.nicGcInterval,
    nicLeakGraceMs: opts.nicLeakGrace,
    cooldownMs: opts.releaseCooldown,
    metricsPort: opts.metricsPort,
    ...(opts.metricsBind === undefined ? {} : { metricsHost: opts.metricsBind }),
    log,
  });
  log.info('hostnic-controller started', { identity, metricsPort: controller.port });
  await (io.stopSignal ?? stopSignal());
  log.info('stopping');
  await controller.stop();
  await iaas.close();
  return EXIT_OK;
}

function stopSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
}

export function buildProgram(io: CliIo, setCode: (code: number) => void): Command {
  const program = new Command('hostnic-controller')
    .description('hostnic cluster controller: VxNetPool to IPPools and blocks, namespace mapping, cleanup of leaked addresses and NICs')
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');

  program
    .command('run', { isDefault: true })
    .summary('run the controller (the default command)')
    .option('--kubeconfig <file>', 'kubeconfig (default: KUBECONFIG, else ~/.kube/config, else in-cluster)')
    .option('--iaas-config <file>', 'QingCloud SDK config', DEFAULT_IAAS_CONFIG)
    .option('--cluster-config <file>', 'qingcloud.yaml (default: ConfigMap kube-system/clusterconfig, watched)')
    .option('--identity <name>', 'name in the leader Lease (default: POD_NAME, else host_pid)')
    .option('--lease-namespace <ns>', 'namespace of the leader Lease', 'kube-system')
    .option('--lease-name <name>', 'name of the leader Lease', 'hostnic-controller')
    .addOption(dur('--lease-duration <d>', 'how long a lease holds without renewal', 15_000))
    .addOption(dur('--renew-deadline <d>', 'a leader that cannot renew for this long stops writing', 10_000))
    .addOption(dur('--retry-period <d>', 'lease renew/acquire interval', 2_000))
    .option('--metrics-port <port>', 'port of /metrics, /healthz, /readyz, /status', integer('--metrics-port', 0, 65535), DEFAULT_METRICS_PORT)
    .option('--metrics-bind <address>', 'address to bind it to (default all)')
    .option('--workers <n>', 'IPPool workers', integer('--workers', 1, 64), 2)
    .addOption(dur('--resync <d>', 'informer resync', 30_000))
    .addOption(dur('--ipam-gc-interval <d>', 'leaked address and handle check interval', 5 * 60_000))
    .addOption(dur('--ipam-leak-grace <d>', 'age before an address of a gone pod is released', 5 * 60_000))
    .addOption(dur('--nic-gc-interval <d>', 'leaked NIC sweep interval (0 = off)', 5 * 60_000))
    .addOption(dur('--nic-leak-grace <d>', 'how long a leaked NIC is observed before it is removed', 10 * 60_000))
    .addOption(dur('--release-cooldown <d>', 'cooldown of released addresses (must match the agents)', 60_000))
    .addOption(new Option('--log-level <level>', 'log level').choices(['debug', 'info', 'warn', 'error']).default('info'))
    .addOption(new Option('--v <n>', 'klog verbosity of the Go controller (>= 4 means debug)').argParser(integer('--v', 0, 10)))
    .addOption(new Option('--k8s-api-qps <n>', 'accepted for compatibility with the Go controller').hideHelp())
    .addOption(new Option('--k8s-api-burst <n>', 'accepted for compatibility with the Go controller').hideHelp())
    .action(async (opts: RunOptions) => {
      setCode(await run(opts, io));
    });

  program.addCommand(ipamCommand({ stdout: io.stdout, stderr: io.stderr, setExitCode: setCode }));
  return program;
}

/** Runs one command line (without the node and script arguments) and returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let code = EXIT_OK;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    io.stderr(`hostnic-controller: ${errorText(err)}\n`);
    return EXIT_FAILURE;
  }
}

function isMain(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  process.exitCode = await runCli(process.argv.slice(2), {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    env: process.env,
  });
}
