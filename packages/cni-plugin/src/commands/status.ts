/** STATUS (CNI 1.1.0): ready when the agent says so; 50/51 with its reason otherwise. */

import type { StatusResponse } from '../protocol.ts';
import { AgentPath } from '../protocol.ts';
import type { CallContext, Outcome } from '../context.ts';
import { agentClient } from '../context.ts';
import { CniCode, NotAvailableError } from '../errors.ts';

export function parseStatus(raw: unknown): StatusResponse {
  if (typeof raw !== 'object' || raw === null || !('ready' in raw) || typeof raw.ready !== 'boolean') {
    throw new Error('no boolean "ready"');
  }
  const out: StatusResponse = { ready: raw.ready };
  if ('reason' in raw && typeof raw.reason === 'string') out.reason = raw.reason;
  if ('code' in raw && (raw.code === 50 || raw.code === 51)) out.code = raw.code;
  return out;
}

export async function status(ctx: CallContext): Promise<Outcome> {
  const { conf } = ctx;
  let answer: StatusResponse;
  try {
    answer = await agentClient(conf).get(AgentPath.status, conf.timeouts.statusMs, parseStatus, true);
  } catch (e) {
    throw new NotAvailableError(
      CniCode.NotAvailable,
      e instanceof Error ? e.message : String(e),
      'ADD cannot be served until hostnic-agent answers on its socket; check the hostnic-node pod of this node',
    );
  }
  if (!answer.ready) {
    throw new NotAvailableError(answer.code ?? CniCode.NotAvailable, answer.reason ?? 'hostnic-agent is not ready', 'the runtime polls STATUS again');
  }
  return { stdout: '', outcome: 'ok' };
}
