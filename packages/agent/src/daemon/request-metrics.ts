/**
 * Counts and latencies of the CNI requests the agent answers (`hostnic_cni_requests_total`, the
 * `hostnic_cni_request_duration_seconds` histogram) and its failures by kind: the original's gauges
 * `hostnic_ipam_<kind>` kept, with the counter `hostnic_ipam_failures_total{kind}` beside them.
 */

import type { Metrics } from '@hostnic/runtime';
import { IPAM_FAILURES } from '../pods/index.ts';
import type { IpamFailure } from '../pods/index.ts';

export type CniVerb = 'add' | 'del' | 'check' | 'gc';
export type CniOutcome = 'ok' | 'error';

/** Upper bounds, seconds: a warm ADD is tens of ms, a cold one (NIC attach) seconds. */
export const DURATION_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

export interface RequestMetrics {
  /** One failed ADD or DEL of this kind. */
  failed(kind: IpamFailure): void;
  observe(verb: CniVerb, outcome: CniOutcome, seconds: number): void;
}

export function requestMetrics(metrics: Metrics): RequestMetrics {
  // The original's names, typed as gauges [compat]; every one is present from the start, at 0.
  const gauges = new Map(IPAM_FAILURES.map((kind) => {
    const g = metrics.gauge(`hostnic_ipam_${kind}`, 'Failed ADDs or DELs of this kind since the agent started (the original\'s gauge).');
    g.set(0);
    return [kind, g] as const;
  }));
  const failures = metrics.counter('hostnic_ipam_failures_total', 'Failed ADDs or DELs, by kind.', ['kind']);
  for (const kind of IPAM_FAILURES) failures.inc({ kind }, 0);
  const requests = metrics.counter('hostnic_cni_requests_total', 'CNI requests answered, by verb and outcome.', ['verb', 'outcome']);
  const durations = metrics.histogram('hostnic_cni_request_duration_seconds', 'Time to answer a CNI request, by verb.', ['verb'], DURATION_BUCKETS);
  return {
    failed(kind) {
      gauges.get(kind)?.inc();
      failures.inc({ kind });
    },
    observe(verb, outcome, seconds) {
      requests.inc({ verb, outcome });
      durations.observe({ verb }, seconds);
    },
  };
}
