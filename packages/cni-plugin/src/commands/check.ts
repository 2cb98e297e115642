/** CHECK: the agent compares the pod's dataplane with prevResult and names the first mismatch. */

import type { CheckRequest } from '@hostnic/protocol';
import { AgentPath, decodeEmptyResponse } from '@hostnic/protocol';
import type { CallContext, Outcome } from '../context.ts';
import { agentBudget, agentClient, requireAttachment } from '../context.ts';
import { InvalidConfigError } from '../errors.ts';
import { parseResult, toProtocolResult } from '../result.ts';

export async function check(ctx: CallContext): Promise<Outcome> {
  const attachment = requireAttachment(ctx);
  const raw = ctx.raw['prevResult'];
  if (raw === undefined || raw === null) {
    throw new InvalidConfigError(
      'CHECK needs prevResult',
      'the runtime passes the result of ADD as "prevResult"; without it there is nothing to check against',
      'prevResult',
    );
  }
  const prev = parseResult(raw, 'prevResult');
  const { conf } = ctx;
  const request: CheckRequest = {
    attachment,
    config: conf.plugin,
    prevResult: toProtocolResult(prev),
    timeoutMs: agentBudget(conf.timeouts.checkMs),
  };
  await agentClient(conf).post(AgentPath.check, request, conf.timeouts.checkMs, decodeEmptyResponse);
  return { stdout: '', outcome: 'ok' };
}
