/**
 * Plays libcni for tests: runs the plugins of a conflist in order with the same environment, gives each
 * the list's name and cniVersion, the previous result as `prevResult` and the capabilities it asked for as
 * `runtimeConfig`; DEL runs in reverse order with the cached ADD result, CHECK in order with it.
 */

import { existsSync } from 'node:fs';
import type { Ran } from './sh.ts';
import { inNetns, run } from './sh.ts';
import { RUNTIME_PATH } from './plugin.ts';

export interface Conflist {
  cniVersion: string;
  name: string;
  plugins: Record<string, unknown>[];
}

export interface RuntimeCall {
  containerId: string;
  netns: string;
  ifName: string;
  args: string;
  /** Capability name → value, e.g. portMappings, bandwidth. */
  capabilityArgs?: Record<string, unknown>;
}

export class PluginFailed extends Error {
  override name = 'PluginFailed';
  readonly plugin: string;
  readonly ran: Ran;
  constructor(plugin: string, command: string, ran: Ran) {
    super(`${plugin} ${command} exited ${ran.code}: ${ran.stdout} ${ran.stderr}`);
    this.plugin = plugin;
    this.ran = ran;
  }
}

export class Libcni {
  readonly cniPath: string[];
  readonly nodeNetns: string;

  constructor(cniPath: string[], nodeNetns: string) {
    this.cniPath = cniPath;
    this.nodeNetns = nodeNetns;
  }

  private find(type: string): string {
    for (const dir of this.cniPath) {
      const p = `${dir}/${type}`;
      if (existsSync(p)) return p;
    }
    throw new Error(`plugin ${type} not found in ${this.cniPath.join(':')}`);
  }

  private config(list: Conflist, plugin: Record<string, unknown>, rt: RuntimeCall | undefined, prevResult: unknown): Record<string, unknown> {
    const conf: Record<string, unknown> = { ...plugin, name: list.name, cniVersion: list.cniVersion };
    const caps = plugin['capabilities'];
    if (rt?.capabilityArgs && typeof caps === 'object' && caps !== null) {
      const runtimeConfig: Record<string, unknown> = {};
      for (const [cap, on] of Object.entries(caps as Record<string, unknown>)) {
        if (on === true && rt.capabilityArgs[cap] !== undefined) runtimeConfig[cap] = rt.capabilityArgs[cap];
      }
      if (Object.keys(runtimeConfig).length > 0) conf['runtimeConfig'] = runtimeConfig;
    }
    if (prevResult !== undefined) conf['prevResult'] = prevResult;
    return conf;
  }

  async exec(command: string, plugin: Record<string, unknown>, conf: Record<string, unknown>, rt: RuntimeCall | undefined): Promise<Ran> {
    const type = String(plugin['type']);
    const env: Record<string, string> = { PATH: RUNTIME_PATH, CNI_COMMAND: command, CNI_PATH: this.cniPath.join(':') };
    if (rt) {
      Object.assign(env, { CNI_CONTAINERID: rt.containerId, CNI_NETNS: rt.netns, CNI_IFNAME: rt.ifName, CNI_ARGS: rt.args });
    }
    const ran = await run(inNetns(this.nodeNetns, [this.find(type)]), { env, stdin: JSON.stringify(conf) });
    if (ran.code !== 0) throw new PluginFailed(type, command, ran);
    return ran;
  }

  /** ADD through the list; returns the final result (what libcni caches). */
  async add(list: Conflist, rt: RuntimeCall): Promise<Record<string, unknown>> {
    let prev: unknown;
    for (const plugin of list.plugins) {
      const ran = await this.exec('ADD', plugin, this.config(list, plugin, rt, prev), rt);
      prev = JSON.parse(ran.stdout);
    }
    return prev as Record<string, unknown>;
  }

  async del(list: Conflist, rt: RuntimeCall, cached: unknown): Promise<void> {
    for (const plugin of [...list.plugins].reverse()) {
      await this.exec('DEL', plugin, this.config(list, plugin, rt, cached), rt);
    }
  }

  async check(list: Conflist, rt: RuntimeCall, cached: unknown): Promise<void> {
    for (const plugin of list.plugins) {
      await this.exec('CHECK', plugin, this.config(list, plugin, rt, cached), rt);
    }
  }

  async gc(list: Conflist, valid: { containerID: string; ifname: string }[]): Promise<void> {
    for (const plugin of list.plugins) {
      const conf = { ...this.config(list, plugin, undefined, undefined), 'cni.dev/valid-attachments': valid, 'cni.dev/attachments': valid };
      await this.exec('GC', plugin, conf, undefined);
    }
  }

  async status(list: Conflist): Promise<void> {
    for (const plugin of list.plugins) await this.exec('STATUS', plugin, this.config(list, plugin, undefined, undefined), undefined);
  }
}
