/**
 * `hostnic-controller vips clear --vxnet V [--dry-run]`: releases the VIPs named `hostnic_<vxnet>` that pin a
 * vxnet's pod range (the original's `vxnet-client --clear-vips`), once the vxnet is out of use: no IPPool of
 * it in service and no address allocated in its blocks. Otherwise it refuses and says why, since the
 * controller would allocate the VIPs again, or the IaaS DHCP could hand a live pod's address to a VM.
 *
 * Exit codes: 0 released (or nothing to release; dry run: would release); 1 refused; 2 could not run.
 */
import { Command } from 'commander';
import type { IPAMBlock, IPPool, IpamStore } from '@hostnic/ipam';
import { allocatedCount } from '@hostnic/ipam';
import { IaasClient } from '@hostnic/iaas-client';
import type { JobRef, Vip } from '@hostnic/iaas-client';
import { errorText } from '@hostnic/runtime';
import { hostnicNameOf } from '../iaas/names.ts';
import { kubeAccess } from './kube.ts';

/** The IaaS calls of the command. */
export interface VipsIaas {
  describeVips(filter: { vxnets: readonly string[]; vipName?: string }): Promise<Vip[]>;
  releaseVips(input: { vips: readonly string[]; vxnetId?: string }): Promise<JobRef>;
  close(): Promise<void>;
}

/** What the command uses from the outside world; tests replace it. */
export interface VipsCliDeps {
  openStore(kubeconfig: string | undefined): Promise<IpamStore>;
  openIaas(configFile: string): Promise<VipsIaas>;
  stdout(text: string): void;
  stderr(text: string): void;
  setExitCode(code: number): void;
}

export const VipsExitCode = { Ok: 0, Refused: 1, Error: 2 } as const;

/** What may be released, or why not (pure). */
export type VipsClearPlan = { readonly release: readonly Vip[] } | { readonly refused: readonly string[] };

export interface VipsClearInput {
  readonly vxnetId: string;
  /** The vxnet's IPPool, when one exists. */
  readonly pool: IPPool | undefined;
  /** The blocks of that pool. */
  readonly blocks: readonly IPAMBlock[];
  /** The VIPs named `hostnic_<vxnet>` in the vxnet. */
  readonly vips: readonly Vip[];
}

export function vipsClearPlan(input: VipsClearInput): VipsClearPlan {
  const refused: string[] = [];
  if (input.pool !== undefined && input.pool.spec.disabled !== true) {
    refused.push(
      `IPPool ${input.vxnetId} is in service: remove ${input.vxnetId} from spec.vxnets of VxNetPool v-pool first (the controller would allocate its VIPs again)`,
    );
  }
  for (const b of input.blocks) {
    const used = allocatedCount(b.spec);
    if (used > 0) refused.push(`block ${b.metadata.name} (${b.spec.cidr}) has ${used} address(es) allocated: their pods must go first (hostnic-controller ipam show --show-blocks)`);
  }
  return refused.length > 0 ? { refused } : { release: input.vips.filter((v) => v.vxnetId === input.vxnetId) };
}

function lazyDefaults(): VipsCliDeps {
  let kube: ReturnType<typeof kubeAccess> | undefined;
  return {
    openStore: (path) => (kube ??= kubeAccess()).openStore(path),
    openIaas: (file) => IaasClient.fromConfigFile(file),
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    setExitCode: (code) => {
      process.exitCode = code;
    },
  };
}

interface ClearOptions {
  vxnet: string;
  dryRun?: boolean;
  kubeconfig?: string;
  iaasConfig: string;
}

async function clear(d: VipsCliDeps, o: ClearOptions): Promise<number> {
  if (!/^vxnet-[a-z0-9]+$/.test(o.vxnet)) {
    d.stderr(`--vxnet ${JSON.stringify(o.vxnet)} is not a vxnet id: give one like vxnet-abc1234\n`);
    return VipsExitCode.Error;
  }
  const store = await d.openStore(o.kubeconfig);
  const iaas = await d.openIaas(o.iaasConfig);
  try {
    const pool = (await store.getPool(o.vxnet))?.object;
    const blocks = (await store.listBlocks({ pool: o.vxnet })).map((b) => b.object);
    const vips = await iaas.describeVips({ vxnets: [o.vxnet], vipName: hostnicNameOf(o.vxnet) });
    const plan = vipsClearPlan({ vxnetId: o.vxnet, pool, blocks, vips });
    if ('refused' in plan) {
      d.stderr(`not releasing the ${vips.length} VIP(s) of ${o.vxnet}:\n${plan.refused.map((r) => `  ${r}\n`).join('')}`);
      return VipsExitCode.Refused;
    }
    if (plan.release.length === 0) {
      d.stdout(`${o.vxnet} has no VIPs named ${hostnicNameOf(o.vxnet)}: nothing to release\n`);
      return VipsExitCode.Ok;
    }
    const list = plan.release.map((v) => `  ${v.vipId} ${v.vipAddr}\n`).join('');
    if (o.dryRun === true) {
      d.stdout(`would release ${plan.release.length} VIP(s) of ${o.vxnet}:\n${list}`);
      return VipsExitCode.Ok;
    }
    const job = await iaas.releaseVips({ vips: plan.release.map((v) => v.vipId), vxnetId: o.vxnet });
    d.stdout(`releasing ${plan.release.length} VIP(s) of ${o.vxnet} (ReleaseVips job ${job.jobId ?? 'done'}):\n${list}`);
    return VipsExitCode.Ok;
  } finally {
    await Promise.allSettled([store.close(), iaas.close()]);
  }
}

/** The `vips` command with its subcommand `clear`. */
export function vipsCommand(overrides: Partial<VipsCliDeps> = {}): Command {
  const d: VipsCliDeps = { ...lazyDefaults(), ...overrides };
  const vips = new Command('vips')
    .description('the VIPs that pin the pod range of each vxnet (named hostnic_<vxnet>)')
    .configureOutput({ writeOut: (s) => d.stdout(s), writeErr: (s) => d.stderr(s) })
    .exitOverride();
  vips
    .command('clear')
    .description(
      "Release the VIPs of a vxnet that is no longer used for pods (the original's vxnet-client --clear-vips). " +
        'Refused, with the reason, while its IPPool is in service or any of its blocks holds an address. ' +
        'Exit 0 done, 1 refused, 2 could not run.',
    )
    .requiredOption('--vxnet <id>', 'the vxnet whose VIPs to release')
    .option('--dry-run', 'list the VIPs, release nothing')
    .option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or the in-cluster account)')
    .option('--iaas-config <file>', 'QingCloud SDK config', '/root/.qingcloud/config.yaml')
    .exitOverride()
    .action(async (opts: ClearOptions) => {
      try {
        d.setExitCode(await clear(d, opts));
      } catch (e) {
        d.stderr(`vips clear: ${errorText(e)}\n`);
        d.setExitCode(VipsExitCode.Error);
      }
    });
  return vips;
}
