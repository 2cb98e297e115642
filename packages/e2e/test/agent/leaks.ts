/**
 * The leak check of the crash tests (kill matrix, churn, reboot, rollout, IaaS down): what pods and NICs can
 * leave behind on a node, read from the outside while the agent runs. Every kind is listed so that a test
 * failure names what stayed.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentDatastore } from '@hostnic/agent/datastore';
import { LmdbClaimLedger } from '@hostnic/ipam/lmdb';
import { nodeLeftovers, until } from './harness.ts';
import type { AgentCluster } from './harness.ts';

/** Tables the kernel owns (default, main, local); never ours. */
const KERNEL_TABLES = new Set(['253', '254', '255', 'default', 'main', 'local']);

/** The agent's claim ledger, under its state directory (packages/agent/src/daemon/ipam-claim.ts). */
const CLAIM_LEDGER_DIR = 'ipam-claim';

/** Releases the plugin spooled and the agent has not replayed yet. */
export async function spooled(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [])).filter((f) => f.endsWith('.json'));
}

/**
 * Pod records, open intents and NICs of a node's datastore, and the addresses its claim ledger assigns to pods
 * (the truth inside the node's claim, published later), read next to the running agent.
 */
export async function datastoreView(
  c: AgentCluster,
  node: string,
): Promise<{ pods: string[]; intents: string[]; nics: string[]; tables: number[]; unownedTables: number[]; claimed: string[] }> {
  const stateDir = join(c.sandbox.node(node).paths.stateDir, 'agent');
  const store = AgentDatastore.open(stateDir);
  const ledger = LmdbClaimLedger.open(join(stateDir, CLAIM_LEDGER_DIR));
  try {
    const s = store.snapshot();
    const claimed = (await ledger.load()).flatMap((e) => (e.assignment === undefined ? [] : [`${e.address} ${e.assignment.handleId}`]));
    return {
      claimed,
      pods: s.pods.map((p) => `${p.podNamespace}/${p.podName} ${p.ip}`),
      intents: s.intents.map((i) => `${i.kind} ${JSON.stringify(i.data)}`),
      nics: s.nics.map((n) => n.nicId),
      tables: s.nics.map((n) => n.routeTable),
      unownedTables: s.routeTables.filter((t) => t.nicId === undefined).map((t) => t.table),
    };
  } finally {
    await ledger.close();
    void store.close();
  }
}

/** Route tables with routes in the node namespace that no recorded NIC owns. */
async function strayTables(c: AgentCluster, node: string, recorded: readonly number[]): Promise<string[]> {
  const out = (await c.sandbox.exec(node, ['ip', '-4', 'route', 'show', 'table', 'all'])).stdout;
  const tables = new Set<string>();
  for (const line of out.split('\n')) {
    const t = / table (\S+)/.exec(line)?.[1];
    if (t !== undefined && !KERNEL_TABLES.has(t) && !recorded.includes(Number(t))) tables.add(t);
  }
  return [...tables];
}

/** NICs named after the node's instance in the fake IaaS that the datastore does not record. */
function strayNics(c: AgentCluster, node: string, recorded: readonly string[]): string[] {
  const name = `hostnic_${c.sandbox.node(node).instanceId}`;
  return c.sandbox.qingcloud.nics().filter((n) => n.nic_name === name && !recorded.includes(n.nic_id)).map((n) => n.nic_id);
}

/**
 * Everything of pods left on `nodes` once every pod was deleted (and IPAM handles, cluster-wide): one line
 * per leftover, empty when clean; with the NICs each node records (kept warm for the next pod).
 */
export async function leftovers(c: AgentCluster, nodes: readonly string[]): Promise<{ lines: string[]; nics: Map<string, string[]> }> {
  const lines: string[] = [];
  const nics = new Map<string, string[]>();
  const handles = await c.handles();
  if (handles.length > 0) lines.push(`IPAM handles: ${handles.length}: ${handles.slice(0, 5).join(', ')}`);
  for (const node of nodes) {
    const view = await datastoreView(c, node);
    nics.set(node, view.nics);
    if (view.pods.length > 0) lines.push(`${node}: pod records ${view.pods.join(', ')}`);
    const kernel = await nodeLeftovers(c.sandbox, node);
    if (kernel.links.length > 0) lines.push(`${node}: pod links ${kernel.links.join(', ')}`);
    if (kernel.rules.length > 0) lines.push(`${node}: rules ${kernel.rules.join(' | ')}`);
    if (kernel.arp.length > 0) lines.push(`${node}: ARP replies ${kernel.arp.join(' | ')}`);
    if (view.intents.length > 0) lines.push(`${node}: open intents ${view.intents.join(' | ')}`);
    if (view.claimed.length > 0) lines.push(`${node}: claim-ledger assignments ${view.claimed.join(', ')}`);
    const spool = c.agents.has(node) ? await spooled(c.agent(node).spoolDir) : [];
    if (spool.length > 0) lines.push(`${node}: spooled releases ${spool.join(', ')}`);
    if (view.unownedTables.length > 0) lines.push(`${node}: route tables reserved without a NIC ${view.unownedTables.join(', ')}`);
    const tables = await strayTables(c, node, view.tables);
    if (tables.length > 0) lines.push(`${node}: route tables of no recorded NIC ${tables.join(', ')}`);
    const stray = strayNics(c, node, view.nics);
    if (stray.length > 0) lines.push(`${node}: IaaS NICs not recorded ${stray.join(', ')}`);
  }
  return { lines, nics };
}

/** Waits until nothing is left (the sweep and the replays run on timers); the error lists what stayed. */
export async function expectNothingLeft(c: AgentCluster, nodes: readonly string[], what: string, timeoutMs = 60_000): Promise<Map<string, string[]>> {
  let last: string[] = [];
  try {
    return await until(`nothing left ${what}`, timeoutMs, async () => {
      const r = await leftovers(c, nodes);
      last = r.lines;
      return r.lines.length === 0 ? r.nics : undefined;
    });
  } catch (e) {
    throw new Error(`${String(e)}; still there:\n  ${last.join('\n  ')}`, { cause: e });
  }
}
