/**
 * DEL: the agent releases and unwires. When the agent cannot be reached, the plugin takes the pod's interface
 * down itself, spools the release for the agent to replay, and succeeds: a pod never stays terminating
 * because the agent is down.
 */

import type { DelRequest } from '@hostnic/protocol';
import { AgentPath, CniCode, decodeEmptyResponse, lockPathFor } from '@hostnic/protocol';
import { AgentAnswerError, agentUnavailable } from '../agent-client.ts';
import type { CallContext, Outcome } from '../context.ts';
import { agentBudget, agentClient, requireAttachment } from '../context.ts';
import { TryAgainLaterError } from '../errors.ts';
import type { Result } from '../result.ts';
import { hostVethOf, parseResult, podIpOf, toProtocolResult } from '../result.ts';

/** Bound on each command of the local cleanup. */
const LOCAL_STEP_TIMEOUT_MS = 10_000;

function previousResult(ctx: CallContext): Result | undefined {
  const raw = ctx.raw['prevResult'];
  if (raw === undefined || raw === null) return undefined;
  try {
    return parseResult(raw, 'prevResult');
  } catch (e) {
    // DEL goes on without it: the agent has its own record.
    ctx.log.warn('ignoring a prevResult that is not a CNI result', { error: e instanceof Error ? e.message : String(e) });
    return undefined;
  }
}

export async function del(ctx: CallContext): Promise<Outcome> {
  const attachment = requireAttachment(ctx);
  const { conf } = ctx;
  const prev = previousResult(ctx);
  const request: DelRequest = { attachment, config: conf.plugin, timeoutMs: agentBudget(conf.timeouts.delMs) };
  if (prev) request.prevResult = toProtocolResult(prev);
  try {
    await agentClient(conf).post(AgentPath.del, request, conf.timeouts.delMs, decodeEmptyResponse);
    return { stdout: '', outcome: 'ok' };
  } catch (e) {
    if (e instanceof AgentAnswerError && e.code === CniCode.unknownContainer) {
      ctx.fields['agent'] = 'container unknown';
      return { stdout: '', outcome: 'ok' };
    }
    if (!agentUnavailable(e)) throw e;
    ctx.fields['agentError'] = e instanceof Error ? e.message : String(e);
  }

  // Loaded only now: netlink, node:crypto and node:fs/promises cost start-up that a DEL the agent serves
  // does not need.
  const [{ cleanupLocally }, { spoolRelease }, { hostVethName }] = await Promise.all([
    import('../fallback-del.ts'),
    import('../spool.ts'),
    import('@hostnic/netlink'),
  ]);
  const derived = hostVethName(attachment.podNamespace, attachment.podName, conf.plugin.vethPrefix);
  const hostIf = prev ? hostVethOf(prev, conf.plugin.vethPrefix, derived) : undefined;
  const report = await cleanupLocally({
    netns: attachment.netns,
    ifName: attachment.ifName,
    // prevResult names the veth ADD made; the derived name stands in without it (CNI_ARGS that DEL could
    // not read give the container's fallback identity, not the pod's).
    hostVeth: hostIf?.name ?? derived,
    hostMac: hostIf?.mac,
    podIp: prev ? podIpOf(prev, attachment.ifName) : undefined,
    lockPath: lockPathFor(conf.socketPath),
    timeoutMs: LOCAL_STEP_TIMEOUT_MS,
  });
  ctx.fields['ip'] = report.podIp;
  ctx.fields['podLink'] = report.podLink;
  ctx.fields['hostLink'] = report.hostLink;
  if (report.ipInUseBy) ctx.fields['ipInUseBy'] = report.ipInUseBy;
  if (report.errors.length > 0) ctx.log.warn('local cleanup incomplete; the agent finishes it when it replays the release', { errors: report.errors.join('; ') });

  try {
    ctx.fields['spool'] = await spoolRelease(conf.spoolDir, attachment, report.podIp);
  } catch (e) {
    // Without the agent and without the spool the release would be lost: let the runtime retry instead.
    throw new TryAgainLaterError(
      `hostnic-agent is down and the release cannot be spooled to ${conf.spoolDir}: ${e instanceof Error ? e.message : String(e)}`,
      'the pod interface was removed; start hostnic-agent (or make spoolDir writable) and the runtime will retry DEL',
      { cause: e },
    );
  }
  return { stdout: '', outcome: 'spooled' };
}
