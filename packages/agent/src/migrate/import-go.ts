/**
 * The one-time import of the Go agent's state on an in-place upgrade, run at start before the reconciler and
 * before the API serves: read its LevelDB under the state directory, plan our records (import-plan.ts), write
 * them. A marker file beside the database makes it happen once: `started` before the first write (a crash
 * mid-import redoes it, which is safe because nothing else has written yet), `done` after the last. The Go
 * agent's files are left as they were, so a rollback to the Go agent still finds them.
 *
 * @packageDocumentation
 */

import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NicRecord, PodRecord } from '../types.ts';
import { decodeGoRecord, GoRecordError, type GoNicRecord } from './go-records.ts';
import { planGoImport, type ImportPlan, type LinkMacs } from './import-plan.ts';
import { LevelDbNotFoundError, readLevelDb } from './leveldb/index.ts';

export const IMPORT_MARKER = 'hostnic-go-import.json';

export interface GoImportStore {
  listNics(): Promise<NicRecord[]>;
  listPods(): Promise<PodRecord[]>;
  putNic(nic: NicRecord): Promise<void>;
  putPod(pod: PodRecord): Promise<void>;
}

export interface GoImportOptions {
  /** The Go agent's `--dbpath`, /var/lib/hostnic. */
  dir: string;
  store: GoImportStore;
  /** The node's links by name with their MACs. */
  links: () => Promise<LinkMacs>;
  now?: () => Date;
}

export type GoImportStatus = 'imported' | 'no-database' | 'already-done' | 'not-needed';

export interface GoImportResult {
  status: GoImportStatus;
  nics: number;
  pods: number;
  skipped: ImportPlan['skipped'];
  /** True when the Go agent was killed in the middle of its last write, which is therefore lost. */
  tornWrite: boolean;
}

interface Marker {
  state: 'started' | 'done' | 'not-needed';
  at: string;
  nics?: number;
  pods?: number;
}

export async function importGoAgentState(o: GoImportOptions): Promise<GoImportResult> {
  const now = o.now ?? (() => new Date());
  const none = (status: GoImportStatus): GoImportResult => ({ status, nics: 0, pods: 0, skipped: [], tornWrite: false });
  const marker = await readMarker(o.dir);
  if (marker?.state === 'done' || marker?.state === 'not-needed') return none('already-done');
  let db;
  try {
    db = await readLevelDb(o.dir);
  } catch (err) {
    if (err instanceof LevelDbNotFoundError) return none('no-database');
    throw err;
  }
  if (marker === undefined) {
    const [nics, pods] = await Promise.all([o.store.listNics(), o.store.listPods()]);
    // This agent already ran here: its records are newer than the Go agent's, which must not come back.
    if (nics.length > 0 || pods.length > 0) {
      await writeMarker(o.dir, { state: 'not-needed', at: now().toISOString() });
      return none('not-needed');
    }
  }
  const records: GoNicRecord[] = [];
  const skipped: ImportPlan['skipped'] = [];
  for (const { key, value } of db.records) {
    const k = Buffer.from(key).toString('utf8');
    try {
      records.push(decodeGoRecord(k, Buffer.from(value).toString('utf8')));
    } catch (err) {
      if (!(err instanceof GoRecordError)) throw err;
      skipped.push({ what: `record ${JSON.stringify(k)}`, reason: err.message });
    }
  }
  const plan = planGoImport(records, await o.links(), now());
  await writeMarker(o.dir, { state: 'started', at: now().toISOString() });
  for (const nic of plan.nics) await o.store.putNic(nic);
  for (const pod of plan.pods) await o.store.putPod(pod);
  await writeMarker(o.dir, { state: 'done', at: now().toISOString(), nics: plan.nics.length, pods: plan.pods.length });
  return { status: 'imported', nics: plan.nics.length, pods: plan.pods.length, skipped: [...skipped, ...plan.skipped], tornWrite: db.tornWrite };
}

async function readMarker(dir: string): Promise<Marker | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, IMPORT_MARKER), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const m = JSON.parse(text) as Marker;
  if (m.state !== 'started' && m.state !== 'done' && m.state !== 'not-needed') {
    throw new Error(`${join(dir, IMPORT_MARKER)}: unknown state ${JSON.stringify(m.state)}; remove the file to import again`);
  }
  return m;
}

async function writeMarker(dir: string, marker: Marker): Promise<void> {
  const path = join(dir, IMPORT_MARKER);
  await writeFile(`${path}.tmp`, `${JSON.stringify(marker)}\n`, { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}
