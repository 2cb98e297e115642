/**
 * The agent bench's figures as a table beside the goals of issue 14 (pure: the bench measures, this formats).
 */

/** p50 and p99 of samples in ms (nearest rank); NaN for none. */
export function percentiles(samples: readonly number[]): { p50: number; p99: number } {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? Number.NaN;
  return { p50: at(0.5), p99: at(0.99) };
}

/** One line of the table: what was measured, the reference beside it, the goal, and whether it is met. */
export interface FigureRow {
  readonly figure: string;
  readonly value: string;
  readonly reference: string;
  readonly goal: string;
  /** Undefined when there is no goal or the figure could not be measured. */
  readonly met?: boolean | undefined;
}

export function ms(v: number): string {
  return Number.isFinite(v) ? `${v.toFixed(1)} ms` : 'n/a';
}

export function mib(bytes: number | undefined): string {
  return bytes === undefined ? 'n/a' : `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

export function ratio(a: number, b: number): string {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)} x` : 'n/a';
}

/** `value <= limit`, undefined when either is not a number. */
export function atMost(value: number | undefined, limit: number | undefined): boolean | undefined {
  if (value === undefined || limit === undefined || !Number.isFinite(value) || !Number.isFinite(limit)) return undefined;
  return value <= limit;
}

export function formatTable(rows: readonly FigureRow[]): string {
  const head: FigureRow = { figure: 'figure', value: 'hostnic', reference: 'reference (same run)', goal: 'goal' };
  const all = [head, ...rows];
  const w = (k: 'figure' | 'value' | 'reference' | 'goal'): number => Math.max(...all.map((r) => r[k].length));
  const mark = (r: FigureRow): string => (r === head ? 'met' : r.met === undefined ? '' : r.met ? 'yes' : 'NO');
  return all
    .map((r) => `  ${r.figure.padEnd(w('figure'))}  ${r.value.padStart(w('value'))}  ${r.reference.padEnd(w('reference'))}  ${r.goal.padEnd(w('goal'))}  ${mark(r)}`)
    .join('\n');
}

/** The first sample of `name` in a Prometheus text exposition (`name value` or `name{labels} value`). */
export function metricValue(text: string, name: string): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name} `) && !line.startsWith(`${name}{`)) continue;
    const v = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(v)) return v;
  }
  return undefined;
}

/** Reads and writes the apiserver saw, by verb. */
export function countRequests(verbs: readonly (string | undefined)[]): { reads: number; writes: number } {
  let reads = 0;
  let writes = 0;
  for (const v of verbs) {
    if (v === 'get' || v === 'list') reads++;
    else if (v === 'create' || v === 'update' || v === 'patch' || v === 'delete' || v === 'deletecollection') writes++;
  }
  return { reads, writes };
}

/** The agent's JSON log lines whose message is `msg`, parsed; other lines are skipped. */
function logLines(log: string, msg: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of log.split('\n')) {
    if (!line.includes(`"msg":"${msg}"`)) continue;
    try {
      const parsed: unknown = JSON.parse(line);
      if (typeof parsed === 'object' && parsed !== null) out.push(parsed as Record<string, unknown>);
    } catch {
      // A line cut by the pipe or not JSON: not a figure.
    }
  }
  return out;
}

/**
 * The apiserver requests the agent's `msg` operations made themselves (their log lines' `api`, counted by the
 * agent in each operation's async context), summed, with how many operations logged one.
 */
export function operationRequests(log: string, msg: string): { operations: number; reads: number; writes: number } {
  let operations = 0;
  let reads = 0;
  let writes = 0;
  for (const line of logLines(log, msg)) {
    const api = line['api'] as { reads?: unknown; writes?: unknown } | undefined;
    if (typeof api?.reads !== 'number' || typeof api.writes !== 'number') continue;
    operations++;
    reads += api.reads;
    writes += api.writes;
  }
  return { operations, reads, writes };
}

/**
 * The agent's background writes to the IPAM objects, by what they are for: a claim refill (or trim) writes the
 * claim's handle once and the blocks it takes from (one, as a rule), a publish writes each block with changes.
 * Counted from the apiserver's log; the refill's block writes are taken to be one per handle write.
 */
export function claimWrites(entries: readonly { readonly verb?: string | undefined; readonly resource?: string | undefined; readonly name?: string | undefined }[]): { refill: number; publish: number } {
  let handle = 0;
  let block = 0;
  for (const e of entries) {
    if (e.verb !== 'create' && e.verb !== 'update' && e.verb !== 'patch' && e.verb !== 'delete') continue;
    if (e.resource === 'ipamhandles' && e.name?.startsWith('claim.') === true) handle++;
    else if (e.resource === 'ipamblocks') block++;
  }
  return { refill: 2 * handle, publish: Math.max(0, block - handle) };
}

/**
 * p50 of each step's milliseconds over the agent's `msg` log lines (JSON, with `stepsMs`): where an ADD or a
 * DEL spends its time, as the agent itself measured it.
 */
export function stepMedians(log: string, msg: string): Record<string, number> {
  const byStep: Record<string, number[]> = {};
  for (const parsed of logLines(log, msg)) {
    const steps = parsed['stepsMs'];
    if (typeof steps !== 'object' || steps === null) continue;
    for (const [k, v] of Object.entries(steps)) if (typeof v === 'number') (byStep[k] ??= []).push(v);
  }
  return Object.fromEntries(Object.entries(byStep).map(([k, v]) => [k, percentiles(v).p50]));
}
