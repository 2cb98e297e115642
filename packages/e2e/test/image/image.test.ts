/**
 * The image built by `npm run image` (from Debian packages and the npm registry alone) runs: its commands
 * answer, the programs the agent drives find their libraries, the controller runs as the non-root user, and
 * the DaemonSet's install-cni step, run from the image with the init container's mounts, leaves a plugin
 * and runtime that answer VERSION on the host. Runs where podman is (CI installs it).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamedNetns, deleteNamedNetns } from '@hostnic/netlink';
import { randomPrefix } from '@hostnic/sandbox/cluster';
import { REPO, nodeLeftovers, runPlugin, socketGet, startHostnicStack, until } from '../../src/stack/index.ts';
import type { HostnicStack, PodRef } from '../../src/stack/index.ts';
import { MGMT, PODS1 } from '../agent/harness.ts';
import { buildImage, hasCommand, podman, podmanRun } from './podman.ts';
import type { Run } from './podman.ts';
import { cniConf, installCniFromImage, startImageAgent, startImageController } from './sandbox-node.ts';
import type { DaemonContainer } from './sandbox-node.ts';

const ENGINE = hasCommand('podman') && hasCommand('buildah') && hasCommand('mmdebstrap');
/**
 * HOSTNIC_TEST_IMAGE: an image already built (e.g. by `npm run image`) to test instead of building one, and
 * kept afterwards. Otherwise the test builds its own tag, so that a concurrent `npm run image` elsewhere never
 * swaps the image under it, and removes it at the end.
 */
const PREBUILT = process.env['HOSTNIC_TEST_IMAGE'];
const IMAGE = PREBUILT ?? `localhost/hostnic-image-test:${process.pid}`;
const ROOT_PACKAGE = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string; devDependencies: { node: string } };

function ok(r: Run): string {
  expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
  return r.stdout;
}

describe.skipIf(!ENGINE)('the hostnic image', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hostnic-image-test-'));
    if (PREBUILT === undefined) ok(buildImage(REPO, IMAGE));
  }, 600_000);
  afterAll(async () => {
    if (PREBUILT === undefined) podman(['rmi', '--force', IMAGE]);
    await rm(dir, { recursive: true, force: true });
  });

  it('is labelled and under 150 MB uncompressed', () => {
    const labels = JSON.parse(ok(podman(['image', 'inspect', '--format', '{{json .Labels}}', IMAGE]))) as Record<string, string>;
    expect(labels['org.opencontainers.image.version']).toBe(ROOT_PACKAGE.version);
    expect(labels['org.opencontainers.image.title']).toBe('hostnic');
    expect(labels['org.opencontainers.image.licenses']).toBe('Apache-2.0');
    expect(labels['org.opencontainers.image.revision']).toMatch(/^[0-9a-f]{40}$|^unknown$/);
    const size = Number(ok(podman(['image', 'inspect', '--format', '{{.Size}}', IMAGE])).trim());
    expect(size).toBeGreaterThan(0);
    expect(size).toBeLessThan(150_000_000);
  });

  it('runs its three commands and the pinned Node', () => {
    expect(ok(podmanRun(IMAGE, ['node', '--version'])).trim()).toBe(`v${ROOT_PACKAGE.devDependencies.node}`);
    expect(ok(podmanRun(IMAGE, ['hostnic-agent', '--version']))).toMatch(/^\d+\.\d+\.\d+ \(revision [0-9a-f]{12}(-dirty)?\)\n$/);
    expect(ok(podmanRun(IMAGE, ['hostnic-controller', '--version']))).toMatch(/^\d+\.\d+\.\d+ \(revision [0-9a-f]{12}(-dirty)?\)\n$/);
    expect(ok(podmanRun(IMAGE, ['hostnic-iaas', '--version']))).toMatch(/^\d+\.\d+\.\d+ \(revision [0-9a-f]{12}(-dirty)?\)\n$/);
  });

  it('has the programs the agent drives, each finding its libraries', () => {
    const script = 'ip -V && iptables-restore --version && iptables-save --version && ebtables --version && ipset version; nsenter --version && flock --version && busybox udhcpc --help 2>&1; echo x | cat';
    const out = ok(podmanRun(IMAGE, ['sh', '-c', script]));
    expect(out).toContain('iproute2');
    expect(out.match(/\(nf_tables\)/g)?.length).toBe(3);
    expect(out).toContain('ipset v');
    expect(out).toContain('nsenter from util-linux');
    expect(out).toContain('flock from util-linux');
    expect(out).toContain('Usage: udhcpc');
    expect(out.trimEnd().endsWith('x')).toBe(true);
  });

  it('runs the controller as uid 65532, the image\'s hostnic user', () => {
    expect(ok(podmanRun(IMAGE, ['node', '-p', 'process.getuid()'], { user: '65532' })).trim()).toBe('65532');
    expect(ok(podmanRun(IMAGE, ['sh', '-c', 'cat /etc/passwd'])).split('\n')).toContain('hostnic:x:65532:65532:hostnic-controller:/nonexistent:/usr/sbin/nologin');
  });

  it('install-cni with the init container\'s mounts leaves a plugin that answers VERSION on the host', async () => {
    const bin = join(dir, 'opt/cni/bin');
    const netd = join(dir, 'etc/cni/net.d');
    const etc = join(dir, 'etc/hostnic');
    for (const d of [bin, netd, etc]) await mkdir(d, { recursive: true });
    await writeFile(join(etc, '10-hostnic.conf'), JSON.stringify({ cniVersion: '0.3.0', name: 'hostnic', type: 'hostnic', serviceCIDR: '10.233.0.0/18' }));
    ok(podmanRun(IMAGE, ['hostnic-agent', 'install-cni', '--host-root', '/host'], {
      volumes: [`${bin}:/host/opt/cni/bin`, `${netd}:/host/etc/cni/net.d`, `${etc}:/etc/hostnic:ro`],
    }));
    const plugin = await readFile(join(bin, 'hostnic'), 'utf8');
    // The node's view: the plugin starts the runtime installed beside it.
    expect(plugin.split('\n', 1)[0]).toBe('#!/opt/cni/bin/hostnic-node');
    expect(((await stat(join(bin, 'hostnic'))).mode & 0o111) !== 0).toBe(true);
    const conflist = JSON.parse(await readFile(join(netd, '10-hostnic.conflist'), 'utf8')) as { plugins: { type: string }[] };
    expect(conflist.plugins.map((p) => p.type)).toContain('hostnic');
    // The host runs the installed runtime (the image's Node) on the installed plugin, as the shebang would.
    const version = spawnSync(join(bin, 'hostnic-node'), [join(bin, 'hostnic')], {
      encoding: 'utf8',
      env: { CNI_COMMAND: 'VERSION', PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
      input: '{"cniVersion":"1.0.0"}',
    });
    expect(version.status, version.stderr).toBe(0);
    const answer = JSON.parse(version.stdout) as { cniVersion: string; supportedVersions: string[] };
    expect(answer.supportedVersions).toContain('0.3.0');
    expect(answer.supportedVersions).toContain('1.0.0');
  });

  describe('the privileges the agent\'s kernel operations need, measured in a sandbox node\'s namespace', () => {
    const stem = `${randomPrefix()}-cap`;
    const node = `${stem}node`;
    const pod = `${stem}pod`;
    const marker = 'RESULT';
    // Each operation the agent performs, run from the image in the node namespace; one line per result.
    const script = [
      `t() { if out=$(sh -c "$2" 2>&1); then echo "${marker} $1 ok"; else echo "${marker} $1 denied"; fi; }`,
      't links "ip link add hncapa type veth peer name hncapb && ip link set hncapa up && ip addr add 10.9.9.1/24 dev hncapa"',
      't routes "ip route add 10.8.0.0/16 dev hncapa table 200 && ip rule add from 10.9.9.5 table 200"',
      't neighbours "ip neigh replace 10.9.9.7 lladdr 02:00:00:00:00:07 dev hncapa nud permanent"',
      't iptables "printf \'*nat\\n:HNCAP - [0:0]\\nCOMMIT\\n\' | iptables-restore --noflush && iptables-save -t nat >/dev/null"',
      't ebtables "ebtables -t nat -N HNCAP"',
      't ipset "ipset create hncap hash:ip"',
      `t move-to-pod "ip link set hncapb netns /var/run/netns/${pod}"`,
      `t enter-pod "nsenter --net=/var/run/netns/${pod} ip link set lo up"`,
      't sysctls "echo 1 > /proc/sys/net/ipv4/ip_forward"',
    ].join('\n');
    const NET_ONLY = ['links', 'routes', 'neighbours', 'iptables', 'ebtables', 'ipset', 'move-to-pod'];

    async function measure(options: Parameters<typeof podmanRun>[2]): Promise<Record<string, string>> {
      // Fresh namespaces per run: every operation starts from nothing.
      await createNamedNetns(node);
      await createNamedNetns(pod);
      try {
        const r = podmanRun(IMAGE, ['sh', '-c', script], { ...options, netnsPath: `/var/run/netns/${node}`, volumes: ['/var/run/netns:/var/run/netns'] });
        const results = Object.fromEntries(r.stdout.split('\n').filter((l) => l.startsWith(marker)).map((l) => l.split(' ').slice(1)));
        expect(Object.keys(results).length, `${r.stdout}${r.stderr}`).toBe(NET_ONLY.length + 2);
        return results;
      } finally {
        await deleteNamedNetns(node);
        await deleteNamedNetns(pod);
      }
    }

    it('privileged: every operation', async () => {
      expect(Object.values(await measure({ privileges: 'privileged' })).every((v) => v === 'ok')).toBe(true);
    });

    it('no capability: none of them', async () => {
      expect(Object.values(await measure({ privileges: [] })).every((v) => v === 'denied')).toBe(true);
    });

    it('NET_ADMIN: links, routes, neighbours, iptables, ebtables, ipset and moving a link; not entering a pod or sysctls', async () => {
      const r = await measure({ privileges: ['NET_ADMIN'] });
      for (const op of NET_ONLY) expect(r[op], op).toBe('ok');
      expect(r['enter-pod']).toBe('denied');
      expect(r['sysctls']).toBe('denied');
    });

    it('NET_ADMIN and SYS_ADMIN: entering a pod too; sysctls only with /proc/sys writable, which takes privileged in Kubernetes', async () => {
      const caps = ['NET_ADMIN', 'SYS_ADMIN'];
      const r = await measure({ privileges: caps });
      expect(r['enter-pod']).toBe('ok');
      expect(r['sysctls']).toBe('denied');
      expect((await measure({ privileges: caps, unmask: ['/proc/sys'] }))['sysctls']).toBe('ok');
    });
  });
  describe('the controller and the agent from the image on a sandbox node, as deploy/hostnic.yaml runs them', () => {
    const NODE = 'node-1';
    let stack: HostnicStack | undefined;
    let work: string;
    const containers: DaemonContainer[] = [];
    let controller: DaemonContainer;
    let agent: DaemonContainer;
    let pod: PodRef;
    let podIp = '';
    const s = (): HostnicStack => {
      if (stack === undefined) throw new Error('no stack');
      return stack;
    };
    /**
     * The plugin install-cni left, started as its shebang would start it: the shebang names the node's
     * /opt/cni/bin/hostnic-node, which the sandbox node has under its own directory.
     */
    const installedPlugin = (): string[] => {
      const bin = s().sandbox.node(NODE).paths.cniBinDir;
      return [join(bin, 'hostnic-node'), join(bin, 'hostnic')];
    };
    /** What the image's agent says, for failure messages. */
    const agentLog = (): string => `\nagent log:\n${agent.logs()}`;

    beforeAll(async () => {
      work = await mkdtemp(join(tmpdir(), 'hostnic-image-sandbox-'));
      // No agent and no controller of the stack's own: the image's take their place.
      stack = await startHostnicStack({
        prefix: `${randomPrefix()}i`,
        nodes: 1,
        agentsOn: [],
        vxnets: [MGMT, PODS1],
        ipam: { kind: 'controller', external: true, vxnets: [PODS1.id], ipamConfig: { 'subnet-auto-assign': 'on', ipam: '{}' } },
      });
    }, 120_000);
    afterAll(async () => {
      for (const c of containers) await c.remove();
      await stack?.close();
      await rm(work, { recursive: true, force: true });
    }, 120_000);

    it('the controller, as uid 65532 on a read-only root filesystem without capabilities, reconciles VxNetPool v-pool', async () => {
      controller = await startImageController(s(), NODE, IMAGE, `${s().sandbox.prefix}-controller`, join(work, 'controller'));
      containers.push(controller);
      await until('VxNetPool v-pool to be ready', 90_000, async () => {
        const status = s().kube.get('vxnetpools', 'v-pool')?.['status'] as { ready?: boolean } | undefined;
        return status?.ready === true ? true : undefined;
      }).catch((e: unknown) => {
        throw new Error(`${String(e)}\ncontroller log:\n${controller.logs()}`);
      });
      expect(s().kube.list('ippools').map((p) => p.metadata?.name)).toEqual([PODS1.id]);
      expect(ok(await controller.exec(['node', '-p', 'process.getuid() + " " + process.getgid()'])).trim()).toBe('65532 65532');
      const write = await controller.exec(['sh', '-c', 'echo x > /app/probe']);
      expect(write.status).not.toBe(0);
      expect(write.stderr).toContain('Read-only file system');
      const status = ok(await controller.exec(['cat', '/proc/self/status']));
      expect(status).toMatch(/^CapEff:\t0{16}$/m);
      expect(status).toMatch(/^NoNewPrivs:\t1$/m);
      const healthz = await s().sandbox.exec(NODE, ['curl', '-sf', `http://${s().sandbox.node(NODE).ip}:9192/healthz`]);
      expect(healthz.code, healthz.stderr).toBe(0);
    }, 120_000);

    it('install-cni and the agent, privileged in the node\'s network namespace with the DaemonSet\'s mounts, become ready', async () => {
      ok(await installCniFromImage(s(), NODE, IMAGE, join(work, 'agent')));
      agent = await startImageAgent(s(), NODE, IMAGE, `${s().sandbox.prefix}-agent`, join(work, 'agent'));
      containers.push(agent);
      const socket = join(s().sandbox.node(NODE).paths.runDir, 'hostnic.socket');
      await until('the image\'s agent to be ready', 90_000, async () => {
        const st = await socketGet(socket, '/v1/status');
        return st !== undefined && (st.body as { ready?: boolean }).ready === true ? true : undefined;
      }).catch((e: unknown) => {
        throw new Error(`${String(e)}${agentLog()}`);
      });
    }, 180_000);

    it('serves a pod ADD from the plugin install-cni put on the node, run as kubelet would; the pod\'s traffic flows', async () => {
      const created = await s().createPod(NODE, 'default', 'img1');
      pod = created.ref;
      const add = await runPlugin(s().sandbox.node(NODE), installedPlugin(), cniConf(s(), NODE), 'ADD', pod);
      expect(add.code, `${add.stdout}${add.stderr}${agentLog()}`).toBe(0);
      podIp = ((JSON.parse(add.stdout) as { ips: { address: string }[] }).ips[0]?.address ?? '').split('/')[0] ?? '';
      expect(podIp.startsWith('172.16.3.')).toBe(true);
      expect(await s().handlesWhen(1)).toHaveLength(1);
      expect(await s().sandbox.ping(created.netns, s().sandbox.node(NODE).ip, { attempts: 3 }), 'pod → node').toBe(true);
      expect(await s().sandbox.vpcPing(podIp, { attempts: 3 }), 'gateway → pod').toBe(true);
    }, 120_000);

    it('curl :9191/metrics shows process metrics, build info and the IaaS requests of the ADD', async () => {
      const metrics = await s().sandbox.exec(NODE, ['curl', '-sf', `http://${s().sandbox.node(NODE).ip}:9191/metrics`]);
      expect(metrics.code, metrics.stderr).toBe(0);
      const text = metrics.stdout;
      expect(text).toMatch(/^process_resident_memory_bytes(\{[^}]*\})? [1-9]\d*$/m);
      expect(text).toMatch(/^nodejs_eventloop_lag_seconds(\{[^}]*\})? /m);
      expect(text).toMatch(new RegExp(`^hostnic_build_info\\{[^}]*component="agent"[^}]*version="${ROOT_PACKAGE.version}"[^}]*\\} 1$`, 'm'));
      // The cold ADD created and attached the pod vxnet's NIC.
      expect(text).toMatch(/^hostnic_iaas_requests_total\{[^}]*action="AttachNics"[^}]*\} [1-9]/m);
      expect(text).toMatch(/^hostnic_iaas_request_duration_seconds_count\{[^}]*action="CreateNics"[^}]*\} [1-9]/m);
    }, 60_000);

    it('hostnic-agent diags in the agent\'s container writes a bundle with every part and its kubelet log, without the secret', async () => {
      ok(await agent.exec(['hostnic-agent', 'diags', '--output', '/var/lib/hostnic/diags.tar.gz']));
      const bundle = join(s().sandbox.node(NODE).paths.stateDir, 'diags.tar.gz');
      const names = spawnSync('tar', ['-tzf', bundle], { encoding: 'utf8' }).stdout.trim().split('\n');
      const errors = names.filter((n) => n.endsWith('.error'));
      const why = errors.map((n) => `${n}: ${spawnSync('tar', ['-xzOf', bundle, n], { encoding: 'utf8' }).stdout}`).join('');
      expect(errors, why).toEqual([]);
      const log = names.find((n) => n.startsWith('logs/'));
      expect(log).toBe('logs/0-0.log');
      // CRI lines (time, stream, tag, the agent's JSON line).
      expect(spawnSync('tar', ['-xzOf', bundle, 'logs/0-0.log'], { encoding: 'utf8' }).stdout).toMatch(/^\S+ stderr F \{.*"component":"agent"/m);
      expect(names).toContain('kernel/ebtables-nat.txt');
      const pods = spawnSync('tar', ['-xzOf', bundle, 'agent/pods.json'], { encoding: 'utf8' }).stdout;
      expect((JSON.parse(pods) as { pods: { ip: string }[] }).pods.map((p) => p.ip)).toEqual([podIp]);
      const all = spawnSync('sh', ['-c', `gzip -dc '${bundle}'`], { encoding: 'latin1', maxBuffer: 64 * 1024 * 1024 }).stdout;
      expect(all).not.toContain(s().sandbox.qingcloud.accessKey.secretAccessKey);
    }, 60_000);

    it('serves the DEL: nothing of the pod is left on the node', async () => {
      const del = await runPlugin(s().sandbox.node(NODE), installedPlugin(), cniConf(s(), NODE), 'DEL', pod);
      expect(del.code, `${del.stdout}${del.stderr}${agentLog()}`).toBe(0);
      expect(await s().handlesWhen(0)).toEqual([]);
      expect(await nodeLeftovers(s().sandbox, NODE)).toEqual({ links: [], rules: [], arp: [] });
    }, 60_000);
  });
});
