/**
 * The process `up` leaves behind: it holds the fakes (kube-apiserver, QingCloud, the unix-socket bridges to
 * them), started the controller and one agent per node (each in its own process group, logging to a file),
 * writes state.json once everything is ready, and tears the stack down on SIGTERM. Its command line names
 * the state directory, which is how `down` finds it and every process it started.
 */
import type { VxnetOption } from '@hostnic/sandbox/cluster';
import { startHostnicStack } from '../stack/index.ts';
import { writeState } from './state.ts';
import type { SandboxDirs, SandboxState } from './state.ts';
import { join } from 'node:path';

export interface SupervisorOptions {
  readonly nodes: number;
  /** Every vxnet of the VPC, the management one included; the others make VxNetPool v-pool. */
  readonly vxnets: readonly VxnetOption[];
  /** Start from an empty cluster and run the README's install steps with kubectl (see StackOptions.install). */
  readonly installAsDocumented?: boolean;
}

export async function supervise(dirs: SandboxDirs, options: SupervisorOptions, stop: Promise<void>): Promise<void> {
  const nodeNames = Array.from({ length: options.nodes }, (_, i) => `node-${i + 1}`);
  const stack = await startHostnicStack({
    prefix: dirs.prefix,
    nodes: options.nodes,
    agentsOn: nodeNames,
    vxnets: options.vxnets,
    ipam: {
      kind: 'controller',
      vxnets: options.vxnets.filter((v) => v.management !== true).map((v) => v.id),
      ipamConfig: { 'subnet-auto-assign': 'on', ipam: '{}' },
    },
    dir: dirs.stackDir,
    logDir: dirs.logDir,
    installCni: true,
    install: options.installAsDocumented === true ? 'documented' : 'stack',
    onProgress: (message) => process.stdout.write(`${message}\n`),
  });
  try {
    const state: SandboxState = {
      name: dirs.name,
      prefix: dirs.prefix,
      dir: dirs.root,
      kubeconfig: stack.kubeconfigFile,
      vpcNamespace: stack.sandbox.vpc.name,
      vxnets: stack.sandbox.vxnets.map((v) => ({ id: v.id, cidr: v.cidr, gateway: v.gateway })),
      nodes: [...stack.agents.values()].map((a) => ({
        name: a.node.name,
        namespace: a.node.netnsName,
        ip: a.node.ip,
        instanceId: a.node.instanceId,
        cniConfDir: a.node.paths.cniConfDir,
        cniBinDir: a.node.paths.cniBinDir,
        socket: a.socket,
        log: join(dirs.logDir, `${a.node.name}.log`),
      })),
      controller: { log: join(dirs.logDir, 'controller.log') },
      ...(stack.install === undefined ? {} : { install: { steps: stack.install.steps } }),
      supervisor: { pid: process.pid, log: join(dirs.logDir, 'supervisor.log') },
    };
    await writeState(dirs, state);
    process.stdout.write('ready\n');
    await stop;
  } finally {
    await stack.close();
  }
}
