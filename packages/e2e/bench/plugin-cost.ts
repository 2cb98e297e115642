/**
 * The plugin process's own cost: the bundled plugin run as kubelet runs it, against a stand-in agent that
 * answers at once with a fixed result, minus Node's bare start-up measured in the same rounds. What is left is
 * the plugin's module load, its checks, its socket request and its log line (issue 14 wants a few ms).
 */

import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { PLUGIN, run, runPlugin } from '../src/stack/index.ts';
import type { NodeAgent, PodRef, RunResult } from '../src/stack/index.ts';
import type { FigureRow } from './report.ts';
import { atMost, ms, percentiles } from './report.ts';

const PROTOCOL_HEADER = 'x-hostnic-protocol';
/** The goal: the plugin's share of an ADD or DEL beyond `node -e 0`. */
const GOAL_MS = 5;

/** A CNI result as the agent gives it; the stand-in's answer to every ADD. */
function addAnswer(pod: PodRef): unknown {
  return {
    result: {
      interfaces: [
        { name: 'eth0', mac: '02:00:00:00:00:01', sandbox: pod.netnsPath },
        { name: 'vnicbench00001', mac: '02:00:00:00:00:02' },
      ],
      ips: [{ interface: 0, address: '172.31.255.7/32', gateway: '169.254.1.1' }],
      dns: {},
    },
    vxnet: 'vxnet-bench',
  };
}

/** Answers ADD with the fixed result and everything else with `{}`, in the version the request names. */
async function startAnsweringAgent(socketPath: string, pod: PodRef): Promise<Server> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const text = JSON.stringify(req.url?.endsWith('/add') === true ? addAnswer(pod) : {});
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), [PROTOCOL_HEADER]: String(req.headers[PROTOCOL_HEADER] ?? '1') });
      res.end(text);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, resolve);
  });
  return server;
}

function signed(v: number): string {
  return `${v >= 0 ? '+' : ''}${ms(v)}`;
}

/**
 * `rounds` rounds of `node -e 0`, plugin ADD and plugin DEL, interleaved and launched alike (`ip netns exec`
 * into the agent's node, the plugin bundle run by the same Node as the stack's plugin). Two warm-up rounds.
 */
/** How the bench times one launch (ms), failing on a non-zero exit. */
export type Timed = (what: string, p: Promise<RunResult>) => Promise<number>;

export async function pluginOwnCost(agent: NodeAgent, pod: PodRef, dir: string, rounds: number, timed: Timed): Promise<FigureRow> {
  const socketPath = join(dir, 'answering-agent.sock');
  const server = await startAnsweringAgent(socketPath, pod);
  const conf = { cniVersion: '1.0.0', name: 'hostnic', type: 'hostnic', socketPath, spoolDir: join(dir, 'answering-spool') };
  const samples = { node: [] as number[], add: [] as number[], del: [] as number[] };
  try {
    for (let i = -2; i < rounds; i++) {
      const keep = (k: keyof typeof samples, v: number): void => {
        if (i >= 0) samples[k].push(v);
      };
      keep('node', await timed('node -e 0', run(['ip', 'netns', 'exec', agent.node.netnsName, process.execPath, '-e', '0'], { PATH: process.env['PATH'] ?? '/usr/bin:/bin' }, '', dir)));
      keep('add', await timed('plugin ADD', runPlugin(agent.node, [process.execPath, PLUGIN], conf, 'ADD', pod)));
      keep('del', await timed('plugin DEL', runPlugin(agent.node, [process.execPath, PLUGIN], conf, 'DEL', pod)));
    }
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  const node = percentiles(samples.node).p50;
  const add = percentiles(samples.add).p50 - node;
  const del = percentiles(samples.del).p50 - node;
  return {
    figure: 'plugin over node -e 0 (agent answers at once), p50',
    value: `ADD ${signed(add)} / DEL ${signed(del)}`,
    reference: `node -e 0 ${ms(node)} in these rounds`,
    goal: `<= ${GOAL_MS} ms`,
    met: atMost(Math.max(add, del), GOAL_MS),
  };
}
