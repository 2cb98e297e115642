#!/usr/bin/env node
/**
 * hostnic-controller command line. `run` is the default command so that the Go Deployment's command line
 * (`/app/hostnic-controller --v=5`) keeps working; `ipam show|check|release` are the operator's tools.
 */
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { InvalidArgumentError, Option } from 'commander';
import type { Command } from 'commander';
import { IaasClient } from '@hostnic/iaas-client';
import {
  EXIT_OK, LOG_LEVELS, Metrics, checkDelay, chooseLevel, createLogger, errorText, isMainModule, newProgram, processIo, requestFamilies, runProgram,
  stopSignal,
} from '@hostnic/runtime';
import { KubeClient, loadKubeAccess } from '@hostnic/runtime/kube/http';
import pkg from '../package.json' with { type: 'json' };
import { formatDuration, parseDuration } from './cli/duration.ts';
import { ipamCommand } from './cli/ipam.ts';
import { vipsCommand } from './cli/vips.ts';
import { parseClusterConfig } from './config/cluster-config.ts';
import type { ClusterConfig } from './config/cluster-config.ts';
import { startController } from './daemon/controller.ts';
import { controllerFailpointFromEnv } from './failpoints.ts';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Readonly<Record<string, string | undefined>>;
  /** Resolves when the process is asked to stop (SIGTERM/SIGINT); tests pass their own. */
  stopSignal?: Promise<void>;
}

export { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from '@hostnic/runtime';

export const DEFAULT_IAAS_CONFIG = '/root/.qingcloud/config.yaml';
export const DEFAULT_METRICS_PORT = 9192;

function duration(option: string): (value: string) => number {
  return (value) => {
    try {
      // Node runs a timer above 2^31-1 ms after 1 ms: a month-long interval would become a busy loop.
      return checkDelay(option, parseDuration(value, option));
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
  hostmachineLabel?: boolean;
  hostmachineLabelInterval: number;
  logLevel?: string;
  v?: number;
  k8sApiQps?: number;
  k8sApiBurst?: number;
}

async function run(opts: RunOptions, io: CliIo): Promise<number> {
  // First: a misspelt step must stop a crash test before anything is written.
  const failpoint = controllerFailpointFromEnv(io.env);
  const log = createLogger({ level: chooseLevel(opts), fields: { component: 'controller' }, destination: { write: (line: string) => io.stderr(line) } });
  const rateLimit = opts.k8sApiQps === undefined ? undefined : { qps: opts.k8sApiQps, burst: opts.k8sApiBurst ?? Math.max(1, Math.ceil(opts.k8sApiQps)) };
  const { access, source } = await loadKubeAccess(opts.kubeconfig, io.env, { homeConfig: true });
  let clusterConfig: ClusterConfig | undefined;
  if (opts.clusterConfig !== undefined) clusterConfig = parseClusterConfig(await readFile(opts.clusterConfig, 'utf8'), opts.clusterConfig);
  const metrics = new Metrics({ component: 'controller', version: pkg.version });
  const iaasRequests = requestFamilies(metrics, 'hostnic_iaas', 'QingCloud API');
  const iaas = await IaasClient.fromConfigFile(opts.iaasConfig, {
    onRequest: (e) => iaasRequests.observe(e.action, e.outcome, e.durationMs / 1000),
  });
  try {
    // The start-up check of credentials, endpoint and clock, as the original made (DescribeAccessKeys).
    const owner = await iaas.whoAmI();
    log.info('IaaS credentials work', { owner, zone: iaas.config.zone });
  } catch (e) {
    await iaas.close();
    throw new Error(`the QingCloud API refused the credentials in ${opts.iaasConfig}: ${errorText(e)} (check Secret kube-system/qcsecret)`, { cause: e });
  }
  const identity = opts.identity ?? io.env['POD_NAME'] ?? `${hostname()}_${process.pid}`;
  const kube = new KubeClient(access, { rateLimit, userAgent: `hostnic-controller/${pkg.version}` });
  const controller = await startController({
    kube,
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
    ...(opts.hostmachineLabel === true ? { hostMachineLabelIntervalMs: opts.hostmachineLabelInterval } : {}),
    cooldownMs: opts.releaseCooldown,
    metricsPort: opts.metricsPort,
    ...metricsHost(opts.metricsBind, io.env),
    metrics,
    log,
    failpoint,
  });
  log.info('hostnic-controller started', { identity, kubeconfig: source, metricsPort: controller.port });
  await (io.stopSignal ?? stopSignal());
  log.info('stopping');
  await controller.stop();
  await kube.close();
  await iaas.close();
  return EXIT_OK;
}

/** `--metrics-bind`, else the pod's own address (POD_IP from the downward API), else every address. */
function metricsHost(flag: string | undefined, env: CliIo['env']): { metricsHost?: string } {
  const host = flag ?? env['POD_IP'];
  return host === undefined || host === '' ? {} : { metricsHost: host };
}

export function buildProgram(io: CliIo, setCode: (code: number) => void): Command {
  const program = newProgram(
    'hostnic-controller',
    'hostnic cluster controller: VxNetPool to IPPools and blocks, namespace mapping, cleanup of leaked addresses and NICs',
    pkg.version,
    io,
  );

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
    .option('--metrics-bind <address>', 'address to bind it to (default: env POD_IP, else all)')
    .option('--workers <n>', 'IPPool workers', integer('--workers', 1, 64), 2)
    .addOption(dur('--resync <d>', 'informer resync', 30_000))
    .addOption(dur('--ipam-gc-interval <d>', 'leaked address and handle check interval', 5 * 60_000))
    .addOption(dur('--ipam-leak-grace <d>', 'age before an address of a gone pod is released', 5 * 60_000))
    .addOption(dur('--nic-gc-interval <d>', 'leaked NIC sweep interval (0 = off)', 5 * 60_000))
    .addOption(dur('--nic-leak-grace <d>', 'how long a leaked NIC is observed before it is removed', 10 * 60_000))
    .addOption(dur('--release-cooldown <d>', 'cooldown of released addresses (must match the agents)', 60_000))
    .option('--hostmachine-label', 'keep the node label topology.kubernetes.io/hostmachine from the QingCloud host of each node (needs clusterID in clusterconfig)')
    .addOption(dur('--hostmachine-label-interval <d>', 'how often the label is checked (with --hostmachine-label)', 10 * 60_000))
    .addOption(new Option('--log-level <level>', 'log level (default info, or from --v)').choices(LOG_LEVELS))
    .addOption(new Option('--v <n>', 'klog verbosity of the Go controller: 3-4 debug, 5+ trace').argParser(integer('--v', 0, 10)))
    .addOption(new Option('--k8s-api-qps <n>', 'Kubernetes client rate limit in requests per second (default none)').argParser(integer('--k8s-api-qps', 1, 100000)))
    .addOption(new Option('--k8s-api-burst <n>', 'Kubernetes client burst (default: the qps)').argParser(integer('--k8s-api-burst', 1, 100000)))
    .action(async (opts: RunOptions) => {
      setCode(await run(opts, io));
    });

  program.addCommand(ipamCommand({ stdout: io.stdout, stderr: io.stderr, setExitCode: setCode }));
  program.addCommand(vipsCommand({ stdout: io.stdout, stderr: io.stderr, setExitCode: setCode }));
  return program;
}

/** Runs one command line (without the node and script arguments) and returns the exit code. */
export function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  return runProgram((setCode) => buildProgram(io, setCode), argv, io);
}

if (isMainModule(import.meta.url)) {
  process.exitCode = await runCli(process.argv.slice(2), processIo());
}
