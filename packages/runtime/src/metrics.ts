/**
 * The daemons' Prometheus registry (prom-client): the default process and Node runtime families (memory, CPU,
 * event-loop lag, GC), `hostnic_build_info`, and helpers for the families the daemons add. Each daemon owns
 * one registry, never prom-client's global one, so that tests can build several side by side.
 */

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CollectFunction } from 'prom-client';

export type Labels<L extends string> = Partial<Record<L, string>>;

export interface MetricsOptions {
  /** The daemon, e.g. `agent` or `controller`: a label of `hostnic_build_info`. */
  readonly component: string;
  readonly version: string;
  /** Labels on every sample of this registry (e.g. node_name); default none. */
  readonly labels?: Readonly<Record<string, string>>;
  /** The process and runtime families; default on. */
  readonly processMetrics?: boolean;
}

/** Latency buckets in seconds from 5 ms to 2 min: IaaS calls take from tens of ms to a minute-long job. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export class Metrics {
  readonly registry = new Registry();

  constructor(options: MetricsOptions) {
    if (options.labels !== undefined) this.registry.setDefaultLabels({ ...options.labels });
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
    this.gauge('hostnic_build_info', 'Build information; the value is always 1.', ['component', 'version', 'node_version'])
      .set({ component: options.component, version: options.version, node_version: process.version }, 1);
  }

  /** With `collect`, the counter is read from its owner at scrape time (reset, then inc by the total). */
  counter<L extends string>(name: string, help: string, labelNames: readonly L[] = [], collect?: CollectFunction<Counter<L>>): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry], ...(collect === undefined ? {} : { collect }) });
  }

  gauge<L extends string>(name: string, help: string, labelNames: readonly L[] = [], collect?: CollectFunction<Gauge<L>>): Gauge<L> {
    return new Gauge({ name, help, labelNames, registers: [this.registry], ...(collect === undefined ? {} : { collect }) });
  }

  histogram<L extends string>(name: string, help: string, labelNames: readonly L[] = [], buckets: readonly number[] = LATENCY_BUCKETS): Histogram<L> {
    return new Histogram({ name, help, labelNames, buckets: [...buckets], registers: [this.registry] });
  }

  /** The Prometheus text exposition of every family. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The `/metrics` route of a daemon's HTTP port. */
  async reply(): Promise<{ status: number; type: string; body: string }> {
    return { status: 200, type: this.contentType, body: await this.render() };
  }
}

/**
 * A request counter and a latency histogram by action and result, e.g. `hostnic_iaas_requests_total` and
 * `hostnic_iaas_request_duration_seconds`: the pair every client of a remote API reports.
 */
export interface RequestFamilies {
  observe(action: string, result: string, seconds: number): void;
}

export function requestFamilies(metrics: Metrics, prefix: string, what: string): RequestFamilies {
  const total = metrics.counter(`${prefix}_requests_total`, `${what} requests by action and result.`, ['action', 'result']);
  const duration = metrics.histogram(`${prefix}_request_duration_seconds`, `${what} request latency by action and result.`, ['action', 'result']);
  return {
    observe(action, result, seconds) {
      total.inc({ action, result });
      duration.observe({ action, result }, seconds);
    },
  };
}

/**
 * Runs `fn` and records its duration in `histogram` under `labels` plus `result` (`ok` or `error`); the
 * outcome of `fn` is passed through unchanged.
 */
export async function timed<T, L extends string>(histogram: Histogram<L | 'result'>, labels: Labels<L>, fn: () => Promise<T>): Promise<T> {
  const end = histogram.startTimer(labels as Labels<L | 'result'>);
  try {
    const value = await fn();
    end({ result: 'ok' } as Labels<L | 'result'>);
    return value;
  } catch (e) {
    end({ result: 'error' } as Labels<L | 'result'>);
    throw e;
  }
}
