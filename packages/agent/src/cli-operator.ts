/**
 * `hostnic-agent check [--fix]` and `hostnic-agent nics clear [--dry-run]`: the operator's write requests to the
 * running agent over its unix socket (the original's ipam-check -delete and hostnic-client -clear). The agent
 * does the work, under its own locks and with its records, so nothing races a pod being added.
 */

import { EXIT_FAILURE, EXIT_OK } from '@hostnic/runtime';
import { OperatorPath } from './api/operator.ts';
import { InspectError, agentRequest, describeFailure, renderRows } from './cli-inspect.ts';

/** `check` without --fix found something: distinct from a failure (1) and a usage error (2), for scripts. */
export const EXIT_ORPHANS_FOUND = 3;

export interface OperatorIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export interface OperatorRequest {
  readonly socket: string;
  readonly timeoutMs: number;
  readonly json: boolean;
}

interface KindKey {
  kind: string;
  key: string;
}

interface CheckBody {
  found: KindKey[];
  removed: KindKey[];
  failed: string[];
}

interface ClearedBody {
  nics: { nicId: string; vxnetId: string; outcome: string; reason?: string }[];
}

function isKindKeys(v: unknown): v is KindKey[] {
  return Array.isArray(v) && v.every((e) => typeof e === 'object' && e !== null && typeof (e as KindKey).kind === 'string' && typeof (e as KindKey).key === 'string');
}

function isCheckBody(v: unknown): v is CheckBody {
  if (typeof v !== 'object' || v === null) return false;
  const b = v as Record<string, unknown>;
  return isKindKeys(b['found']) && isKindKeys(b['removed']) && Array.isArray(b['failed']) && b['failed'].every((f) => typeof f === 'string');
}

function isClearedBody(v: unknown): v is ClearedBody {
  if (typeof v !== 'object' || v === null) return false;
  const nics = (v as Record<string, unknown>)['nics'];
  return Array.isArray(nics) && nics.every((n) => typeof n === 'object' && n !== null && typeof (n as Record<string, unknown>)['nicId'] === 'string' && typeof (n as Record<string, unknown>)['outcome'] === 'string');
}

async function post<T>(r: OperatorRequest, path: string, body: unknown, shape: (v: unknown) => v is T): Promise<T> {
  const answer = await agentRequest(r.socket, 'POST', path, r.timeoutMs, body);
  if (answer.status < 200 || answer.status > 299) {
    throw new InspectError(`hostnic-agent answered ${answer.status} to POST ${path}: ${describeFailure(answer)}`);
  }
  if (!shape(answer.body)) throw new InspectError(`hostnic-agent's answer to POST ${path} is not what this CLI understands: ${JSON.stringify(answer.body)}`);
  return answer.body;
}

/**
 * Lists what the node sweep finds orphaned; with `fix`, removes it.
 * @returns 0 when nothing was found (or all of it removed), 3 when something was found without fix, 1 when a
 *   removal failed
 */
export async function checkCommand(io: OperatorIo, r: OperatorRequest, fix: boolean): Promise<number> {
  const answer = await post(r, OperatorPath.check, { fix }, isCheckBody);
  if (r.json) io.stdout(`${JSON.stringify(answer, null, 2)}\n`);
  else {
    const removed = new Set(answer.removed.map((o) => `${o.kind}:${o.key}`));
    const rows = answer.found.map((o) => ({ kind: o.kind, key: o.key, ...(fix ? { action: removed.has(`${o.kind}:${o.key}`) ? 'removed' : 'kept' } : {}) }));
    io.stdout(renderRows('orphans', ['kind', 'key', 'action'], rows));
    for (const f of answer.failed) io.stderr(`failed: ${f}\n`);
    if (!fix && answer.found.length > 0) io.stderr(`${answer.found.length} orphaned object(s); run with --fix to remove them\n`);
  }
  if (answer.failed.length > 0) return EXIT_FAILURE;
  return !fix && answer.found.length > 0 ? EXIT_ORPHANS_FOUND : EXIT_OK;
}

/**
 * Frees the NICs without pods (the warm pool's excepted); with `dryRun`, lists what would be freed.
 * @returns 0, or 1 when a release failed
 */
export async function clearNicsCommand(io: OperatorIo, r: OperatorRequest, dryRun: boolean): Promise<number> {
  const answer = await post(r, OperatorPath.clearNics, { dryRun }, isClearedBody);
  if (r.json) io.stdout(`${JSON.stringify(answer, null, 2)}\n`);
  else io.stdout(renderRows('NICs', ['nicId', 'vxnetId', 'outcome', 'reason'], answer.nics.map((n) => ({ ...n }))));
  return answer.nics.some((n) => n.outcome === 'failed') ? EXIT_FAILURE : EXIT_OK;
}
