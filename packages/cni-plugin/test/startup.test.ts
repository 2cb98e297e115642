/**
 * What the plugin process costs beyond Node's own start, counted rather than timed: the Node builtins an ADD
 * and a DEL load when the agent serves them, and the threads the process runs. Each extra builtin is compiled
 * and run on every pod start; an async fs call starts libuv's pool of four threads.
 */

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeAgent } from './helpers/fake-agent.ts';
import { startFakeAgent } from './helpers/fake-agent.ts';
import { PLUGIN_BIN_DIR, runPlugin } from './helpers/plugin.ts';
import { run } from './helpers/sh.ts';

/** Written at exit by the preload: the builtins loaded and the threads alive. */
interface Footprint {
  builtins: string[];
  threads: number;
}

/** What an HTTP request over a unix socket needs beyond VERSION: node:net and the stream classes under it. */
const SOCKET_BUILTINS = new Set([
  'net',
  'stream',
  'stream/promises',
  'string_decoder',
  'internal/abort_controller',
  'internal/stream_base_commons',
  'internal/perf/observe',
  'internal/perf/performance_entry',
]);

let dir: string;
let agent: FakeAgent;
let preload: string;
let seq = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hn-startup-'));
  agent = await startFakeAgent({ socketPath: join(dir, 'agent.sock'), mode: 'canned' });
  preload = join(dir, 'footprint.cjs');
  await writeFile(
    preload,
    `process.on('exit', () => {
  const fs = require('node:fs');
  const builtins = process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13));
  fs.writeFileSync(process.env.FOOTPRINT_FILE, JSON.stringify({ builtins, threads: fs.readdirSync('/proc/self/task').length }));
});\n`,
  );
});

afterAll(async () => {
  await agent.stop();
  await rm(dir, { recursive: true, force: true });
});

async function footprint(command: string): Promise<Footprint> {
  seq += 1;
  const file = join(dir, `footprint-${seq}.json`);
  const r = await runPlugin({
    command,
    containerId: `s${seq}`,
    netns: '/proc/self/ns/net',
    ifName: 'eth0',
    args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=start${seq};K8S_POD_INFRA_CONTAINER_ID=s${seq}`,
    config: { cniVersion: '1.0.0', name: 'hostnic', type: 'hostnic', socketPath: join(dir, 'agent.sock'), spoolDir: join(dir, 'spool') },
    env: { NODE_OPTIONS: `--require ${preload}`, FOOTPRINT_FILE: file },
  });
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return JSON.parse(await readFile(file, 'utf8')) as Footprint;
}

/** Node's own start with the same preload: the floor every count is compared to. */
async function bareNode(): Promise<Footprint> {
  const file = join(dir, 'footprint-node.json');
  const r = await run([join(PLUGIN_BIN_DIR, 'hostnic-node'), '-e', '0'], { env: { NODE_OPTIONS: `--require ${preload}`, FOOTPRINT_FILE: file } });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(await readFile(file, 'utf8')) as Footprint;
}

describe('the plugin process beyond Node start-up', () => {
  it('ADD and DEL served by the agent load only the socket builtins beyond VERSION', async () => {
    const version = new Set((await footprint('VERSION')).builtins);
    for (const verb of ['ADD', 'DEL']) {
      const extra = (await footprint(verb)).builtins.filter((b) => !version.has(b) && !b.startsWith('internal/streams/'));
      expect(extra.filter((b) => !SOCKET_BUILTINS.has(b)), verb).toEqual([]);
    }
  });

  it('neither node:http, perf_hooks, crypto nor fs/promises is loaded on a served ADD or DEL', async () => {
    for (const verb of ['ADD', 'DEL']) {
      const loaded = (await footprint(verb)).builtins;
      expect(loaded.filter((b) => ['http', '_http_client', 'perf_hooks', 'crypto', 'fs/promises', 'readline'].includes(b)), verb).toEqual([]);
    }
  });

  it('no thread pool: an ADD and a DEL run as many threads as `node -e 0`', async () => {
    const floor = (await bareNode()).threads;
    expect((await footprint('ADD')).threads).toBe(floor);
    expect((await footprint('DEL')).threads).toBe(floor);
  });
});
