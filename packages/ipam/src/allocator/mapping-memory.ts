/**
 * The mapping in force, remembered between allocations, so that a bad change of `hostnic-ipam-config` keeps
 * the last good entries (see `resolveIpamConfig`). Held per `Ipam` instance: a process that starts with a bad
 * ConfigMap has no last good mapping and refuses the namespaces the bad part touches.
 *
 * @packageDocumentation
 */
import type { IpamConfig, IpamConfigMapData, ResolvedIpamConfig } from '../mapping.ts';
import { resolveIpamConfig } from '../mapping.ts';

export class MappingMemory {
  #lastGood: IpamConfig | undefined;
  #lastReport = '[]';
  readonly #onProblems: ((resolved: ResolvedIpamConfig) => void) | undefined;

  /** @param onProblems - called when the set of problems of the ConfigMap changes (also to none) */
  constructor(onProblems?: (resolved: ResolvedIpamConfig) => void) {
    this.#onProblems = onProblems;
  }

  resolve(data: IpamConfigMapData): ResolvedIpamConfig {
    const resolved = resolveIpamConfig(data, this.#lastGood);
    this.#lastGood = resolved.config;
    const report = JSON.stringify(resolved.problems);
    if (report !== this.#lastReport) {
      this.#lastReport = report;
      this.#onProblems?.(resolved);
    }
    return resolved;
  }
}
