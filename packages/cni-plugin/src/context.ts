/** What every command gets, and what it gives back to main. */

import type { CniArgs } from './args.ts';
import type { CniEnv } from './env.ts';
import type { Fields, Logger } from './log.ts';
import type { NetConf } from './netconf.ts';
import type { Attachment } from '@hostnic/protocol';
import { AgentClient } from './agent-client.ts';

export interface CallContext {
  env: CniEnv;
  conf: NetConf;
  /** The decoded stdin, for the keys only one verb reads (prevResult, valid attachments). */
  raw: Record<string, unknown>;
  /** ADD, DEL, CHECK only. */
  args: CniArgs | undefined;
  attachment: Attachment | undefined;
  log: Logger;
  /** Added to the one line logged per call. */
  fields: Fields;
}

export interface Outcome {
  /** The protocol answer; empty for verbs that print nothing on success. */
  stdout: string;
  /** One word for the call log line: ok, spooled, ... */
  outcome: string;
}

export function agentClient(conf: NetConf): AgentClient {
  return new AgentClient({ socketPath: conf.socketPath, connectTimeoutMs: conf.timeouts.connectMs });
}

/** The agent's own bound: a little less than ours, so that its error, not our timeout, reaches the runtime. */
export function agentBudget(totalMs: number): number {
  return Math.max(1_000, totalMs - Math.min(5_000, Math.round(totalMs / 10)));
}

export function requireAttachment(ctx: CallContext): Attachment {
  if (!ctx.attachment) throw new Error(`${ctx.env.verb} without an attachment`);
  return ctx.attachment;
}
