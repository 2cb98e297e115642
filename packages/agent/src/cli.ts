#!/usr/bin/env node
/**
 * hostnic-agent command line. `run` is the default command so that the Go DaemonSet's command line
 * (`/app/hostnic-agent --v=5 --metrics-port=9191`) keeps working unchanged.
 */

import { networkInterfaces } from 'node:os';
import { Argument, InvalidArgumentError, Option } from 'commander';
import type { Command } from 'commander';
import { EXIT_OK, LOG_LEVELS, chooseLevel, createLogger, isMainModule, newProgram, processIo, runProgram, stopSignal } from '@hostnic/runtime';
import pkg from '../package.json' with { type: 'json' };
import { INSPECT_KINDS, InspectError, agentGet, describeFailure, renderTable, rowsOf } from './cli-inspect.ts';
import type { InspectKind } from './cli-inspect.ts';
import { writeDiagsBundle } from './cli-diags.ts';
import { KUBELET_POD_LOGS } from './diags/parts.ts';
import { EXIT_ORPHANS_FOUND, checkCommand, clearNicsCommand } from './cli-operator.ts';
import type { OperatorRequest } from './cli-operator.ts';
import {
  PATH_ENV,
  installCni,
  loadAgentConfig,
  nicNameFor,
  nodeNameFromEnv,
  readInstanceId,
  resolveAgentPaths,
} from './config/index.ts';
import type { AgentConfig, AgentPathFlags, AgentPathName, ConfigWarning } from './config/index.ts';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Readonly<Record<string, string | undefined>>;
  /** Relative paths on the command line resolve against it; process.cwd() by default. */
  cwd?: string;
  /** The Node runtime install-cni copies by default; process.execPath by default. */
  execPath?: string;
}

export { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from '@hostnic/runtime';
import { defaultMetricsHost } from './daemon/metrics-host.ts';

const PATH_FLAGS: { name: AgentPathName; flag: string; help: string }[] = [
  { name: 'config', flag: '--config <file>', help: 'hostnic.json (default /etc/hostnic/hostnic.json; absent = defaults)' },
  { name: 'qingcloudConfig', flag: '--qingcloud-config <file>', help: 'QingCloud SDK config (default /root/.qingcloud/config.yaml)' },
  { name: 'instanceIdFile', flag: '--instance-id-file <file>', help: 'instance id file (default /etc/qingcloud/instance-id)' },
  { name: 'stateDir', flag: '--state-dir <dir>', help: 'datastore directory (default agent.stateDir, /var/lib/hostnic)' },
  { name: 'socket', flag: '--socket <file>', help: 'the agent\'s unix socket (default server.serverPath, /var/run/hostnic/hostnic.socket)' },
  { name: 'spoolDir', flag: '--spool-dir <dir>', help: 'the plugin\'s release spool (default agent.spoolDir, /var/lib/hostnic/spool)' },
  { name: 'cniBinDir', flag: '--cni-bin-dir <dir>', help: 'CNI bin dir as the node sees it (default /opt/cni/bin)' },
  { name: 'cniConfDir', flag: '--cni-conf-dir <dir>', help: 'CNI conf dir as the node sees it (default /etc/cni/net.d)' },
  { name: 'cniConfigSource', flag: '--cni-config-source <file>', help: 'the hostnic-cni ConfigMap key as mounted (default /etc/hostnic/10-hostnic.conf)' },
  { name: 'pluginBundle', flag: '--plugin-bundle <file>', help: 'the plugin bundle to install (default packages/cni-plugin/dist/hostnic, else /app/hostnic)' },
  { name: 'nodeRuntime', flag: '--node-runtime <file>', help: 'the Node binary to install as hostnic-node (default: this process\'s)' },
  { name: 'hostRoot', flag: '--host-root <dir>', help: 'where the node\'s / is mounted, e.g. /host (default /)' },
];

function intOption(name: string, min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
    }
    return n;
  };
}

function addPathFlags(cmd: Command, names: readonly AgentPathName[]): Command {
  for (const p of PATH_FLAGS) {
    if (names.includes(p.name)) cmd.addOption(new Option(p.flag, `${p.help} [env ${PATH_ENV[p.name]}]`));
  }
  return cmd;
}

function pathFlags(opts: Record<string, unknown>): AgentPathFlags {
  const flags: AgentPathFlags = {};
  for (const { name } of PATH_FLAGS) {
    const v = opts[name];
    if (typeof v === 'string') flags[name] = v;
  }
  return flags;
}

function printWarnings(io: CliIo, warnings: readonly (ConfigWarning | string)[]): void {
  for (const w of warnings) io.stderr(`warning: ${typeof w === 'string' ? w : w.message}\n`);
}

interface RunOptions {
  metricsPort?: number;
  metricsBind?: string;
  logLevel?: string;
  v?: number;
  k8sApiQps?: number;
  k8sApiBurst?: number;
  dbpath?: string;
  validateOnly?: boolean;
  kubeconfig?: string;
}

/**
 * hostnic.json, the paths, the instance id, the node name and the QingCloud config as `run` uses them; the
 * `effective` view (what `run` prints, and diags records) never holds the keys.
 */
async function loadEffective(io: CliIo, opts: Record<string, unknown> & RunOptions) {
  const flags = pathFlags(opts);
  // --dbpath is the Go agent's name for the state dir.
  if (flags.stateDir === undefined && opts.dbpath !== undefined) flags.stateDir = opts.dbpath;
  const base = { cwd: io.cwd ?? process.cwd(), execPath: io.execPath ?? process.execPath };
  const first = resolveAgentPaths(flags, io.env, base);
  const loaded = await loadAgentConfig(first.configFile, { required: first.configFileExplicit });
  printWarnings(io, loaded.warnings);
  const paths = resolveAgentPaths(flags, io.env, { ...base, config: loaded.config });

  const config: AgentConfig = structuredClone(loaded.config);
  config.server.serverPath = paths.socket;
  config.agent.stateDir = paths.stateDir;
  config.agent.spoolDir = paths.spoolDir;
  if (opts.metricsPort !== undefined) config.agent.metricsPort = opts.metricsPort;
  if (opts.k8sApiQps !== undefined) config.agent.k8sApiQps = opts.k8sApiQps;
  if (opts.k8sApiBurst !== undefined) config.agent.k8sApiBurst = opts.k8sApiBurst;

  // Identity and credentials fail before anything talks to Kubernetes, as in the original.
  const instanceId = await readInstanceId(paths.instanceIdFile);
  const node = nodeNameFromEnv(io.env);
  // Loaded lazily: inspect and install-cni must not need the IaaS client.
  const { loadConfig } = await import('@hostnic/iaas-client');
  const iaas = await loadConfig(paths.qingcloudConfig);
  if (iaas.unknownKeys.length > 0) {
    printWarnings(io, [`${paths.qingcloudConfig}: unknown keys ignored: ${iaas.unknownKeys.join(', ')}`]);
  }

  const effective = {
    config,
    configFile: { path: loaded.file, present: loaded.fromFile },
    paths,
    identity: { instanceId, nicName: nicNameFor(instanceId), nodeName: node.nodeName, nodeNameFrom: node.variable },
    // Never the keys.
    iaas: { file: paths.qingcloudConfig, zone: iaas.zone, host: iaas.host, port: iaas.port, protocol: iaas.protocol, uri: iaas.uri },
  };
  return { config, paths, instanceId, node, iaas, effective };
}

async function runCommand(io: CliIo, opts: Record<string, unknown> & RunOptions): Promise<number> {
  const { config, paths, instanceId, node, iaas, effective } = await loadEffective(io, opts);
  io.stdout(`${JSON.stringify(effective, null, 2)}\n`);
  if (opts.validateOnly === true) {
    io.stderr('hostnic-agent: configuration, identity and credentials file are valid\n');
    return EXIT_OK;
  }
  // Loaded lazily for the same reason as the IaaS client: inspect and install-cni need none of it.
  const { startAgent } = await import('./daemon/index.ts');
  const log = createLogger({ level: chooseLevel(opts), fields: { component: 'agent' }, destination: { write: (line: string) => io.stderr(line) } });
  // A second signal while stopping exits at once.
  const stop = stopSignal(() => process.exit(1));
  const agent = await startAgent({
    config,
    paths,
    instanceId,
    nodeName: node.nodeName,
    iaasConfig: iaas,
    kubeconfig: opts.kubeconfig,
    env: io.env,
    log,
    metricsHost: opts.metricsBind ?? defaultMetricsHost(io.env, networkInterfaces()),
  });
  const signal = await stop;
  log.info('signal received; stopping gracefully', { signal });
  await agent.close();
  return EXIT_OK;
}

async function installCniCommand(io: CliIo, opts: Record<string, unknown>): Promise<number> {
  const paths = resolveAgentPaths(pathFlags(opts), io.env, {
    cwd: io.cwd ?? process.cwd(),
    execPath: io.execPath ?? process.execPath,
  });
  const result = await installCni(paths);
  printWarnings(io, result.warnings);
  if (opts['json'] === true) {
    io.stdout(`${JSON.stringify(result, null, 2)}\n`);
    return EXIT_OK;
  }
  for (const f of [result.runtime, result.plugin, result.config]) {
    const where = f.path === f.nodePath ? f.path : `${f.nodePath} (written as ${f.path})`;
    io.stdout(`${f.outcome.padEnd(10)} ${where}\n`);
  }
  for (const r of result.removed) io.stdout(`${'removed'.padEnd(10)} ${r} (stale single-plugin config)\n`);
  return EXIT_OK;
}

/** The paths of a command that talks to the running agent: its socket may have been moved in hostnic.json. */
async function clientPaths(io: CliIo, opts: Record<string, unknown>): Promise<ReturnType<typeof resolveAgentPaths>> {
  const cwd = io.cwd ?? process.cwd();
  const flags = pathFlags(opts);
  let paths = resolveAgentPaths(flags, io.env, { cwd });
  if (flags.socket === undefined && io.env[PATH_ENV.socket] === undefined) {
    // A broken file only costs the default here.
    try {
      const loaded = await loadAgentConfig(paths.configFile, { required: paths.configFileExplicit });
      paths = resolveAgentPaths(flags, io.env, { cwd, config: loaded.config });
    } catch (err) {
      printWarnings(io, [`${err instanceof Error ? err.message : String(err)}; using socket ${paths.socket}`]);
    }
  }
  return paths;
}

async function diagsCommand(io: CliIo, opts: Record<string, unknown>): Promise<number> {
  const paths = await clientPaths(io, opts);
  const { file, outcomes } = await writeDiagsBundle({
    cwd: io.cwd ?? process.cwd(),
    env: io.env,
    socket: paths.socket,
    qingcloudConfig: paths.qingcloudConfig,
    effectiveConfig: async () => (await loadEffective(io, opts)).effective,
    output: typeof opts['output'] === 'string' ? opts['output'] : undefined,
    logFiles: Array.isArray(opts['logFile']) ? opts['logFile'].filter((f): f is string => typeof f === 'string') : [],
    socketTimeoutMs: typeof opts['timeout'] === 'number' ? opts['timeout'] : 5000,
    version: pkg.version,
  });
  for (const o of outcomes.filter((x) => !x.ok)) io.stderr(`warning: ${o.file}: ${o.error ?? ''}\n`);
  io.stdout(`${file}\n`);
  return EXIT_OK;
}

function timeoutOf(opts: Record<string, unknown>): number {
  return typeof opts['timeout'] === 'number' ? opts['timeout'] : 5000;
}

async function operatorRequest(io: CliIo, opts: Record<string, unknown>): Promise<OperatorRequest> {
  return { socket: (await clientPaths(io, opts)).socket, timeoutMs: timeoutOf(opts), json: opts['json'] === true };
}

async function inspectCommand(io: CliIo, kind: InspectKind, opts: Record<string, unknown>): Promise<number> {
  const { socket } = await clientPaths(io, opts);
  const answer = await agentGet(socket, `/v1/${kind}`, timeoutOf(opts));
  if (answer.status < 200 || answer.status > 299) {
    throw new InspectError(`hostnic-agent answered ${answer.status} to GET /v1/${kind}: ${describeFailure(answer)}`);
  }
  if (opts['json'] === true) {
    io.stdout(`${JSON.stringify(answer.body, null, 2)}\n`);
    return EXIT_OK;
  }
  const rows = rowsOf(kind, answer.body);
  io.stdout(rows === undefined ? `${JSON.stringify(answer.body, null, 2)}\n` : renderTable(kind, rows));
  return EXIT_OK;
}

/** The flags every command talking to the running agent takes. */
function agentClientFlags(cmd: Command, defaultTimeoutMs: number): Command {
  addPathFlags(cmd, ['socket', 'config']);
  return cmd
    .option('--json', 'print the answer as JSON')
    .option('--timeout <ms>', 'request timeout', intOption('--timeout', 1, 3_600_000), defaultTimeoutMs);
}

function buildProgram(io: CliIo, setCode: (code: number) => void): Command {
  const program = newProgram('hostnic-agent', 'hostnic per-node agent: NICs, pod wiring and the CNI API on a unix socket', pkg.version, io);

  const run = program
    .command('run', { isDefault: true })
    .summary('run the agent (the default command)')
    .description(
      'Load hostnic.json, the instance id, the node name and the QingCloud config file, print the effective ' +
        'configuration, then run the daemon until SIGTERM/SIGINT (exit 0). With --validate-only, exit 0 after ' +
        "validating.\nThis is the default command, so the Go agent's command line (--v=5 --metrics-port=9191) is accepted.",
    );
  addPathFlags(run, ['config', 'qingcloudConfig', 'instanceIdFile', 'stateDir', 'socket', 'spoolDir']);
  run
    .option('--dbpath <dir>', 'same as --state-dir (the Go agent\'s name)')
    .option('--metrics-port <port>', 'Prometheus endpoint port (default agent.metricsPort, 9191)', intOption('--metrics-port', 1, 65535))
    .option('--k8s-api-qps <n>', 'Kubernetes client rate (default agent.k8sApiQps, 80)', intOption('--k8s-api-qps', 1, 100000))
    .option('--k8s-api-burst <n>', 'Kubernetes client burst (default agent.k8sApiBurst, 100)', intOption('--k8s-api-burst', 1, 100000))
    .option('--metrics-bind <address>', 'address of the metrics port (default env NODE_IP, else the node\'s first address)')
    .addOption(new Option('--log-level <level>', 'log level (default info, or from --v)').choices(LOG_LEVELS))
    .option('--v <level>', 'Go-style verbosity: 3-4 debug, 5+ trace (--log-level wins)', intOption('--v', 0, 10))
    .addOption(new Option('--logtostderr [bool]', 'klog compatibility; ignored (logs always go to stderr)').hideHelp())
    .option('--kubeconfig <file>', 'kubeconfig (default env KUBECONFIG, else the in-cluster service account)')
    .option('--validate-only', 'exit 0 after validating')
    .action(async (_o: unknown, cmd: Command) => {
      setCode(await runCommand(io, cmd.opts()));
    });

  const install = program
    .command('install-cni')
    .description(
      'Install the CNI plugin (hostnic), the Node runtime it runs on (hostnic-node) and 10-hostnic.conflist; ' +
        'atomic and idempotent',
    );
  addPathFlags(install, ['cniBinDir', 'cniConfDir', 'cniConfigSource', 'pluginBundle', 'nodeRuntime', 'hostRoot']);
  install.option('--json', 'print the result as JSON').action(async (_o: unknown, cmd: Command) => {
    setCode(await installCniCommand(io, cmd.opts()));
  });

  const inspect = program
    .command('inspect')
    .description("Show the running agent's pods, NICs or pools (GET /v1/<what> on its socket)")
    .addArgument(new Argument('<what>', INSPECT_KINDS.join(' | ')).choices(INSPECT_KINDS));
  agentClientFlags(inspect, 5000).action(async (what: InspectKind, _o: unknown, cmd: Command) => {
    setCode(await inspectCommand(io, what, cmd.opts()));
  });

  const check = program
    .command('check')
    .description(
      'List the kernel objects of this node that look like hostnic\'s but that no pod or NIC record and no ' +
        'operation in flight owns: host veths, rules 1535, ARP replies, route tables from routeTableBase, br_N ' +
        'bridges (the original\'s ipam-check). With --fix, remove them. Exit 0: nothing found (or all removed); ' +
        `${EXIT_ORPHANS_FOUND}: found, not removed; 1: a removal failed.`,
    )
    .option('--fix', 'remove what is found');
  agentClientFlags(check, 60_000).action(async (_o: unknown, cmd: Command) => {
    const opts = cmd.opts();
    setCode(await checkCommand(io, await operatorRequest(io, opts), opts['fix'] === true));
  });

  const nicsCmd = program.command('nics').description('NIC operations on the running agent');
  const clear = nicsCmd
    .command('clear')
    .description(
      'Free now every NIC of this node that no pod uses (the original\'s hostnic-client -clear); the warm ' +
        'pool\'s NICs stay (set agent.warmNicsPerVxnet to 0 to free them). Run with --dry-run first.',
    )
    .option('--dry-run', 'list what would be freed, free nothing');
  agentClientFlags(clear, 600_000).action(async (_o: unknown, cmd: Command) => {
    const opts = cmd.opts();
    setCode(await clearNicsCommand(io, await operatorRequest(io, opts), opts['dryRun'] === true));
  });

  const diags = program
    .command('diags')
    .description(
      'Write a support bundle (.tar.gz): the running agent\'s status, pods, NICs and pools, the node\'s links, ' +
        'addresses, routes, rules, neighbours, iptables-save, ebtables nat, sysctls, recent agent logs and the ' +
        'effective configuration with the secret key redacted. A part that fails is recorded as <part>.error.',
    );
  addPathFlags(diags, ['socket', 'config', 'qingcloudConfig', 'instanceIdFile', 'stateDir', 'spoolDir']);
  diags
    .option('--output <file>', 'the bundle to write (default hostnic-diags-<node>-<time>.tar.gz here)')
    .option('--log-file <file...>', `agent log files to include (default the hostnic-agent logs under ${KUBELET_POD_LOGS})`)
    .option('--timeout <ms>', 'timeout of each request to the agent', intOption('--timeout', 1, 600_000), 5000)
    .action(async (_o: unknown, cmd: Command) => {
      setCode(await diagsCommand(io, cmd.opts()));
    });
  return program;
}

/** Runs one command line (without the node and script arguments) and returns the exit code. */
export function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  return runProgram((setCode) => buildProgram(io, setCode), argv, io);
}

if (isMainModule(import.meta.url)) {
  process.exitCode = await runCli(process.argv.slice(2), processIo());
}
