/**
 * What stalled the agent's event loop (pure: the probe records, this attributes): every gap the probe saw inside
 * the bench's window is matched with the profiler's samples taken during it, and each sample is put down to a
 * cause by its stack (a spawn's fork, a synchronous lmdb commit, GC, ...).
 */

/** The parts of V8's `.cpuprofile` this reads. */
export interface CpuProfile {
  readonly nodes: readonly { readonly id: number; readonly callFrame: { readonly functionName: string }; readonly children?: readonly number[] }[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** A turn of the event loop later than this (µs) is a gap; shorter ones are a loaded machine's noise. */
export const STALL_GAP_US = 4000;

/** A late turn of the event loop: [start, end] in CLOCK_MONOTONIC microseconds. */
export type Gap = readonly [number, number];

export type StallCause =
  | 'spawn (fork)'
  | 'lmdb synchronous commit'
  | 'lmdb transaction callbacks'
  | 'GC'
  | 'metrics scrape'
  | 'HTTP, TLS, sockets'
  | 'fs (main-thread part)'
  | 'native, outside JS'
  | 'idle (descheduled)'
  | 'other JS';

const RULES: readonly (readonly [StallCause, RegExp])[] = [
  ['spawn (fork)', /^(spawn|ChildProcess|normalizeSpawnArguments)$/],
  // Before the synchronous commit: putSync and removeSync inside an asynchronous transaction's callback commit nothing.
  ['lmdb transaction callbacks', /^(executeTxnCallbacks|startWriting)$/],
  ['lmdb synchronous commit', /^(transactionSync|finishTxn|commitTxn|putSync|removeSync)$/],
  ['metrics scrape', /^(getMetricsAsString|metrics)$/],
  ['fs (main-thread part)', /^(readFile|readFileHandle|readdir|statfs|open|openFileHandle|stat|lstat|writeFile)$/],
  ['HTTP, TLS, sockets', /socketOnData|parserOn|_http|^request$|TLS|Socket|onStreamRead|writeGeneric/],
];

/**
 * The cause of one sample from its stack, leaf first: the leaf for GC, idle and native code, else the first
 * rule any frame matches, else other JS.
 */
export function causeOf(stack: readonly string[]): StallCause {
  const leaf = stack[0];
  if (leaf === '(garbage collector)') return 'GC';
  if (leaf === '(idle)') return 'idle (descheduled)';
  for (const [cause, re] of RULES) if (stack.some((f) => re.test(f))) return cause;
  if (leaf === '(program)') return 'native, outside JS';
  return 'other JS';
}

export interface StallReport {
  /** Gaps inside the window. */
  readonly gaps: number;
  /** The longest gap (ms), 0 when none. */
  readonly maxMs: number;
  /** Time (ms) spent in each cause during the gaps, most first. */
  readonly byCause: readonly (readonly [StallCause, number])[];
  /** The longest gaps with their two main causes. */
  readonly longest: readonly { readonly ms: number; readonly causes: readonly (readonly [StallCause, number])[]; readonly heaviest: string }[];
}

/** Frames shown of the stack that took most of a gap, leaf first. */
const HEAVIEST_FRAMES = 4;

/** Index of the first time >= t (times ascending). */
function firstAtOrAfter(times: readonly number[], t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((times[mid] ?? Number.POSITIVE_INFINITY) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function sorted(m: ReadonlyMap<StallCause, number>): (readonly [StallCause, number])[] {
  return [...m].sort((a, b) => b[1] - a[1]);
}

/**
 * @param profile - the agent's profile
 * @param gaps - the probe's gaps
 * @param window - the bench's measured rounds, CLOCK_MONOTONIC microseconds
 * @param longest - how many of the longest gaps to describe
 */
export function stallCauses(profile: CpuProfile, gaps: readonly Gap[], window: { readonly from: number; readonly to: number }, longest = 5): StallReport {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stackOf = (id: number): string[] => {
    const stack: string[] = [];
    for (let c: number | undefined = id; c !== undefined; c = parent.get(c)) stack.push(byId.get(c)?.callFrame.functionName || '(anonymous)');
    return stack;
  };
  const causeById = new Map<number, StallCause>();
  const cause = (id: number): StallCause => {
    let known = causeById.get(id);
    if (known === undefined) {
      known = causeOf(stackOf(id));
      causeById.set(id, known);
    }
    return known;
  };
  const times: number[] = [];
  let t = profile.startTime;
  for (const d of profile.timeDeltas) times.push((t += d));

  const inWindow = gaps.filter(([a]) => a >= window.from && a <= window.to);
  const total = new Map<StallCause, number>();
  const described = inWindow.map(([a, b]) => {
    const mine = new Map<StallCause, number>();
    const byNode = new Map<number, number>();
    for (let i = firstAtOrAfter(times, a); i < times.length && (times[i] ?? 0) <= b; i++) {
      const ms = ((times[i + 1] ?? profile.endTime) - (times[i] ?? 0)) / 1000;
      const node = profile.samples[i] ?? 0;
      const c = cause(node);
      mine.set(c, (mine.get(c) ?? 0) + ms);
      total.set(c, (total.get(c) ?? 0) + ms);
      byNode.set(node, (byNode.get(node) ?? 0) + ms);
    }
    const top = [...byNode].sort((x, y) => y[1] - x[1])[0];
    const heaviest = top === undefined ? '' : stackOf(top[0]).slice(0, HEAVIEST_FRAMES).join(' < ');
    return { ms: (b - a) / 1000, causes: sorted(mine).slice(0, 2), heaviest };
  });
  described.sort((x, y) => y.ms - x.ms);
  return { gaps: inWindow.length, maxMs: described[0]?.ms ?? 0, byCause: sorted(total), longest: described.slice(0, longest) };
}

/** The report as indented lines under the bench's table. */
export function formatStalls(r: StallReport): string {
  const pairs = (cs: readonly (readonly [StallCause, number])[]): string => cs.map(([c, ms]) => `${c} ${ms.toFixed(1)} ms`).join(', ');
  return [
    `  event-loop gaps over ${STALL_GAP_US / 1000} ms during the rounds (with the profiler on): ${r.gaps}, longest ${r.maxMs.toFixed(1)} ms`,
    `    time in them by cause: ${pairs(r.byCause)}`,
    ...r.longest.map((g) => `    ${g.ms.toFixed(1)} ms: ${pairs(g.causes)}; heaviest stack ${g.heaviest}`),
  ].join('\n');
}
