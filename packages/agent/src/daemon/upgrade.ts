/**
 * Start-up steps for an agent that replaces the Go agent in place (docs/compatibility.md): import its LevelDB
 * records once, before anything else reads the datastore, and keep the original's mangle chains from the
 * installed CNI config. Each step logs what it did; neither stops the agent.
 *
 * @packageDocumentation
 */

import { readFile } from 'node:fs/promises';
import { readLinks } from '@hostnic/netlink';
import type { Netns } from '@hostnic/netlink';
import type { Logger } from '@hostnic/runtime';
import { errorText } from '@hostnic/runtime';
import { prepareCniConflist } from '../config/cni-config.ts';
import { ensureMangleChains, mangleSettingsOf } from '../host/mangle.ts';
import type { MangleSettings } from '../host/mangle.ts';
import { importGoAgentState } from '../migrate/import-go.ts';
import type { GoImportStore } from '../migrate/import-go.ts';

/** Imports the Go agent's records found under `dir` (its --dbpath, the same /var/lib/hostnic). */
export async function importFromGoAgent(dir: string, store: GoImportStore, netns: Netns, log: Logger): Promise<void> {
  const result = await importGoAgentState({
    dir,
    store,
    links: async () => new Map((await readLinks({ netns })).map((l) => [l.name, l.mac])),
  });
  if (result.status !== 'imported') {
    log.debug('no Go agent records to import', { status: result.status, dir });
    return;
  }
  log.info('imported the Go agent\'s records: its NICs keep their route tables and bridges', { nics: result.nics, pods: result.pods, dir });
  for (const s of result.skipped) log.warn('Go agent record left out', { what: s.what, reason: s.reason });
  if (result.tornWrite) log.warn('the Go agent was killed during its last write, which LevelDB never completed; the reconciler repairs what it touched', { dir });
}

/** The mangle settings of the CNI config the agent installs, or undefined (logged) when it cannot be read. */
export async function mangleSettingsFrom(source: string, log: Logger): Promise<MangleSettings | undefined> {
  try {
    return mangleSettingsOf(prepareCniConflist(await readFile(source, 'utf8'), source).conflist);
  } catch (e) {
    log.warn('the CNI config cannot be read; the mangle chains are not kept', { source, error: errorText(e) });
    return undefined;
  }
}

/** Makes the chains exact; logs a change or why nothing is installed. */
export async function keepMangleChains(settings: MangleSettings, netns: Netns, log: Logger): Promise<void> {
  const r = await ensureMangleChains(settings, { netns });
  if (r.skipped !== undefined) log.debug('mangle chains not installed', { reason: r.skipped });
  else if (r.changed) log.info('mangle chains HOSTNIC-PREROUTING/OUTPUT set', { reasons: r.reasons });
}
