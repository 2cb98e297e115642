/**
 * `hostnic-agent diags` on a sandbox node (run in the node's namespace, as `kubectl exec` into the agent's
 * container would): the bundle holds the agent's view of a wired pod, the node's kernel state with that pod's
 * rule and route, the sysctls, the agent's log and the effective configuration, and never the secret key.
 * With the agent unreachable, the agent's parts are error files and the rest is still there.
 */

import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_CLI, MGMT, PODS1, REPO, agentClusterFixture, run } from './harness.ts';

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)('hostnic-agent diags on a sandbox node', () => {
  const c = agentClusterFixture('hd', {
    nodes: 1,
    agentsOn: ['node-1'],
    vxnets: [MGMT, PODS1],
    pools: [PODS1.id],
    mapping: () => ({ Default: [PODS1.id] }),
  });
  let out: string;
  let podIp = '';
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'hostnic-diags-e2e-'));
    const { ref } = await c().createPod('node-1', 'default', 'diag1');
    const add = await c().agent('node-1').plugin('ADD', ref);
    expect(add.code, `${add.stdout}${add.stderr}`).toBe(0);
    podIp = ((JSON.parse(add.stdout) as { ips: { address: string }[] }).ips[0]?.address ?? '').split('/')[0] ?? '';
  }, 120_000);
  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
  });

  async function diags(bundle: string, socket: string): Promise<{ names: string[]; text: (name: string) => string; all: string; stderr: string }> {
    const node = c().sandbox.node('node-1');
    const etc = join(c().dir, 'node-1');
    const log = join(out, 'agent.log');
    await writeFile(log, c().agent('node-1').child.output());
    const r = await run(
      ['ip', 'netns', 'exec', node.netnsName, process.execPath, '--conditions=@hostnic/source', AGENT_CLI, 'diags',
        '--output', bundle, '--socket', socket, '--config', join(etc, 'hostnic.json'), '--qingcloud-config', join(etc, 'config.yaml'),
        '--instance-id-file', node.paths.instanceIdFile, '--log-file', log],
      { ...process.env, MY_NODE_NAME: 'node-1' },
      '',
      REPO,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(bundle);
    const names = execFileSync('tar', ['-tzf', bundle], { encoding: 'utf8' }).trim().split('\n');
    const text = (name: string): string => execFileSync('tar', ['-xzOf', bundle, name], { encoding: 'utf8' });
    return { names, text, all: gunzipSync(readFileSync(bundle)).toString('latin1'), stderr: r.stderr };
  }

  it('holds the agent\'s view, the kernel state of the wired pod, sysctls, logs and the redacted config', async () => {
    const b = await diags(join(out, 'up.tar.gz'), c().agent('node-1').socket);
    expect(b.names).toEqual([
      'manifest.json', 'about.json',
      'agent/status.json', 'agent/pods.json', 'agent/nics.json', 'agent/pools.json',
      'kernel/links.txt', 'kernel/addresses.txt', 'kernel/routes.txt', 'kernel/rules.txt', 'kernel/neighbours.txt', 'kernel/proxy-neighbours.txt',
      'kernel/iptables-save.txt', 'kernel/ebtables-nat.txt', 'kernel/sysctls.txt',
      'config/effective.json', 'config/qingcloud-config.yaml', 'logs/0-agent.log',
    ]);
    expect(JSON.parse(b.text('agent/status.json'))).toEqual({ ready: true });
    const pods = JSON.parse(b.text('agent/pods.json')) as { pods: { podName: string; ip: string }[] };
    expect(pods.pods.map((p) => [p.podName, p.ip])).toEqual([['diag1', podIp]]);
    expect(b.text('kernel/rules.txt')).toContain(`1535:\tfrom all to ${podIp}`);
    expect(b.text('kernel/links.txt')).toMatch(/: hostnic_pods001@.* master br_260 /);
    expect(b.text('kernel/routes.txt')).toContain(podIp);
    // The pod's ARP answer is a proxy entry on the vxnet's bridge; ebtables is listed for entries of earlier releases.
    expect(b.text('kernel/proxy-neighbours.txt')).toContain(`${podIp} dev br_260 proxy`);
    expect(b.text('kernel/ebtables-nat.txt')).toContain('Bridge table: nat');
    expect(b.text('kernel/iptables-save.txt')).toContain(':HOSTNIC-PREROUTING - ');
    expect(b.text('kernel/sysctls.txt')).toMatch(/^net\.ipv4\.ip_forward = [01]$/m);
    expect(b.text('logs/0-agent.log')).toContain('"component":"agent"');
    const effective = JSON.parse(b.text('config/effective.json')) as { identity: { instanceId: string; nodeName: string } };
    expect(effective.identity).toMatchObject({ instanceId: c().sandbox.node('node-1').instanceId, nodeName: 'node-1' });
    expect(b.text('config/qingcloud-config.yaml')).toContain("qy_secret_access_key: '<redacted>'");
    const manifest = JSON.parse(b.text('manifest.json')) as { parts: { ok: boolean }[] };
    expect(manifest.parts.filter((p) => !p.ok)).toEqual([]);
    // Nowhere in the bundle, also not in the log or the kernel's tables.
    const secret = c().sandbox.qingcloud.accessKey.secretAccessKey;
    expect(secret.length).toBeGreaterThan(8);
    expect(b.all).not.toContain(secret);
  }, 60_000);

  it('records the agent\'s parts as errors when its socket answers nothing, and keeps the rest', async () => {
    const b = await diags(join(out, 'down.tar.gz'), join(out, 'no-agent.sock'));
    const errors = b.names.filter((n) => n.endsWith('.error'));
    expect(errors).toEqual(['agent/status.json.error', 'agent/pods.json.error', 'agent/nics.json.error', 'agent/pools.json.error']);
    expect(b.text('agent/status.json.error')).toContain('no socket at');
    expect(b.names).toContain('kernel/rules.txt');
    expect(b.stderr.match(/^warning: agent\//gm)?.length).toBe(4);
  }, 60_000);
});
