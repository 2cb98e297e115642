/** ADD: one request to the agent, which allocates, wires and answers with the result; printed once. */

import type { AddRequest, AddResponse } from '@hostnic/protocol';
import { AgentPath, decodeAddResponse } from '@hostnic/protocol';
import { checkWorkloadArgs } from '../args.ts';
import type { CallContext, Outcome } from '../context.ts';
import { agentBudget, agentClient, requireAttachment } from '../context.ts';
import { InvalidEnvironmentError } from '../errors.ts';
import { isLiveNetns } from '../netns.ts';
import type { Result } from '../result.ts';
import { checkChainable, formatResult, mergeChained, parseResult, podIpOf, toProtocolResult } from '../result.ts';

/** The protocol's check first, then the plugin's own reading of the result (for the CNI version asked). */
export function parseAddResponse(raw: unknown): { result: Result; vxnet: string | undefined } {
  const answer = decodeAddResponse(raw);
  return { result: parseResult(answer.result, 'result'), vxnet: answer.vxnet === '' ? undefined : answer.vxnet };
}

export async function add(ctx: CallContext): Promise<Outcome> {
  const attachment = requireAttachment(ctx);
  if (ctx.args) checkWorkloadArgs(ctx.args);
  const prev = ctx.raw['prevResult'] === undefined ? undefined : parseResult(ctx.raw['prevResult'], 'prevResult');
  if (prev) checkChainable(prev, attachment.ifName, attachment.netns);
  // Checked here so that the agent never allocates an address for a sandbox that is already gone.
  if (!isLiveNetns(attachment.netns)) {
    throw new InvalidEnvironmentError(
      `CNI_NETNS ${attachment.netns} is not a network namespace`,
      'the sandbox may be gone already; the runtime passes the path of the pod network namespace (e.g. /var/run/netns/cni-...)',
    );
  }

  const { conf } = ctx;
  const request: AddRequest = { attachment, config: conf.plugin, timeoutMs: agentBudget(conf.timeouts.addMs) };
  const answer = await agentClient(conf).post(AgentPath.add, request, conf.timeouts.addMs, parseAddResponse);
  const response: AddResponse = { result: toProtocolResult(answer.result), vxnet: answer.vxnet ?? '' };
  ctx.fields['ip'] = podIpOf(answer.result, attachment.ifName);
  ctx.fields['vxnet'] = response.vxnet || undefined;
  if (prev) ctx.fields['chainedAfter'] = prev.interfaces.length;

  const result = prev ? mergeChained(prev, answer.result) : answer.result;
  return { stdout: formatResult(result, conf.cniVersion), outcome: 'ok' };
}
