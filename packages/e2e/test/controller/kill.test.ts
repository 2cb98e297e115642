/**
 * The controller's kill matrix, as root, with the real process: for each named step between two of its writes
 * the controller runs with HOSTNIC_FAILPOINT set to it, is given the work that reaches the step (a vxnet added
 * to VxNetPool v-pool, a new namespace in auto mode, a leaked NIC, a vxnet removed from v-pool) and SIGKILLs
 * itself there; the stack starts it again, and the cluster converges with nothing left half: the same check
 * for every step (clusterProblems below) over the fake IaaS and the fake kube-apiserver.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { CONTROLLER_FAILPOINTS } from '@hostnic/controller/failpoints';
import type { ControllerFailpointName } from '@hostnic/controller/failpoints';
import { FINALIZER_IPPOOL, blocksOfPool, missingBlocks } from '@hostnic/ipam';
import type { IPAMBlock, IPPool } from '@hostnic/ipam';
import { startHostnicStack, until } from '../../src/stack/index.ts';
import type { Child, HostnicStack } from '../../src/stack/index.ts';
import { MGMT, PODS1 } from '../agent/harness.ts';

const isRoot = process.getuid?.() === 0;

const SECURITY_GROUP = 'sg-killmatrix';
const CLUSTER_TAG = 'tag-killmatrix';

/** What makes the controller reach a step. */
type Trigger = 'add-vxnet' | 'add-namespace' | 'leak-nic' | 'remove-vxnet';

const TRIGGERS: Record<ControllerFailpointName, Trigger> = {
  'vips:submitted': 'add-vxnet',
  'sg-rule:added': 'add-vxnet',
  'sg-rule:applied': 'add-vxnet',
  'ippool:created': 'add-vxnet',
  'blocks:partial': 'add-vxnet',
  'ippool:finalizer': 'add-vxnet',
  'mapping:written': 'add-namespace',
  'nic-cleanup:detached': 'leak-nic',
  'drain:vips-released': 'remove-vxnet',
  'drain:iaas-released': 'remove-vxnet',
  'ippool:blocks-deleted': 'remove-vxnet',
};

/** What the cluster should hold; the test changes it as it triggers work. */
interface Expected {
  readonly vxnets: string[];
  readonly removed: string[];
  readonly namespaces: string[];
  readonly leakedNics: string[];
}

function ipToInt(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function ipamConfig(s: HostnicStack): Record<string, string[]> {
  const cm = s.kube.get('configmaps', 'hostnic-ipam-config', 'kube-system') as { data?: { ipam?: string } } | undefined;
  return JSON.parse(cm?.data?.ipam ?? '{}') as Record<string, string[]>;
}

/** Everything that is half, duplicated or orphaned; empty once the cluster converged. */
function clusterProblems(s: HostnicStack, want: Expected): string[] {
  const problems: string[] = [];
  const qc = s.sandbox.qingcloud;
  const status = s.kube.get('vxnetpools', 'v-pool')?.['status'] as { ready?: boolean; pools?: { name: string }[] } | undefined;
  if (status?.ready !== true) problems.push('VxNetPool v-pool is not ready');
  const listed = (status?.pools ?? []).map((p) => p.name).sort();
  if (JSON.stringify(listed) !== JSON.stringify([...want.vxnets].sort())) problems.push(`v-pool status.pools ${listed.join(',')} (want ${[...want.vxnets].sort().join(',')})`);

  const group = qc.securityGroups().find((g) => g.security_group_id === SECURITY_GROUP);
  if (group?.is_applied !== 1) problems.push(`security group ${SECURITY_GROUP} has rules not applied`);
  const rules = qc.securityGroupRules().filter((r) => r.security_group_id === SECURITY_GROUP);
  const blocks = s.kube.list('ipamblocks') as unknown as IPAMBlock[];
  for (const vxnet of want.vxnets) {
    const name = `hostnic_${vxnet}`;
    const pool = s.kube.get('ippools', vxnet) as unknown as (IPPool & { metadata: { finalizers?: string[] } }) | undefined;
    if (pool === undefined) {
      problems.push(`IPPool ${vxnet} missing`);
      continue;
    }
    if (!(pool.metadata.finalizers ?? []).includes(FINALIZER_IPPOOL)) problems.push(`IPPool ${vxnet} has no finalizer`);
    if (pool.status === undefined) problems.push(`IPPool ${vxnet} has no status`);
    if (pool.spec.disabled === true) problems.push(`IPPool ${vxnet} is disabled`);
    const size = ipToInt(pool.spec.rangeEnd ?? '') - ipToInt(pool.spec.rangeStart ?? '') + 1;
    const vips = qc.vips().filter((v) => v.vxnet_id === vxnet && v.vip_name === name);
    const addresses = new Set(vips.map((v) => v.vip_addr));
    if (vips.length !== size || addresses.size !== size) problems.push(`${vips.length} VIPs (${addresses.size} addresses) on ${vxnet}, want ${size}`);
    const own = rules.filter((r) => r.security_group_rule_name === name);
    if (own.length !== 1) problems.push(`${own.length} security-group rules ${name}, want 1`);
    const have = blocksOfPool(vxnet, blocks).map((b) => b.metadata.name).sort();
    const expected = missingBlocks(pool, []).map((b) => b.metadata.name).sort();
    if (JSON.stringify(have) !== JSON.stringify(expected)) problems.push(`blocks of ${vxnet}: ${have.length}, want ${expected.length}`);
  }
  for (const vxnet of want.removed) {
    const name = `hostnic_${vxnet}`;
    const vips = qc.vips().filter((v) => v.vxnet_id === vxnet).length;
    const own = rules.filter((r) => r.security_group_rule_name === name).length;
    const pool = s.kube.get('ippools', vxnet) !== undefined;
    const left = blocksOfPool(vxnet, blocks).length;
    if (vips + own + left > 0 || pool) problems.push(`removed ${vxnet} keeps ${vips} VIPs, ${own} rules, ${left} blocks${pool ? ', its IPPool' : ''}`);
  }
  const ours = new Set(rules.map((r) => r.security_group_rule_name));
  for (const rule of ours) {
    const vxnet = rule.replace(/^hostnic_/, '');
    if (!want.vxnets.includes(vxnet)) problems.push(`security-group rule ${rule} of no pooled vxnet`);
  }

  const mapping = ipamConfig(s);
  const names = new Set(blocks.map((b) => b.metadata.name));
  const owner = new Map<string, string>();
  for (const [ns, list] of Object.entries(mapping)) {
    for (const block of list) {
      if (!names.has(block)) problems.push(`namespace ${ns} is mapped to block ${block}, which does not exist`);
      const other = owner.get(block);
      if (other !== undefined) problems.push(`block ${block} is mapped to ${other} and ${ns}`);
      owner.set(block, ns);
    }
  }
  for (const ns of want.namespaces) if ((mapping[ns] ?? []).length === 0) problems.push(`namespace ${ns} has no block`);

  const nics = new Set(qc.nics().map((n) => n.nic_id));
  for (const nic of want.leakedNics) if (nics.has(nic)) problems.push(`leaked NIC ${nic} is still there`);
  return problems;
}

describe.skipIf(!isRoot)('kill matrix: the controller SIGKILLed at every named step (e2e)', () => {
  let stack: HostnicStack | undefined;
  const s = (): HostnicStack => {
    if (stack === undefined) throw new Error('no stack');
    return stack;
  };
  const want: Expected = { vxnets: [PODS1.id], removed: [], namespaces: [], leakedNics: [] };
  /** Vxnets added by the matrix, removed again by the drain steps (newest first). */
  const added: string[] = [];

  beforeAll(async () => {
    stack = await startHostnicStack({
      prefix: `ck${randomBytes(2).toString('hex')}`,
      nodes: 1,
      agentsOn: [],
      vxnets: [MGMT, PODS1],
      ipam: {
        kind: 'controller',
        vxnets: [PODS1.id],
        ipamConfig: { 'subnet-auto-assign': 'on', ipam: '{}' },
        controllerArgs: ['--nic-gc-interval', '500ms', '--nic-leak-grace', '1s', '--resync', '5s'],
      },
    });
    const qc = stack.sandbox.qingcloud;
    qc.addSecurityGroup({ security_group_id: SECURITY_GROUP });
    stack.kube.put('configmaps', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'clusterconfig', namespace: 'kube-system' },
      data: { 'qingcloud.yaml': `securityGroup: ${SECURITY_GROUP}\ntagIDs:\n  - ${CLUSTER_TAG}\n` },
    });
    // The janitor reads the cluster's tags when it starts leading.
    await stack.controller?.restart();
    await until('the baseline to converge', 60_000, async () => (clusterProblems(s(), want).length === 0 ? true : undefined));
  }, 180_000);
  afterAll(async () => {
    await stack?.close();
  }, 60_000);

  const trigger = (kind: Trigger, step: string): void => {
    const tag = step.replace(/[^a-z]/g, '');
    const qc = s().sandbox.qingcloud;
    if (kind === 'add-vxnet') {
      const vxnet = qc.addVxnet({ vxnet_id: `vxnet-k${randomBytes(3).toString('hex')}` }).vxnet_id;
      added.push(vxnet);
      want.vxnets.push(vxnet);
      setPoolVxnets(want.vxnets);
    } else if (kind === 'remove-vxnet') {
      const vxnet = added.pop();
      if (vxnet === undefined) throw new Error(`${step}: no vxnet left to remove`);
      want.vxnets.splice(want.vxnets.indexOf(vxnet), 1);
      want.removed.push(vxnet);
      setPoolVxnets(want.vxnets);
    } else if (kind === 'add-namespace') {
      const ns = `kill-${tag}`;
      want.namespaces.push(ns);
      s().kube.put('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    } else {
      const instance = qc.addInstance({ vxnet_id: MGMT.id }).instance_id;
      const nic = qc.addNic({ vxnet_id: MGMT.id, nic_name: `hostnic_${instance}`, status: 'in-use', instance_id: instance });
      // The cluster's tag (tagIDs of qingcloud.yaml) marks it as ours; the one leak of the matrix makes the tag.
      qc.addTag({ tag_id: CLUSTER_TAG, resource_tag_pairs: [{ resource_id: nic.nic_id, resource_type: 'nic' }] });
      want.leakedNics.push(nic.nic_id);
    }
  };
  const setPoolVxnets = (vxnets: readonly string[]): void => {
    const pool = s().kube.get('vxnetpools', 'v-pool');
    if (pool === undefined) throw new Error('no VxNetPool v-pool');
    const spec = pool['spec'] as Record<string, unknown>;
    s().kube.put('vxnetpools', { ...pool, spec: { ...spec, vxnets: vxnets.map((name) => ({ name })) } });
  };
  it.each([...CONTROLLER_FAILPOINTS])('%s: killed there, restarted, the cluster converges with nothing half', async (step) => {
    const controller = s().controller;
    if (controller === undefined) throw new Error('the stack runs no controller');
    // Where a step's time goes, for the log (not asserted).
    const t0 = Date.now();
    const phases: string[] = [];
    const phase = (name: string): void => {
      phases.push(`${name} ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    };
    await controller.stop();
    phase('stopped');
    trigger(TRIGGERS[step], step);
    const doomed: Child = await controller.restart({ env: { HOSTNIC_FAILPOINT: step }, ready: false });
    const ended = await Promise.race([doomed.exited, new Promise<string>((r) => setTimeout(() => r('still running'), 60_000))]);
    expect(ended, `the controller was to kill itself at ${step}:\n${doomed.output().slice(-4000)}`).toBe('SIGKILL');
    phase('killed');

    await controller.restart();
    phase('leading');
    let last: string[] = [];
    await until(`the cluster to converge after ${step}`, 60_000, async () => {
      last = clusterProblems(s(), want);
      return last.length === 0 ? true : undefined;
    }).catch((e: unknown) => {
      throw new Error(`${String(e)}: ${last.join('; ')}\ncontroller output:\n${controller.child.output().slice(-4000)}`);
    });
    phase('converged');
    console.log(`controller kill matrix: ${step}: killed, restarted, converged (${want.vxnets.length} vxnets pooled, ${want.removed.length} removed, nothing half; ${phases.join(', ')})`);
  }, 150_000);
});
