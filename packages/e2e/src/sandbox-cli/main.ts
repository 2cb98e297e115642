#!/usr/bin/env -S node --conditions=@hostnic/source
/**
 * hostnic-sandbox: a whole hostnic cluster on this machine that outlives the command, for use from other
 * terminals and scripts. `up` starts it, `status`, `logs` and `pod add|del` use it, `down` removes it.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import type { VxnetOption } from '@hostnic/sandbox/cluster';
import pkg from '../../package.json' with { type: 'json' };
import { socketGet } from '../stack/index.ts';
import { down } from './down.ts';
import { addPod, delPod, parsePod, PluginFailedError } from './pods.ts';
import { listSandboxes, readState, sandboxDirs, SandboxUsageError, stateRoot } from './state.ts';
import type { SandboxState } from './state.ts';
import { supervise } from './supervisor.ts';
import { parseVxnets, up } from './up.ts';

const out = (text: string): boolean => process.stdout.write(text);

function positiveInt(flag: string, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`${flag} must be a whole number from 1 to ${max}`);
    return n;
  };
}

/** Namespaces, links and the processes in them need root; said up front rather than as an `ip` failure. */
function requireRoot(command: string): void {
  if (process.getuid?.() !== 0) throw new SandboxUsageError(`hostnic-sandbox ${command} needs root (it makes network namespaces): run it with sudo`);
}

function describe(state: SandboxState): string {
  const lines = [`sandbox ${state.name} (prefix ${state.prefix}, state in ${state.dir})`, `KUBECONFIG=${state.kubeconfig}`, `vpc namespace: ${state.vpcNamespace}`];
  if (state.install !== undefined) lines.push(`installed by the README's ${state.install.steps.length} steps, run with kubectl as written`);
  for (const v of state.vxnets) lines.push(`vxnet ${v.id} ${v.cidr} gateway ${v.gateway}`);
  for (const n of state.nodes) {
    lines.push(`${n.name}: namespace ${n.namespace}, ip ${n.ip}, instance ${n.instanceId}`);
    lines.push(`  cni conf dir ${n.cniConfDir}`, `  cni bin dir  ${n.cniBinDir}`, `  agent socket ${n.socket}`);
  }
  return `${lines.join('\n')}\n`;
}

async function status(name: string): Promise<SandboxState & { readonly agentsReady: Readonly<Record<string, boolean>> }> {
  const state = await readState(sandboxDirs(name));
  const agentsReady: Record<string, boolean> = {};
  for (const n of state.nodes) {
    const s = await socketGet(n.socket, '/v1/status');
    agentsReady[n.name] = s !== undefined && (s.body as { ready?: unknown }).ready === true;
  }
  return { ...state, agentsReady };
}

function program(): Command {
  const cli = new Command('hostnic-sandbox')
    .description('A whole hostnic cluster on this machine (network namespaces, fakes, real agents and controller); needs root')
    // Run from the sources of a checkout (never bundled), so there is no build to record a revision.
    .version(pkg.version, '--version', 'print the version and exit')
    .exitOverride();

  cli
    .command('up')
    .description('start a sandbox in the background and print its nodes and kubeconfig')
    .option('--nodes <n>', 'number of nodes', positiveInt('--nodes', 20), 2)
    .option('--vxnets <list>', 'pod vxnets, <id>=<cidr>[:vlan],... (default vxnet-pods001=172.16.3.0/24,vxnet-pods002=172.16.4.0/24:vlan)')
    .option('--name <name>', 'sandbox name', 'default')
    .option('--install-as-documented', "start from an empty cluster and install hostnic with kubectl by the README's steps, as written")
    .option('--json', 'print one JSON object')
    .action(async (o: { nodes: number; vxnets?: string; name: string; json?: boolean; installAsDocumented?: boolean }) => {
      requireRoot('up');
      const state = await up(sandboxDirs(o.name), {
        nodes: o.nodes,
        vxnets: parseVxnets(o.vxnets),
        installAsDocumented: o.installAsDocumented === true,
        // Progress goes to stderr, so that stdout stays the description (or the JSON) alone.
        onProgress: (line) => process.stderr.write(`${line}\n`),
      });
      out(o.json === true ? `${JSON.stringify(state, null, 2)}\n` : describe(state));
    });

  cli
    .command('status')
    .description('the sandboxes that are up, their nodes and whether each agent is ready')
    .option('--name <name>', 'only this sandbox')
    .option('--json', 'print JSON (an array)')
    .action(async (o: { name?: string; json?: boolean }) => {
      const names = o.name === undefined ? await listSandboxes() : [o.name];
      const states = [];
      for (const name of names) states.push(await status(name));
      if (o.json === true) {
        out(`${JSON.stringify(states, null, 2)}\n`);
        return;
      }
      if (states.length === 0) out(`no sandbox is up (state root ${stateRoot()})\n`);
      for (const s of states) {
        out(describe(s));
        out(`agents ready: ${Object.entries(s.agentsReady).map(([n, r]) => `${n} ${r ? 'yes' : 'NO'}`).join(', ')}\n`);
      }
    });

  cli
    .command('logs')
    .description('print the log of a node\'s agent, of the controller or of the supervisor')
    .argument('<what>', 'node-N, controller or supervisor')
    .option('--name <name>', 'sandbox name', 'default')
    .action(async (what: string, o: { name: string }) => {
      const state = await readState(sandboxDirs(o.name));
      const file = what === 'controller' ? state.controller.log : what === 'supervisor' ? state.supervisor.log : state.nodes.find((n) => n.name === what)?.log;
      if (file === undefined) throw new SandboxUsageError(`logs ${what}: name a node (${state.nodes.map((n) => n.name).join(', ')}), controller or supervisor`);
      out(await readFile(file, 'utf8'));
    });

  const pod = cli.command('pod').description('add or delete a pod on a node, running the installed plugin as kubelet does');
  pod
    .command('add')
    .argument('<pod>', 'NAMESPACE/NAME')
    .requiredOption('--node <node>', 'the node, e.g. node-1')
    .option('--name <name>', 'sandbox name', 'default')
    .action(async (text: string, o: { node: string; name: string }) => {
      requireRoot('pod add');
      const dirs = sandboxDirs(o.name);
      const record = await addPod(dirs, await readState(dirs), parsePod(text), o.node);
      out(`${JSON.stringify(record, null, 2)}\n`);
    });
  pod
    .command('del')
    .argument('<pod>', 'NAMESPACE/NAME')
    .option('--name <name>', 'sandbox name', 'default')
    .action(async (text: string, o: { name: string }) => {
      requireRoot('pod del');
      const dirs = sandboxDirs(o.name);
      const record = await delPod(dirs, await readState(dirs), parsePod(text));
      out(`deleted ${record.namespace}/${record.name} from ${record.node}\n`);
    });

  cli
    .command('down')
    .description('stop a sandbox and remove every trace of it (also of one whose processes were killed)')
    .argument('[name]', 'sandbox name', 'default')
    .option('--all', 'every sandbox under the state root')
    .action(async (name: string, o: { all?: boolean }) => {
      requireRoot('down');
      const names = o.all === true ? await listSandboxes() : [name];
      for (const n of names) {
        const r = await down(sandboxDirs(n));
        out(`${r.name}: down (${r.processesKilled} processes stopped, ${r.namespaces.length} namespaces removed)\n`);
      }
    });

  // Started by `up` only: the process that holds the sandbox.
  cli
    .command('supervise', { hidden: true })
    .requiredOption('--state-dir <dir>')
    .requiredOption('--nodes <n>', '', positiveInt('--nodes', 20))
    .requiredOption('--vxnets-json <json>')
    .option('--install-as-documented')
    .action(async (o: { stateDir: string; nodes: number; vxnetsJson: string; installAsDocumented?: boolean }) => {
      const stop = new Promise<void>((resolve) => {
        process.once('SIGTERM', () => resolve());
        process.once('SIGINT', () => resolve());
      });
      const dirs = sandboxDirs(basename(o.stateDir), dirname(o.stateDir));
      await supervise(dirs, { nodes: o.nodes, vxnets: JSON.parse(o.vxnetsJson) as VxnetOption[], installAsDocumented: o.installAsDocumented === true }, stop);
    });
  return cli;
}

try {
  await program().parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode;
  } else {
    process.stderr.write(`hostnic-sandbox: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = e instanceof SandboxUsageError ? 2 : e instanceof PluginFailedError ? 3 : 1;
  }
}
