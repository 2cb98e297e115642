/**
 * GC (CNI 1.1.0): the runtime lists every attachment it still knows; the agent releases the others. Best
 * effort by definition: once the request is valid, nothing the agent does or fails to do fails GC.
 */

import type { GcRequest } from '@hostnic/protocol';
import { AgentPath, decodeGcResponse } from '@hostnic/protocol';
import type { CallContext, Outcome } from '../context.ts';
import { agentBudget, agentClient } from '../context.ts';
import { InvalidConfigError } from '../errors.ts';

type Attachments = GcRequest['validAttachments'];

/**
 * `cni.dev/valid-attachments` (libcni also sets `cni.dev/attachments`, the key of an earlier draft). A
 * missing or malformed list is refused: forwarding an empty one would release every pod on the node.
 */
export function validAttachmentsOf(raw: Record<string, unknown>): Attachments {
  const key = raw['cni.dev/valid-attachments'] !== undefined ? 'cni.dev/valid-attachments' : 'cni.dev/attachments';
  const list = raw[key];
  if (!Array.isArray(list)) {
    throw new InvalidConfigError(
      list === undefined ? 'GC without cni.dev/valid-attachments' : `${key} must be a list`,
      'the runtime must list every attachment it still knows; hostnic releases nothing without that list',
      key,
    );
  }
  return list.map((v: unknown, i) => {
    const o = typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
    const containerId = o['containerID'];
    const ifName = o['ifname'];
    if (typeof containerId !== 'string' || containerId === '' || typeof ifName !== 'string' || ifName === '') {
      throw new InvalidConfigError(`${key}[${i}] must be {"containerID": "...", "ifname": "..."}`, JSON.stringify(v), key);
    }
    return { containerId, ifName };
  });
}

export async function gc(ctx: CallContext): Promise<Outcome> {
  const validAttachments = validAttachmentsOf(ctx.raw);
  const { conf } = ctx;
  ctx.fields['valid'] = validAttachments.length;
  const request: GcRequest = { validAttachments, config: conf.plugin, timeoutMs: agentBudget(conf.timeouts.gcMs) };
  try {
    const answer = await agentClient(conf).post(AgentPath.gc, request, conf.timeouts.gcMs, decodeGcResponse);
    ctx.fields['released'] = answer.released.length;
    return { stdout: '', outcome: 'ok' };
  } catch (e) {
    ctx.log.warn('GC not done by hostnic-agent; it will run again', { error: e instanceof Error ? e.message : String(e) });
    return { stdout: '', outcome: 'skipped' };
  }
}
