/**
 * The operator's write requests on the agent's socket (`hostnic-agent check`, `hostnic-agent nics clear`).
 * They are not part of the plugin contract (@hostnic/protocol): only the agent's own CLI sends them, so their
 * paths and bodies live here, next to the server that answers them and the CLI that sends them.
 */

import { RequestError } from './http.ts';

export const OperatorPath = {
  /** POST `{ fix: boolean }`: the node-local sweep on demand; answers {@link NodeCheckAnswer}. */
  check: '/v1/node/check',
  /** POST `{ dryRun: boolean }`: frees the NICs without pods now; answers `{ nics: ClearedNic[] }`. */
  clearNics: '/v1/nics/clear',
} as const;

export interface NodeCheckAnswer {
  /** What the look found orphaned: `{ kind, key }`, kind one of veth, rule, arp-reply, table, bridge. */
  readonly found: readonly { readonly kind: string; readonly key: string }[];
  /** What was removed (only with fix). */
  readonly removed: readonly { readonly kind: string; readonly key: string }[];
  /** Removals that failed, each `<kind> <key>: <reason>`. */
  readonly failed: readonly string[];
}

/** The boolean field `field` of an operator request body; absent means false. */
export function booleanField(body: unknown, field: string): boolean {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new RequestError(400, 7, `request body must be a JSON object with an optional boolean "${field}"`);
  }
  const value = (body as Record<string, unknown>)[field];
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new RequestError(400, 7, `"${field}" must be true or false, not ${JSON.stringify(value)}`);
  return value;
}
