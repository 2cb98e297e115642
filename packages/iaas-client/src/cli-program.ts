import { homedir } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { IaasClient, type IaasClientOptions } from './client.ts';
import { cliVersion } from './cli-version.ts';
import { IaasClientError } from './errors.ts';
import { renderTable } from './table.ts';
import type { Job, Nic, Vxnet } from './types.ts';

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Readonly<Record<string, string | undefined>>;
}

type Output = 'json' | 'table';

interface GlobalOptions {
  config: string;
  output: Output;
}

export function defaultConfigPath(env: CliIo['env']): string {
  return env['QINGCLOUD_CONFIG'] ?? join(env['HOME'] ?? homedir(), '.qingcloud', 'config.yaml');
}

function print<T>(io: CliIo, output: Output, items: T[], columns: string[], row: (item: T) => string[]): void {
  if (output === 'json') io.out(JSON.stringify(items, null, 2));
  else io.out(renderTable(columns, items.map(row)));
}

const nicRow = (n: Nic): string[] => [n.nicId, n.nicName, n.vxnetId, n.status, n.instanceId || '-', n.privateIp ?? '-', String(n.role)];
const vxnetRow = (v: Vxnet): string[] => [
  v.vxnetId,
  v.vxnetName ?? '',
  v.tunnelType ?? '-',
  v.router?.ipNetwork ?? '(no VPC)',
  v.router?.managerIp ?? '-',
  v.router ? `${v.router.dynIpStart || '?'}-${v.router.dynIpEnd || '?'}` : '-',
];
const jobRow = (j: Job): string[] => [j.jobId, j.jobAction ?? '', j.status ?? '', j.resourceIds.join(' '), j.statusTime ?? ''];

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

/**
 * The `hostnic-iaas` command: read-only views of vxnets, NICs and jobs, for operators checking what the
 * IaaS holds. `clientOptions` lets tests shorten timeouts.
 */
export function buildProgram(io: CliIo, clientOptions: Omit<IaasClientOptions, 'config'> = {}): Command {
  const program = new Command('hostnic-iaas')
    .description('Look at the QingCloud resources hostnic uses (vxnets, NICs, jobs)')
    .version(cliVersion(), '--version', 'print the version (and the git revision of the build) and exit')
    .option('-c, --config <file>', 'QingCloud config.yaml', defaultConfigPath(io.env))
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'))
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .exitOverride();

  const withClient = async (fn: (client: IaasClient, opts: GlobalOptions) => Promise<void>): Promise<void> => {
    const opts = program.opts<GlobalOptions>();
    const client = await IaasClient.fromConfigFile(opts.config, clientOptions);
    try {
      await fn(client, opts);
    } finally {
      await client.close();
    }
  };

  program
    .command('whoami')
    .description('check the credentials and print the owner of the access key')
    .action(() =>
      withClient(async (client, opts) => {
        const owner = await client.whoAmI();
        const result = { accessKeyId: client.config.credentials.accessKeyId, owner, zone: client.config.zone };
        if (opts.output === 'json') io.out(JSON.stringify(result, null, 2));
        else io.out(renderTable(['ACCESS KEY', 'OWNER', 'ZONE'], [[result.accessKeyId, owner, result.zone]]));
      }),
    );

  program
    .command('describe-vxnets')
    .description('show vxnets with their router, network and DHCP range')
    .argument('[vxnet...]', 'vxnet ids (default: all)')
    .action((ids: string[]) =>
      withClient(async (client, opts) => {
        const vxnets = ids.length > 0 ? [...(await client.describeVxnetsByIds(ids)).values()] : await client.describeVxnets();
        const missing = ids.filter((id) => !vxnets.some((v) => v.vxnetId === id));
        print(io, opts.output, vxnets, ['VXNET', 'NAME', 'TUNNEL', 'NETWORK', 'GATEWAY', 'DHCP'], vxnetRow);
        if (missing.length > 0) io.err(`not found: ${missing.join(', ')}`);
      }),
    );

  program
    .command('describe-nics')
    .description('show NICs, filtered by id, name, vxnet, instance or status')
    .argument('[nic...]', 'NIC ids (MAC addresses)')
    .option('--name <name>', 'NIC name, e.g. hostnic_i-abcdefgh')
    .option('--vxnet <id...>', 'vxnet ids')
    .option('--instance <id...>', 'instance ids')
    .addOption(new Option('--status <status>', 'NIC status').choices(['available', 'in-use']))
    .option('--max <n>', 'show at most n NICs', positiveInt)
    .action(
      (
        ids: string[],
        o: { name?: string; vxnet?: string[]; instance?: string[]; status?: 'available' | 'in-use'; max?: number },
      ) =>
        withClient(async (client, opts) => {
          const nics = await client.describeNics(
            {
              ...(ids.length > 0 ? { nics: ids } : {}),
              ...(o.name === undefined ? {} : { nicName: o.name }),
              ...(o.vxnet === undefined ? {} : { vxnets: o.vxnet }),
              ...(o.instance === undefined ? {} : { instances: o.instance }),
              ...(o.status === undefined ? {} : { status: o.status }),
            },
            o.max === undefined ? {} : { maxItems: o.max },
          );
          print(io, opts.output, nics, ['NIC', 'NAME', 'VXNET', 'STATUS', 'INSTANCE', 'IP', 'ROLE'], nicRow);
        }),
    );

  program
    .command('describe-jobs')
    .description('show jobs by id')
    .argument('<job...>', 'job ids')
    .action((ids: string[]) =>
      withClient(async (client, opts) => {
        const jobs = await client.describeJobs({ jobs: ids });
        print(io, opts.output, jobs, ['JOB', 'ACTION', 'STATUS', 'RESOURCES', 'STATUS TIME'], jobRow);
      }),
    );

  return program;
}

/** Runs the CLI; returns the process exit code. Errors of ours are printed as one line, without a stack. */
export async function runCli(argv: readonly string[], io: CliIo, clientOptions?: Omit<IaasClientOptions, 'config'>): Promise<number> {
  const program = buildProgram(io, clientOptions);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('commander.')) {
      return code === 'commander.helpDisplayed' || code === 'commander.version' ? 0 : 2;
    }
    if (err instanceof IaasClientError) {
      io.err(`error: ${err.message}`);
      return 1;
    }
    throw err;
  }
}
