/** STATUS (CNI 1.1.0): ready when the agent says so; 50/51 with its reason otherwise. */

import type { StatusResponse } from '@hostnic/protocol';
import { AgentPath, CniCode, decodeStatusResponse } from '@hostnic/protocol';
import type { CallContext, Outcome } from '../context.ts';
import { agentClient } from '../context.ts';
import { NotAvailableError } from '../errors.ts';

export async function status(ctx: CallContext): Promise<Outcome> {
  const { conf } = ctx;
  let answer: StatusResponse;
  try {
    answer = await agentClient(conf).get(AgentPath.status, conf.timeouts.statusMs, decodeStatusResponse, true);
  } catch (e) {
    throw new NotAvailableError(
      CniCode.notAvailable,
      e instanceof Error ? e.message : String(e),
      'ADD cannot be served until hostnic-agent answers on its socket; check the hostnic-node pod of this node',
    );
  }
  if (!answer.ready) {
    throw new NotAvailableError(answer.code ?? CniCode.notAvailable, answer.reason ?? 'hostnic-agent is not ready', 'the runtime polls STATUS again');
  }
  return { stdout: '', outcome: 'ok' };
}
