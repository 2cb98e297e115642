/**
 * Counts and latencies of the CNI requests the agent answers, for `hostnic_cni_requests_total` and the
 * `hostnic_cni_request_duration_seconds` histogram (spec agent.md 5.2 REIMPL: proper counters and ADD/DEL
 * latency histograms).
 */

import { IPAM_FAILURES } from '../pods/index.ts';
import type { IpamFailure } from '../pods/index.ts';

export type CniVerb = 'add' | 'del' | 'check' | 'gc';
export type CniOutcome = 'ok' | 'error';

/** Upper bounds, seconds: a warm ADD is tens of ms, a cold one (NIC attach) seconds. */
export const DURATION_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

interface Histogram {
  readonly counts: number[];
  sum: number;
  count: number;
}

export class RequestMetrics {
  readonly #requests = new Map<string, number>();
  readonly #durations = new Map<CniVerb, Histogram>();
  readonly #failures = new Map<IpamFailure, number>(IPAM_FAILURES.map((k) => [k, 0]));

  /** One failed ADD or DEL of this kind. */
  failed(kind: IpamFailure): void {
    this.#failures.set(kind, (this.#failures.get(kind) ?? 0) + 1);
  }

  observe(verb: CniVerb, outcome: CniOutcome, seconds: number): void {
    const key = `${verb}|${outcome}`;
    this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1);
    let h = this.#durations.get(verb);
    if (h === undefined) {
      h = { counts: DURATION_BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.#durations.set(verb, h);
    }
    DURATION_BUCKETS.forEach((bound, i) => {
      if (seconds <= bound && h !== undefined) h.counts[i] = (h.counts[i] ?? 0) + 1;
    });
    h.sum += seconds;
    h.count++;
  }

  /** Prometheus text of both families. */
  render(nodeName: string, label: (labels: Record<string, string>) => string): string {
    let out = '';
    // The original's names, as gauges [compat]; the same counts as a proper counter below.
    for (const [kind, n] of this.#failures) {
      out += `# HELP hostnic_ipam_${kind} Failed ADDs or DELs of this kind since the agent started (the original's gauge).\n# TYPE hostnic_ipam_${kind} gauge\n`;
      out += `hostnic_ipam_${kind}${label({ node_name: nodeName })} ${n}\n`;
    }
    out += '# HELP hostnic_ipam_failures_total Failed ADDs or DELs, by kind.\n# TYPE hostnic_ipam_failures_total counter\n';
    for (const [kind, n] of this.#failures) out += `hostnic_ipam_failures_total${label({ node_name: nodeName, kind })} ${n}\n`;
    out += '# HELP hostnic_cni_requests_total CNI requests answered, by verb and outcome.\n# TYPE hostnic_cni_requests_total counter\n';
    for (const [key, n] of [...this.#requests].sort()) {
      const [verb = '', outcome = ''] = key.split('|');
      out += `hostnic_cni_requests_total${label({ node_name: nodeName, verb, outcome })} ${n}\n`;
    }
    out += '# HELP hostnic_cni_request_duration_seconds Time to answer a CNI request, by verb.\n# TYPE hostnic_cni_request_duration_seconds histogram\n';
    for (const [verb, h] of [...this.#durations].sort(([a], [b]) => (a < b ? -1 : 1))) {
      DURATION_BUCKETS.forEach((bound, i) => {
        out += `hostnic_cni_request_duration_seconds_bucket${label({ node_name: nodeName, verb, le: String(bound) })} ${h.counts[i] ?? 0}\n`;
      });
      out += `hostnic_cni_request_duration_seconds_bucket${label({ node_name: nodeName, verb, le: '+Inf' })} ${h.count}\n`;
      out += `hostnic_cni_request_duration_seconds_sum${label({ node_name: nodeName, verb })} ${h.sum}\n`;
      out += `hostnic_cni_request_duration_seconds_count${label({ node_name: nodeName, verb })} ${h.count}\n`;
    }
    return out;
  }
}
