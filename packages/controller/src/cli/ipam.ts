/**
 * `hostnic-controller ipam show|check|release`: the operator's view of the block IPAM and its repair tool,
 * like `calicoctl ipam`. Reads go through `@hostnic/ipam` stores; the only writes are those of `release`, and
 * they go through `Ipam.repair`, which re-reads and compares every object before writing.
 *
 * Exit codes: 0 done (check: clean); 1 check found problems, or release refused or could not release
 * something; 2 the command could not run (bad option value, API unreachable, ...). Commander's own usage
 * errors (unknown option, missing value) and `--help` throw a `CommanderError` instead of exiting, like a
 * program with `exitOverride()`.
 */
import { Command } from 'commander';
import type { IpamStore, LivePod, RepairResult } from '@hostnic/ipam';
import { DEFAULT_LEAK_GRACE_MS, DEFAULT_RELEASE_COOLDOWN_MS, Ipam, isDns1123Subdomain } from '@hostnic/ipam';
import { errorText } from '@hostnic/runtime';
import { formatDuration, parseDuration } from './duration.ts';
import { checkReport, renderCheckReport } from './ipam-check.ts';
import type { CheckReport } from './ipam-check.ts';
import type { ReleaseOutcome } from './ipam-release.ts';
import {
  addressOutcome,
  addressReleasePlan,
  handleOutcome,
  handleReleasePlan,
  podVerdict,
  refused,
  refuseHandleId,
  refuseLocation,
  renderReleaseOutcomes,
  wouldRelease,
} from './ipam-release.ts';
import type { AddressReport, PodName } from './ipam-show.ts';
import { addressReport, locateAddress, podOf, renderAddressReport, renderShowReport, showReport } from './ipam-show.ts';
import { kubeAccess } from './kube.ts';
import { plural } from './table.ts';

/** What the `ipam` commands use from the outside world; tests replace any part. */
export interface IpamCliDeps {
  /** The IPAM store (closed by the command when it is done). */
  openStore(kubeconfig: string | undefined): Promise<IpamStore>;
  /** Every pod of the cluster that is not finished. */
  listLivePods(kubeconfig: string | undefined): Promise<LivePod[]>;
  /** Every node's name; without it `ipam check` leaves address claims alone. */
  listNodeNames?(kubeconfig: string | undefined): Promise<string[]>;
  /** Whether a pod exists. */
  podExists(kubeconfig: string | undefined, namespace: string, name: string): Promise<boolean>;
  stdout(text: string): void;
  stderr(text: string): void;
  now(): Date;
  /** Where the exit code goes (default: `process.exitCode`). */
  setExitCode(code: number): void;
}

/** Exit codes of the `ipam` commands. */
export const IpamExitCode = {
  /** Done; `check`: no problem. */
  Ok: 0,
  /** `check`: problems found; `release`: something was refused or not released. */
  Problems: 1,
  /** The command could not run: bad options, unreachable API, ... */
  Error: 2,
} as const;
export type IpamExitCode = (typeof IpamExitCode)[keyof typeof IpamExitCode];

/** Bad options: the command did nothing. */
export class IpamUsageError extends Error {
  override name = 'IpamUsageError';
}

/** The real cluster and process. */
export function defaultIpamCliDeps(): IpamCliDeps {
  const kube = kubeAccess();
  return {
    openStore: (path) => kube.openStore(path),
    listLivePods: (path) => kube.listLivePods(path),
    listNodeNames: (path) => kube.listNodeNames(path),
    podExists: (path, namespace, name) => kube.podExists(path, namespace, name),
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    now: () => new Date(),
    setExitCode: (code) => {
      process.exitCode = code;
    },
  };
}

type OutputFormat = 'table' | 'json';

interface GlobalOptions {
  readonly kubeconfig: string | undefined;
  readonly output: OutputFormat;
  /** What `show` counts as cooling, and how long addresses released here cool down. */
  readonly cooldownMs: number;
}

function outputFormat(value: unknown): OutputFormat {
  if (value === 'table' || value === 'json') return value;
  throw new IpamUsageError(`--output ${JSON.stringify(value)} is not a format: use table or json`);
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];
const unique = (values: readonly string[]): string[] => [...new Set(values)];
const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

const HELP_AFTER = `
Exit codes: 0 done (check: no problem); 1 check found problems, or release refused
or could not release something; 2 the command could not run.

Examples:
  hostnic-controller ipam show --show-blocks
  hostnic-controller ipam show --ip 172.16.3.7
  hostnic-controller ipam check --grace 10m --show-plan
  hostnic-controller ipam release --ip 172.16.3.7 --dry-run
  hostnic-controller ipam release --handle default-web-0-4f2c9a...`;

/**
 * The `ipam` command with its subcommands `show`, `check` and `release`.
 * @param overrides - replacements for the real cluster and process (tests)
 */
export function ipamCommand(overrides: Partial<IpamCliDeps> = {}): Command {
  // The defaults are built only when needed, so tests never load a kubeconfig.
  const d: IpamCliDeps = { ...lazyDefaults(), ...overrides };
  const ipam = new Command('ipam')
    .description('inspect the IP address management (pools, blocks, handles) and release leaked addresses')
    .option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or the in-cluster account)')
    .option('-o, --output <format>', 'output format: table or json', 'table')
    .option('--release-cooldown <duration>', 'cooldown of released addresses (must match the agents)', formatDuration(DEFAULT_RELEASE_COOLDOWN_MS))
    .configureOutput({ writeOut: (s) => d.stdout(s), writeErr: (s) => d.stderr(s) })
    // Usage errors and --help throw a CommanderError instead of ending the process; the subcommands inherit it.
    .exitOverride()
    .showHelpAfterError()
    .addHelpText('after', HELP_AFTER);

  const globals = (cmd: Command): GlobalOptions => {
    const own = ipam.opts<{ kubeconfig?: string; output?: unknown; releaseCooldown: string }>();
    const inherited = cmd.optsWithGlobals<{ kubeconfig?: unknown }>();
    const kubeconfig = own.kubeconfig ?? (typeof inherited.kubeconfig === 'string' ? inherited.kubeconfig : undefined);
    return {
      kubeconfig,
      output: outputFormat(own.output),
      cooldownMs: parseDuration(own.releaseCooldown, '--release-cooldown'),
    };
  };

  const run =
    <O>(body: (options: O, g: GlobalOptions) => Promise<IpamExitCode>) =>
    async (options: O, cmd: Command): Promise<void> => {
      let code: IpamExitCode;
      try {
        code = await body(options, globals(cmd));
      } catch (error) {
        d.stderr(`error: ${errorText(error)}\n`);
        code = IpamExitCode.Error;
      }
      d.setExitCode(code);
    };

  ipam
    .command('show')
    .description('show address utilisation per pool (capacity, reserved, allocated, free), or who holds an address')
    .option('--show-blocks', 'also show every block: its CIDR, pool, the namespaces mapped to it and its figures')
    .option('--show-namespaces', 'also show every namespace: its blocks and the addresses its pods hold')
    .option('--ip <address>', 'instead of the utilisation, show who holds this address, or that it is free, cooling down or reserved (repeatable)', collect)
    .action(run<ShowOptions>((options, g) => runShow(d, g, options)));

  ipam
    .command('check')
    .description(
      'check the IPAM for leaked addresses, orphan or miscounted handles and damaged blocks; ' +
        'exits 1 when it finds problems; never writes',
    )
    .option('--grace <duration>', 'addresses of gone pods younger than this are not leaks yet (30s, 5m, 1h, or ms)', formatDuration(DEFAULT_LEAK_GRACE_MS))
    .option('--show-plan', 'also print the repair plan (ipam check does not apply it)')
    .option('--fix', 'record the addresses live pods use that their blocks forgot (the original ipam-client -fb); releases stay with `ipam release` and the controller')
    .action(run<CheckOptions>((options, g) => runCheck(d, g, options)));

  ipam
    .command('release')
    .description(
      'release addresses: exactly the address of each --ip, or every address of each --handle; refuses free or ' +
        'reserved addresses and addresses of pods that still exist (unless --force)',
    )
    .option('--ip <address>', 'an allocated address to release (repeatable)', collect)
    .option('--handle <id>', 'a handle whose addresses to release, and the handle itself (repeatable)', collect)
    .option('--force', 'release even when the pod named by the address still exists, or no pod is named')
    .option('--dry-run', 'print what would be released, write nothing')
    .action(run<ReleaseOptions>((options, g) => runRelease(d, g, options)));

  return ipam;
}

function lazyDefaults(): IpamCliDeps {
  let real: IpamCliDeps | undefined;
  const get = (): IpamCliDeps => (real ??= defaultIpamCliDeps());
  return {
    openStore: (path) => get().openStore(path),
    listLivePods: (path) => get().listLivePods(path),
    listNodeNames: async (path) => {
      const list = get().listNodeNames;
      // An empty list would collect every claim: never guess it.
      if (list === undefined) throw new Error('no node listing available');
      return list(path);
    },
    podExists: (path, namespace, name) => get().podExists(path, namespace, name),
    stdout: (text) => get().stdout(text),
    stderr: (text) => get().stderr(text),
    now: () => get().now(),
    setExitCode: (code) => get().setExitCode(code),
  };
}

async function withStore<T>(d: IpamCliDeps, g: GlobalOptions, body: (store: IpamStore) => Promise<T>): Promise<T> {
  const store = await d.openStore(g.kubeconfig);
  try {
    return await body(store);
  } finally {
    await store.close();
  }
}

interface ShowOptions {
  readonly showBlocks?: true;
  readonly showNamespaces?: true;
  readonly ip?: string[];
}

async function runShow(d: IpamCliDeps, g: GlobalOptions, options: ShowOptions): Promise<IpamExitCode> {
  return withStore(d, g, async (store) => {
    const now = d.now();
    if (options.ip !== undefined) {
      const [pools, blocks] = await Promise.all([store.listPools(), store.listBlocks()]);
      const reports: AddressReport[] = [];
      for (const ip of unique(options.ip)) {
        const location = locateAddress(
          ip,
          blocks.map((v) => v.object),
          pools.map((v) => v.object),
          { now, cooldownMs: g.cooldownMs },
        );
        const handleId = location.state === 'allocated' ? location.handleId : undefined;
        const handle = handleId !== undefined && isDns1123Subdomain(handleId) ? await store.getHandle(handleId) : undefined;
        reports.push(addressReport(location, handle?.object));
      }
      d.stdout(g.output === 'json' ? json({ addresses: reports }) : reports.map(renderAddressReport).join('\n'));
      return IpamExitCode.Ok;
    }
    const usage = await new Ipam(store, { clock: () => now, cooldownMs: g.cooldownMs }).utilisation({ now });
    const report = showReport(usage, { blocks: options.showBlocks === true, namespaces: options.showNamespaces === true });
    d.stdout(g.output === 'json' ? json(report) : renderShowReport(report));
    return IpamExitCode.Ok;
  });
}

interface CheckOptions {
  readonly grace: string;
  readonly showPlan?: true;
  readonly fix?: true;
}

async function runCheck(d: IpamCliDeps, g: GlobalOptions, options: CheckOptions): Promise<IpamExitCode> {
  const graceMs = parseDuration(options.grace, '--grace');
  return withStore(d, g, async (store) => {
    const check = async (plan: boolean): Promise<CheckReport> => {
      const [pools, blocks, handles] = await Promise.all([store.listPools(), store.listBlocks(), store.listHandles()]);
      // Pods are listed after the IPAM objects: a pod that allocated before the snapshot is then in this list too.
      const livePods = await d.listLivePods(g.kubeconfig);
      const liveNodes = await d.listNodeNames?.(g.kubeconfig);
      return checkReport(
        {
          pools: pools.map((v) => v.object),
          blocks: blocks.map((v) => v.object),
          handles: handles.map((v) => v.object),
          livePods,
          liveNodes,
          now: d.now(),
          graceMs,
        },
        { plan },
      );
    };
    const report = await check(options.showPlan === true || options.fix === true);
    d.stdout(g.output === 'json' ? json(report) : renderCheckReport(report));
    if (options.fix !== true) return report.clean ? IpamExitCode.Ok : IpamExitCode.Problems;
    const records = report.plan?.recordAddresses ?? [];
    const ipam = new Ipam(store, { clock: () => d.now(), cooldownMs: g.cooldownMs });
    const fixed = await ipam.repair({ release: [], deleteHandles: [], updateHandles: [], createHandles: [], recordAddresses: records });
    d.stdout(g.output === 'json' ? json({ fixed }) : renderFix(fixed));
    // The exit status tells what is left after the fix.
    return (await check(false)).clean ? IpamExitCode.Ok : IpamExitCode.Problems;
  });
}

function renderFix(fixed: RepairResult): string {
  const lines = [`fixed: recorded ${plural(fixed.recordedAddresses.length, 'address', 'addresses')} for the pods using them`];
  for (const address of fixed.recordedAddresses) lines.push(`  recorded ${address}`);
  for (const s of fixed.skipped) lines.push(`  skipped ${s.target}: ${s.reason}`);
  return `${lines.join('\n')}\n`;
}

interface ReleaseOptions {
  readonly ip?: string[];
  readonly handle?: string[];
  readonly force?: true;
  readonly dryRun?: true;
}

interface ReleaseContext {
  readonly d: IpamCliDeps;
  readonly g: GlobalOptions;
  readonly store: IpamStore;
  readonly ipam: Ipam;
  readonly now: Date;
  readonly force: boolean;
  readonly dryRun: boolean;
}

async function runRelease(d: IpamCliDeps, g: GlobalOptions, options: ReleaseOptions): Promise<IpamExitCode> {
  const ips = unique(options.ip ?? []);
  const handles = unique(options.handle ?? []);
  const dryRun = options.dryRun === true;
  if (ips.length === 0 && handles.length === 0) {
    throw new IpamUsageError('nothing to release: pass --ip <address> or --handle <id> (see `ipam show --ip` and `ipam check`)');
  }
  return withStore(d, g, async (store) => {
    const now = d.now();
    const ctx: ReleaseContext = {
      d,
      g,
      store,
      ipam: new Ipam(store, { clock: () => now, cooldownMs: g.cooldownMs }),
      now,
      force: options.force === true,
      dryRun,
    };
    const outcomes: ReleaseOutcome[] = [];
    // One at a time, each on fresh reads: two addresses of one handle must see each other's handle update.
    for (const ip of ips) outcomes.push(await guarded('address', ip, () => releaseAddress(ctx, ip)));
    for (const id of handles) outcomes.push(await guarded('handle', id, () => releaseHandle(ctx, id)));
    d.stdout(g.output === 'json' ? json({ dryRun, results: outcomes }) : renderReleaseOutcomes(outcomes, dryRun));
    if (outcomes.some((o) => o.status === 'failed')) return IpamExitCode.Error;
    return outcomes.every((o) => o.status === 'released' || o.status === 'would-release') ? IpamExitCode.Ok : IpamExitCode.Problems;
  });
}

async function guarded(kind: ReleaseOutcome['kind'], target: string, body: () => Promise<ReleaseOutcome>): Promise<ReleaseOutcome> {
  try {
    return await body();
  } catch (error) {
    // A failure may come after a write (e.g. the handle update after the block's): say so, never "released".
    return { ...refused(kind, target, `${errorText(error)} (what was written before the failure stays; run \`ipam check\`)`), status: 'failed' };
  }
}

async function existingPods(ctx: ReleaseContext, pods: readonly PodName[]): Promise<PodName[]> {
  const out: PodName[] = [];
  for (const pod of pods) if (await ctx.d.podExists(ctx.g.kubeconfig, pod.namespace, pod.name)) out.push(pod);
  return out;
}

async function releaseAddress(ctx: ReleaseContext, target: string): Promise<ReleaseOutcome> {
  const { store } = ctx;
  const cooldown = { now: ctx.now, cooldownMs: ctx.g.cooldownMs };
  const [pools, listed] = await Promise.all([store.listPools(), store.listBlocks()]);
  const poolObjects = pools.map((v) => v.object);
  let blocks = listed.map((v) => v.object);
  let location = locateAddress(target, blocks, poolObjects, cooldown);
  if (location.state !== 'unmanaged') {
    // Lists may lag behind; the decision is made on the block as it is now.
    const name = location.place.block;
    const fresh = await store.getBlock(name);
    blocks = [...blocks.filter((b) => b.metadata.name !== name), ...(fresh === undefined ? [] : [fresh.object])];
    location = locateAddress(target, blocks, poolObjects, cooldown);
  }
  const refusal = refuseLocation(target, location);
  if (refusal !== undefined || location.state !== 'allocated' || location.handleId === undefined) {
    return refusal ?? refused('address', target, `${location.address} is not allocated`);
  }
  const { handleId, place } = location;
  const pod = podOf(location.attribute);
  const pods = pod === undefined ? [] : [pod];
  const verdict = podVerdict(location.address, pods, await existingPods(ctx, pods), pod === undefined ? 1 : 0, ctx.force);
  const facts = { block: place.block, handleId, pods };
  if (verdict.refusal !== undefined) return refused('address', target, verdict.refusal, facts);

  const handle = isDns1123Subdomain(handleId) ? (await store.getHandle(handleId))?.object : undefined;
  const { plan, handleChange } = addressReleasePlan(blocks, handle, place.block, handleId, place.ordinal);
  if (ctx.dryRun) {
    return wouldRelease({
      kind: 'address',
      target,
      addresses: [location.address],
      ...facts,
      handleChange,
      warnings: verdict.warnings,
      plan,
    });
  }
  const result = await ctx.ipam.repair(plan, { now: ctx.now });
  return addressOutcome({ target, address: location.address, ...facts, handleChange, plan, warnings: verdict.warnings }, result);
}

async function releaseHandle(ctx: ReleaseContext, target: string): Promise<ReleaseOutcome> {
  const invalid = refuseHandleId(target);
  if (invalid !== undefined) return invalid;
  const { store } = ctx;
  const [listed, handle] = await Promise.all([store.listBlocks(), store.getHandle(target)]);
  const holdings = handleReleasePlan(
    listed.map((v) => v.object),
    handle?.object,
    target,
  );
  const facts = { handleId: target, pods: holdings.pods };
  if (holdings.addresses.length === 0) {
    if (handle === undefined) {
      return refused('handle', target, `no handle ${target}, and no block holds an address for it: there is nothing to release`, facts);
    }
    if (!ctx.force) {
      return refused(
        'handle',
        target,
        `handle ${target} holds no address (an allocation may be under way, or the handle is stale: \`ipam check\` reports ` +
          'stale handles and the controller deletes them): pass --force to delete it now',
        facts,
      );
    }
  }
  const verdict = podVerdict(`handle ${target}`, holdings.pods, await existingPods(ctx, holdings.pods), holdings.unnamed, ctx.force);
  if (verdict.refusal !== undefined) return refused('handle', target, verdict.refusal, facts);
  const handleChange = handle === undefined ? 'none' : 'delete';
  if (ctx.dryRun) {
    return wouldRelease({
      kind: 'handle',
      target,
      addresses: holdings.addresses,
      block: null,
      ...facts,
      handleChange,
      warnings: verdict.warnings,
      plan: holdings.plan,
    });
  }
  const result = await ctx.ipam.repair(holdings.plan, { now: ctx.now });
  return handleOutcome({ target, holdings, handleChange, warnings: verdict.warnings }, result);
}
