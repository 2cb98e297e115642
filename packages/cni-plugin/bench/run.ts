/**
 * Wall time of the bundled plugin, next to Node's bare start-up and Debian's reference ptp + host-local,
 * all started the same way (nsenter into a throwaway node namespace). ADD and DEL go to the stand-in
 * agent doing the real wiring. Prints figures, asserts nothing. Needs root; `HOSTNIC_BENCH_N` iterations
 * (default 30).
 */

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { buildPlugin, PACKAGE_DIR } from '../scripts/build.ts';
import { startFakeAgent } from '../test/helpers/fake-agent.ts';
import { createSandbox } from '../test/helpers/netns.ts';
import { run } from '../test/helpers/sh.ts';
import type { Ran } from '../test/helpers/sh.ts';

const N = Number(process.env['HOSTNIC_BENCH_N'] ?? 30);
const REFERENCE = '/usr/lib/cni';
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

if (process.getuid?.() !== 0) {
  console.log('cni-plugin bench: needs root (network namespaces); skipped');
  process.exit(0);
}

function stats(samples: number[]): string {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? NaN;
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return `mean ${mean.toFixed(1).padStart(6)} ms   p50 ${at(0.5).toFixed(1).padStart(6)} ms   p99 ${at(0.99).toFixed(1).padStart(6)} ms`;
}

const box = await createSandbox('bench');
const agent = await startFakeAgent({
  socketPath: join(box.dir, 'agent.sock'),
  mode: 'wire',
  nodeNetns: box.node,
  lockPath: join(box.dir, 'hostnic.lock'),
});
// The same calls against an agent that answers at once: what the plugin itself costs.
const canned = await startFakeAgent({ socketPath: join(box.dir, 'canned.sock'), mode: 'canned' });
try {
  const bin = join(box.dir, 'bin');
  const { outfile, bytes } = await buildPlugin({ outfile: join(box.dir, 'build', 'hostnic') });
  execFileSync('sh', [join(PACKAGE_DIR, 'scripts', 'install.sh'), '--plugin', outfile, '--node', process.execPath, '--dest', bin, '--link-node']);
  const plugin = join(bin, 'hostnic');
  const pod = await box.addPod('pod');
  const podPath = box.podPath(pod);
  const enter = ['nsenter', `--net=/var/run/netns/${box.node}`, '--'];
  await mkdir(join(box.dir, 'ipam'), { recursive: true });

  const cniEnv = (command: string, id: string, path: string): Record<string, string> => ({
    PATH,
    CNI_COMMAND: command,
    CNI_CONTAINERID: id,
    CNI_NETNS: podPath,
    CNI_IFNAME: 'eth0',
    CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=bench;K8S_POD_INFRA_CONTAINER_ID=${id}`,
    CNI_PATH: path,
  });
  const hostnicConf = JSON.stringify({
    cniVersion: '1.0.0',
    name: 'hostnic',
    type: 'hostnic',
    serviceCIDR: '10.233.0.0/18',
    socketPath: join(box.dir, 'agent.sock'),
    spoolDir: join(box.dir, 'spool'),
  });
  const cannedConf = JSON.stringify({ ...(JSON.parse(hostnicConf) as object), socketPath: join(box.dir, 'canned.sock') });
  const ptpConf = JSON.stringify({
    cniVersion: '1.0.0',
    name: 'bench-ptp',
    type: 'ptp',
    ipMasq: false,
    ipam: { type: 'host-local', subnet: '10.201.0.0/16', dataDir: join(box.dir, 'ipam') },
  });

  async function timed(argv: string[], env: Record<string, string>, stdin = ''): Promise<number> {
    const r: Ran = await run([...enter, ...argv], { env, stdin });
    if (r.code !== 0) throw new Error(`${argv.join(' ')} ${env['CNI_COMMAND'] ?? ''} failed: ${r.stdout} ${r.stderr}`);
    return r.ms;
  }

  const rows: Record<string, number[]> = {
    'nsenter true (launch overhead)': [],
    'node -e 0': [],
    'hostnic VERSION': [],
    'hostnic VERSION, no code cache yet': [],
    'hostnic ADD, no code cache yet': [],
    'hostnic ADD (agent answers at once)': [],
    'hostnic DEL (agent answers at once)': [],
    'hostnic ADD (agent wires the pod)': [],
    'hostnic DEL (agent unwires the pod)': [],
    'ptp+host-local ADD': [],
    'ptp+host-local DEL': [],
  };
  const push = (k: string, v: number): void => {
    rows[k]?.push(v);
  };
  const haveReference = existsSync(join(REFERENCE, 'ptp')) && existsSync(join(REFERENCE, 'host-local'));
  // The launcher's code cache beside the plugin (src/launcher.ts); removed before the rows that show a first call.
  const codeCache = join(bin, '.hostnic-cache');

  for (let i = -3; i < N; i++) {
    // Three warm-up rounds fill the page cache and the compile cache; they are not counted.
    const keep = i >= 0;
    const add = (k: string, v: number): void => {
      if (keep) push(k, v);
    };
    add('nsenter true (launch overhead)', await timed(['true'], { PATH }));
    add('node -e 0', await timed([process.execPath, '-e', '0'], { PATH }));
    add('hostnic VERSION', await timed([plugin], { PATH, CNI_COMMAND: 'VERSION' }));
    await rm(codeCache, { recursive: true, force: true });
    add('hostnic VERSION, no code cache yet', await timed([plugin], { PATH, CNI_COMMAND: 'VERSION' }));
    const id = `bench${i + 10}`;
    await rm(codeCache, { recursive: true, force: true });
    add('hostnic ADD, no code cache yet', await timed([plugin], cniEnv('ADD', `${id}cold`, bin), cannedConf));
    await timed([plugin], cniEnv('DEL', `${id}cold`, bin), cannedConf);
    add('hostnic ADD (agent answers at once)', await timed([plugin], cniEnv('ADD', id, bin), cannedConf));
    add('hostnic DEL (agent answers at once)', await timed([plugin], cniEnv('DEL', id, bin), cannedConf));
    add('hostnic ADD (agent wires the pod)', await timed([plugin], cniEnv('ADD', id, bin), hostnicConf));
    add('hostnic DEL (agent unwires the pod)', await timed([plugin], cniEnv('DEL', id, bin), hostnicConf));
    if (haveReference) {
      add('ptp+host-local ADD', await timed([join(REFERENCE, 'ptp')], cniEnv('ADD', id, REFERENCE), ptpConf));
      add('ptp+host-local DEL', await timed([join(REFERENCE, 'ptp')], cniEnv('DEL', id, REFERENCE), ptpConf));
    }
  }

  console.log(`cni-plugin bench: ${N} iterations, bundle ${(bytes / 1024).toFixed(1)} KiB, ${process.execPath} ${process.version}`);
  for (const [name, samples] of Object.entries(rows)) {
    if (samples.length > 0) console.log(`  ${name.padEnd(40)} ${stats(samples)}`);
  }
  if (!haveReference) console.log('  (ptp/host-local not installed: apt-get install containernetworking-plugins)');
} finally {
  await canned.stop();
  await agent.stop();
  await box.cleanup();
}
