import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.ts';
import { README_HOSTNIC, README_HOSTNIC_CNI, capture, useStandInAgents, useTempDirs } from './helpers.ts';

const tempDir = useTempDirs();

/** hostnic.json, instance-id and config.yaml in a temp dir, with the flags that point at them. */
async function runFixture(hostnic = README_HOSTNIC): Promise<{ dir: string; flags: string[] }> {
  const dir = await tempDir();
  await writeFile(path.join(dir, 'hostnic.json'), hostnic);
  await writeFile(path.join(dir, 'instance-id'), 'i-test0001\n');
  await writeFile(
    path.join(dir, 'config.yaml'),
    'qy_access_key_id: "AKIDTEST"\nqy_secret_access_key: "SECRET"\nzone: "pek3a"\n',
  );
  return {
    dir,
    flags: [
      '--config', path.join(dir, 'hostnic.json'),
      '--instance-id-file', path.join(dir, 'instance-id'),
      '--qingcloud-config', path.join(dir, 'config.yaml'),
    ],
  };
}

describe('hostnic-agent run', () => {
  it('--validate-only prints the effective config (flags override) and exits 0', async () => {
    const { dir, flags } = await runFixture();
    const c = capture({ MY_NODE_NAME: 'node-1' });
    const code = await runCli(
      ['run', ...flags, '--metrics-port', '9300', '--k8s-api-qps', '50', '--dbpath', path.join(dir, 'db'), '--validate-only'],
      c.io,
    );
    expect(c.err()).not.toContain('hostnic-agent: pool');
    expect(code).toBe(0);
    const eff = JSON.parse(c.out()) as {
      config: { pool: { maxNic: number }; server: { networkPolicy: string }; agent: { metricsPort: number; k8sApiQps: number; k8sApiBurst: number; stateDir: string } };
      identity: { instanceId: string; nicName: string; nodeName: string };
      iaas: Record<string, unknown>;
    };
    expect(eff.config.pool.maxNic).toBe(60);
    expect(eff.config.server.networkPolicy).toBe('calico');
    expect(eff.config.agent).toMatchObject({ metricsPort: 9300, k8sApiQps: 50, k8sApiBurst: 100, stateDir: path.join(dir, 'db') });
    expect(eff.identity).toMatchObject({ instanceId: 'i-test0001', nicName: 'hostnic_i-test0001', nodeName: 'node-1' });
    expect(eff.iaas['zone']).toBe('pek3a');
    expect(c.out()).not.toContain('SECRET');
  });

  it("is the default command: the Go DaemonSet's command line is accepted", async () => {
    const { flags } = await runFixture();
    const c = capture({ NODE_NAME: 'node-2' });
    const code = await runCli(['--v=5', '--metrics-port=9191', '--validate-only', ...flags], c.io);
    expect(code).toBe(0);
    expect(c.err()).toContain('are valid');
  });

  it('--help describes the daemon and its signals', async () => {
    const c = capture();
    expect(await runCli(['run', '--help'], c.io)).toBe(0);
    expect(c.out()).toContain('SIGTERM');
    const top = capture();
    expect(await runCli(['--help'], top.io)).toBe(0);
    expect(top.out()).toContain('install-cni');
    expect(top.out()).toContain('inspect');
  });

  it('sync 0 fails naming the field', async () => {
    const { flags } = await runFixture('{"pool":{"sync":0}}');
    const c = capture({ MY_NODE_NAME: 'n' });
    expect(await runCli(['run', ...flags], c.io)).toBe(1);
    expect(c.err()).toContain('pool.sync must be an integer from 1 to 2147483 (seconds; a timer cannot exceed 2^31-1 ms), got 0');
    expect(c.out()).toBe('');
  });

  it('a missing instance-id file fails naming it', async () => {
    const { dir, flags } = await runFixture();
    const c = capture({ MY_NODE_NAME: 'n' });
    const missing = path.join(dir, 'no-instance-id');
    expect(await runCli(['run', ...flags, '--instance-id-file', missing], c.io)).toBe(1);
    expect(c.err()).toContain(missing);
  });

  it('a missing node name fails naming both variables', async () => {
    const { flags } = await runFixture();
    const c = capture({});
    expect(await runCli(['run', ...flags], c.io)).toBe(1);
    expect(c.err()).toContain('MY_NODE_NAME');
    expect(c.err()).toContain('NODE_NAME');
  });

  it('a bad flag value is a usage error', async () => {
    const c = capture();
    expect(await runCli(['run', '--metrics-port', 'x'], c.io)).toBe(2);
    expect(c.err()).toContain('--metrics-port');
    expect(await runCli(['run', '--log-level', 'loud'], c.io)).toBe(2);
    expect(c.err()).toContain('--log-level');
  });

  it('--version prints the package version', async () => {
    const c = capture();
    expect(await runCli(['--version'], c.io)).toBe(0);
    expect(c.out()).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});

describe('hostnic-agent install-cni', () => {
  async function sources(cni = README_HOSTNIC_CNI): Promise<{ dir: string; flags: string[] }> {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'hostnic'), '#!/somewhere/node\nconsole.log(1)\n');
    await writeFile(path.join(dir, '10-hostnic.conf'), cni);
    return {
      dir,
      flags: [
        '--host-root', path.join(dir, 'host'),
        '--plugin-bundle', path.join(dir, 'hostnic'),
        '--cni-config-source', path.join(dir, '10-hostnic.conf'),
        '--node-runtime', process.execPath,
      ],
    };
  }

  it('installs under the host root and reports what it did', async () => {
    const { dir, flags } = await sources();
    const c = capture();
    expect(await runCli(['install-cni', ...flags], c.io)).toBe(0);
    expect(c.out()).toContain('created    /opt/cni/bin/hostnic');
    const plugin = await readFile(path.join(dir, 'host/opt/cni/bin/hostnic'), 'utf8');
    expect(plugin.startsWith('#!/opt/cni/bin/hostnic-node\n')).toBe(true);
    expect((await stat(path.join(dir, 'host/etc/cni/net.d/10-hostnic.conflist'))).isFile()).toBe(true);
    const again = capture();
    expect(await runCli(['install-cni', ...flags, '--json'], again.io)).toBe(0);
    expect((JSON.parse(again.out()) as { plugin: { outcome: string } }).plugin.outcome).toBe('unchanged');
  });

  it('invalid hostnic-cni content fails and writes nothing', async () => {
    const { dir, flags } = await sources('{"cniVersion":"9.9.9","name":"hostnic","type":"hostnic"}');
    const c = capture();
    expect(await runCli(['install-cni', ...flags], c.io)).toBe(1);
    expect(c.err()).toContain('cniVersion');
    await expect(stat(path.join(dir, 'host'))).rejects.toThrow(/ENOENT/);
  });
});

describe('hostnic-agent inspect (stand-in agent on a unix socket)', () => {
  const standIn = useStandInAgents();

  const answers: Record<string, unknown> = {
    '/v1/pods': [
      { podNamespace: 'default', podName: 'nginx', ip: '172.22.0.239', vxnetId: 'vxnet-a', nicId: '52:54:00:00:00:01', containerId: 'abc', ifName: 'eth0' },
    ],
    '/v1/nics': { nics: [{ nicId: '52:54:00:00:00:01', vxnet: { vxnetId: 'vxnet-a', gateway: '172.22.0.1' }, phase: 'Succeeded', routeTable: 260, pods: 1 }] },
    '/v1/pools': { items: [] },
  };

  it.each(['pods', 'nics', 'pools'])('%s: table and JSON', async (kind) => {
    const seen: string[] = [];
    const socket = await standIn(({ url }) => {
      seen.push(url);
      return { status: 200, body: answers[url] };
    });
    const c = capture();
    expect(await runCli(['inspect', kind, '--socket', socket], c.io)).toBe(0);
    const j = capture();
    expect(await runCli(['inspect', kind, '--socket', socket, '--json'], j.io)).toBe(0);
    expect(seen).toEqual([`/v1/${kind}`, `/v1/${kind}`]);
    expect(JSON.parse(j.out())).toEqual(answers[`/v1/${kind}`]);
    if (kind === 'pods') {
      const [header, row] = c.out().trimEnd().split('\n');
      expect(header?.split(/\s+/).slice(0, 3)).toEqual(['PODNAMESPACE', 'PODNAME', 'IP']);
      expect(row).toContain('172.22.0.239');
    } else if (kind === 'nics') {
      expect(c.out()).toMatch(/^NICID\s+VXNET\.VXNETID\s+PHASE/);
      expect(c.out()).toContain('Succeeded');
    } else {
      expect(c.out()).toBe('no pools\n');
    }
  });

  it('an error answer fails with the agent message', async () => {
    const socket = await standIn(() => ({ status: 503, body: { code: 11, msg: 'agent not ready: caches syncing' } }));
    const c = capture();
    expect(await runCli(['inspect', 'nics', '--socket', socket], c.io)).toBe(1);
    expect(c.err()).toContain('503');
    expect(c.err()).toContain('caches syncing');
  });

  it('no agent: says there is no socket', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'run'));
    const socket = path.join(dir, 'run', 'hostnic.socket');
    const c = capture({ HOSTNIC_SOCKET: socket });
    expect(await runCli(['inspect', 'pods'], c.io)).toBe(1);
    expect(c.err()).toContain(`no socket at ${socket}`);
  });

  it('an unknown kind is a usage error', async () => {
    const c = capture();
    expect(await runCli(['inspect', 'routes'], c.io)).toBe(2);
    expect(c.err()).toContain('pods');
  });
});
