/**
 * The DHCP server QingCloud runs on a VLAN vxnet, played by dnsmasq (Debian's dnsmasq-base) on the vxnet's
 * bridge in the VPC namespace. It serves the part of the vxnet's DHCP range the IaaS keeps for itself on VLAN
 * vxnets (the top seventh, above the pod range), where the agent gets the address of its bridge br_N.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { podRangeOfVxnet } from '@hostnic/ipam';
import { argvInNetns, type Netns } from '@hostnic/netlink';
import { formatIpv4, parseIpv4 } from './ipv4.ts';
import { requireOwnNetns } from './owned-netns.ts';
import type { Teardown } from './teardown.ts';
import { fakeVxnetInput, type VxnetPlan } from './vxnets.ts';

/** dnsmasq refuses leases shorter than two minutes. */
export const MIN_LEASE_SEC = 120;

export interface DhcpRange {
  readonly start: string;
  readonly end: string;
}

/** The addresses the IaaS hands out by DHCP on a VLAN vxnet: from just above the pod range to the top. */
export function vlanDhcpRange(plan: VxnetPlan): DhcpRange {
  const router = fakeVxnetInput(plan).router;
  if (!router?.dyn_ip_start || !router.dyn_ip_end) throw new Error(`${plan.id}: the sandbox gave it no DHCP range`);
  const pods = podRangeOfVxnet({
    vxnetId: plan.id,
    ipNetwork: plan.cidr,
    managerIp: plan.gateway,
    dynIpStart: router.dyn_ip_start,
    dynIpEnd: router.dyn_ip_end,
    tunnelType: 'vlan',
  });
  const podsEnd = parseIpv4(pods.ipEnd);
  if (podsEnd === undefined) throw new Error(`${plan.id}: bad pod range end ${pods.ipEnd}`);
  return { start: formatIpv4(podsEnd + 1), end: router.dyn_ip_end };
}

export interface DhcpServer {
  readonly range: DhcpRange;
  readonly leaseSec: number;
  readonly leaseFile: string;
}

/**
 * Starts dnsmasq for `plan` in `vpc` (DHCP only: `--port=0` turns DNS off) and records its stop. Resolves
 * once dnsmasq is up; rejects with its own message when it exits instead.
 */
export async function startDhcpServer(
  vpc: Netns,
  plan: VxnetPlan,
  options: { directory: string; leaseSec?: number; teardown: Teardown },
): Promise<DhcpServer> {
  const leaseSec = Math.max(MIN_LEASE_SEC, options.leaseSec ?? MIN_LEASE_SEC);
  const range = vlanDhcpRange(plan);
  const leaseFile = join(options.directory, `dnsmasq-${plan.id}.leases`);
  const argv = argvInNetns(requireOwnNetns(vpc), [
    'dnsmasq', '--keep-in-foreground', '--no-resolv', '--no-hosts', '--conf-file=/dev/null', '--port=0',
    '--user=root', '--group=root', '--bind-interfaces', `--interface=${plan.bridge}`, '--except-interface=lo',
    `--dhcp-range=${range.start},${range.end},${leaseSec}s`, `--dhcp-leasefile=${leaseFile}`, '--dhcp-authoritative',
    `--dhcp-option=option:router,${plan.gateway}`, '--log-dhcp', '--log-facility=-',
  ]);
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  options.teardown.push(`stop dnsmasq of ${plan.id}`, () => stop(child));
  await started(child, plan.id);
  return { range, leaseSec, leaseFile };
}

/** dnsmasq logs "DHCP, IP range ..." once its DHCP socket is bound. */
function started(child: ChildProcess, vxnet: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let log = '';
    const onData = (chunk: Buffer): void => {
      log += chunk.toString();
      if (/DHCP, IP range/.test(log)) {
        child.stderr?.off('data', onData);
        child.stderr?.resume();
        resolve();
      }
    };
    child.stderr?.on('data', onData);
    child.once('error', reject);
    child.once('exit', (code, signal) => reject(new Error(`dnsmasq for ${vxnet} exited (${code ?? signal}): ${log.trim()}`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
