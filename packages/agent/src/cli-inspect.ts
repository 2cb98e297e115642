/**
 * `hostnic-agent inspect`: asks the running agent over its unix socket what it holds. Read-only, so it is safe
 * to run from `kubectl exec` at any time.
 */

import { request } from 'node:http';

export const INSPECT_KINDS = ['pods', 'nics', 'pools'] as const;
export type InspectKind = (typeof INSPECT_KINDS)[number];

/** Columns shown first, in this order; other fields follow in the order the agent sent them. */
const PREFERRED_COLUMNS: Record<InspectKind, string[]> = {
  pods: ['podNamespace', 'podName', 'ip', 'vxnetId', 'nicId', 'containerId', 'ifName', 'hostVeth'],
  nics: ['nicId', 'vxnet.vxnetId', 'phase', 'routeTable', 'linkName', 'bridge', 'pods'],
  pools: ['name', 'nicId', 'nicPhase', 'podsHere', 'warm', 'allocated', 'free', 'reserved', 'capacity', 'blocks'],
};

export class InspectError extends Error {
  override name = 'InspectError';
}

export interface AgentAnswer {
  status: number;
  body: unknown;
}

/** GET `urlPath` on the agent's socket; connection problems become an InspectError saying what to check. */
export function agentGet(socketPath: string, urlPath: string, timeoutMs: number): Promise<AgentAnswer> {
  return agentRequest(socketPath, 'GET', urlPath, timeoutMs);
}

/** One request on the agent's socket, with a JSON body when given; errors as for {@link agentGet}. */
export function agentRequest(socketPath: string, method: 'GET' | 'POST', urlPath: string, timeoutMs: number, body?: unknown): Promise<AgentAnswer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const req = request({ socketPath, path: urlPath, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = text === '' ? undefined : JSON.parse(text);
        } catch {
          // Not JSON: keep the text, the caller reports it.
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.setTimeout(timeoutMs, () => {
      req.destroy(new InspectError(`hostnic-agent did not answer ${method} ${urlPath} on ${socketPath} within ${timeoutMs} ms`));
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err instanceof InspectError) return reject(err);
      const why =
        err.code === 'ENOENT'
          ? `no socket at ${socketPath}: is hostnic-agent running on this node (or is --socket wrong)?`
          : err.code === 'ECONNREFUSED'
            ? `${socketPath} refuses connections: hostnic-agent is not running or still starting`
            : `cannot reach hostnic-agent at ${socketPath}: ${err.message}`;
      reject(new InspectError(why));
    });
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** Accepts a bare array or an object holding one (`{"pods":[...]}` or `{"items":[...]}`). */
export function rowsOf(kind: InspectKind, body: unknown): Record<string, unknown>[] | undefined {
  let list: unknown = body;
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
    const obj = body as Record<string, unknown>;
    list = obj[kind] ?? obj['items'];
  }
  if (!Array.isArray(list)) return undefined;
  return list.map((e: unknown) =>
    typeof e === 'object' && e !== null && !Array.isArray(e) ? (e as Record<string, unknown>) : { value: e },
  );
}

function flatten(obj: Record<string, unknown>, prefix = '', out: Record<string, string> = {}): Record<string, string> {
  for (const [key, value] of Object.entries(obj)) {
    const name = prefix + key;
    if (Array.isArray(value)) {
      out[name] = value.every((v) => typeof v !== 'object' || v === null) ? value.join(',') : String(value.length);
    } else if (typeof value === 'object' && value !== null) {
      flatten(value as Record<string, unknown>, `${name}.`, out);
    } else {
      out[name] = value === undefined || value === null ? '' : String(value);
    }
  }
  return out;
}

export function renderTable(kind: InspectKind, rows: Record<string, unknown>[]): string {
  return renderRows(kind, PREFERRED_COLUMNS[kind], rows);
}

/** A plain-text table of `rows`, `preferred` columns first; `no <what>` when there is none. */
export function renderRows(what: string, preferred: readonly string[], rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return `no ${what}\n`;
  const flat = rows.map((r) => flatten(r));
  const seen = new Set<string>();
  for (const r of flat) for (const k of Object.keys(r)) seen.add(k);
  const columns = [...preferred.filter((c) => seen.has(c)), ...[...seen].filter((c) => !preferred.includes(c))];
  const header = columns.map((c) => c.toUpperCase());
  const cells = flat.map((r) => columns.map((c) => r[c] ?? ''));
  const widths = columns.map((_, i) => Math.max(header[i]?.length ?? 0, ...cells.map((row) => row[i]?.length ?? 0)));
  const line = (values: string[]): string =>
    values.map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(header), ...cells.map(line)].join('\n') + '\n';
}

/** The agent's error body is `{code,msg}` (as for the plugin) or free text. */
export function describeFailure(answer: AgentAnswer): string {
  const b = answer.body;
  if (typeof b === 'object' && b !== null && 'msg' in b && typeof b.msg === 'string') return b.msg;
  if (typeof b === 'string' && b !== '') return b.trim();
  return JSON.stringify(b) ?? '';
}
