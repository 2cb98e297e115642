/**
 * End to end, as root: the capture churn takes when the VPC cannot reach a pod (unreachable.ts) names the cause.
 * A pod is wired, its ARP answer (the proxy neighbour entry) is removed behind the agent's back, and the capture
 * must say so, show the VPC's unanswered neighbour entry, and still find the pod reachable from its own node.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MGMT, PODS1, agentClusterFixture } from './harness.ts';
import { captureUnreachable, filterRoutes, nicBridges, proxyDevs, recentLog, withMacOwners } from './unreachable.ts';

const isRoot = process.getuid?.() === 0;

describe('the parts of an unreachable-pod capture', () => {
  it('finds NICs and their bridges, proxy entries by IP, and keeps warnings of the log', () => {
    const links = [
      '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000',
      '7: hostnic_pods001: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master br_260 state UP mode DEFAULT',
      '9: hostnic_pods002@if12: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT',
    ].join('\n');
    expect(nicBridges(links)).toEqual([
      { nic: 'hostnic_pods001', master: 'br_260', up: true },
      { nic: 'hostnic_pods002', master: undefined, up: false },
    ]);
    expect(proxyDevs('172.16.3.5 dev br_260  proxy\n172.16.3.50 dev br_261  proxy\n', '172.16.3.5')).toEqual(['br_260']);
    expect(proxyDevs('172.16.3.50 dev br_261  proxy\n', '172.16.3.5')).toEqual([]);
    const log = ['{"level":"info","msg":"a"}', '{"level":"warn","msg":"b"}', '{"level":"info","msg":"c"}'].join('\n');
    expect(recentLog(log).split('\n')).toEqual(['-- last 30 warnings/errors --', '{"level":"warn","msg":"b"}', '-- last 60 lines --', '{"level":"info","msg":"a"}', '{"level":"warn","msg":"b"}', '{"level":"info","msg":"c"}']);
    const owners = new Map([['52:54:aa:bb:cc:dd', "node-1's NIC"]]);
    expect(withMacOwners('172.16.3.5 dev b1 lladdr 52:54:AA:BB:CC:DD REACHABLE\n172.16.3.6 dev b1 lladdr 02:00:00:00:00:01 STALE', owners)).toBe(
      "172.16.3.5 dev b1 lladdr 52:54:AA:BB:CC:DD (node-1's NIC) REACHABLE\n172.16.3.6 dev b1 lladdr 02:00:00:00:00:01 STALE",
    );
    expect(filterRoutes('default via 10.0.0.1 dev eth0\nlocal 10.0.0.2 dev eth0 table local proto kernel\n172.16.3.0/24 dev br_260 table 260 scope link')).toBe(
      'default via 10.0.0.1 dev eth0\n172.16.3.0/24 dev br_260 table 260 scope link',
    );
  });
});

describe.skipIf(!isRoot)('an unreachable-pod capture (e2e)', () => {
  const c = agentClusterFixture('hu', { nodes: 1, agentsOn: ['node-1'], vxnets: [MGMT, PODS1], pools: [PODS1.id], mapping: () => ({ Default: [PODS1.id] }) });
  let dir: string | undefined;
  afterAll(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('names a missing ARP answer, the VPC side and the node side, and keeps the report', async () => {
    const { ref, netns } = await c().createPod('node-1', 'default', 'lost');
    const add = await c().agent('node-1').plugin('ADD', ref);
    expect(add.code, add.stderr).toBe(0);
    const ip = (JSON.parse(add.stdout) as { ips: { address: string }[] }).ips[0]?.address.split('/')[0] ?? '';
    expect(await c().sandbox.vpcPing(ip, { attempts: 3 })).toBe(true);
    const proxy = await c().sandbox.exec('node-1', ['ip', 'neigh', 'show', 'proxy']);
    const dev = proxyDevs(proxy.stdout, ip)[0];
    expect(dev).toMatch(/^br_\d+$/);
    // The ARP answer goes; the VPC forgets what it learnt, so that it must ask again.
    expect((await c().sandbox.exec('node-1', ['ip', 'neigh', 'del', 'proxy', ip, 'dev', dev ?? ''])).code).toBe(0);
    expect((await c().sandbox.exec('vpc', ['ip', 'neigh', 'flush', 'to', ip])).code).toBe(0);

    dir = await mkdtemp(join(tmpdir(), 'hostnic-unreachable-'));
    const capture = await captureUnreachable(c(), { key: 'lost', node: 'node-1', ip, vxnetId: PODS1.id, netns }, dir);
    expect(capture.facts).toContain(`hostnic_pods001 in ${dev ?? ''}`);
    expect(capture.facts).toContain('proxy entry on NONE');
    expect(capture.facts).toContain('rule 1535 yes');
    expect(capture.facts).toContain('other nodes answering ARP for it: none');
    expect(capture.facts).toContain(`forwarding all=1 default=1 ${dev ?? ''}=1`);
    expect(capture.facts).toMatch(/node route get from gw: \S+ from \S+ dev vnic[0-9a-f]{11}/);
    // The pod's own echo to the gateway fails too: the reply needs the same ARP answer.
    expect(capture.facts).toMatch(/ping node->pod ok, pod->gw \S+, vpc->pod FAIL/);
    expect(capture.facts).toMatch(/after pings: \S+ dev \S+ (FAILED|INCOMPLETE)/);
    expect(capture.file).toBe(join(dir, 'unreachable-node-1-lost.txt'));
    const text = await readFile(capture.file ?? '', 'utf8');
    for (const title of ['node-1: ip -d link', 'node-1: sysctls', 'vpc: bridge fdb', 'vpc: kernel counters (nstat -asz)', 'agent on node-1: GET /v1/nics', 'agent on node-1: log']) expect(text).toContain(`== ${title}`);
    expect(text).toMatch(/neigh\/br_\d+\/proxy_delay:0/);
    expect((await c().agent('node-1').plugin('DEL', ref)).code).toBe(0);
  }, 60_000);
});
