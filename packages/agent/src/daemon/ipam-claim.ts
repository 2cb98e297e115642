/**
 * The node's address claim (docs/ipam.md#node-claims): addresses held ahead of demand so that a warm ADD and a
 * DEL make no API call; its ledger is an lmdb environment of its own under the state directory.
 *
 * @packageDocumentation
 */
import path from 'node:path';
import { DEFAULT_CLAIM_BATCH_MS, NodeClaim } from '@hostnic/ipam';
import type { ClaimProblem, Ipam } from '@hostnic/ipam';
import { LmdbClaimLedger } from '@hostnic/ipam/lmdb';
import { errorText } from '@hostnic/runtime';
import type { Logger } from '@hostnic/runtime';
import type { AgentSection } from '../config/index.ts';

/** The ledger's directory under the state directory. */
export const CLAIM_LEDGER_DIR = 'ipam-claim';

/** An open claim and how to close it. */
export interface OpenedClaim {
  readonly claim: NodeClaim;
  close(): Promise<void>;
}

function logProblem(log: Logger): (p: ClaimProblem) => void {
  return (p) => {
    if (p.kind === 'SyncFailed') log.warn('ipam claim: background step failed; retried at the next sync', { step: p.step, error: errorText(p.error) });
    else log.error('ipam claim: a pod uses an address the cluster no longer records for this node (was the node taken for gone?)', { address: p.address, handle: p.handleId });
  };
}

/**
 * Opens the claim, or undefined when `warmIpTarget` is 0 (every ADD and DEL then writes the IPAM objects).
 * @param o - the allocator, the state directory, the node and the agent settings
 */
export async function openIpamClaim(o: {
  readonly ipam: Ipam;
  readonly stateDir: string;
  readonly node: string;
  readonly agent: Pick<AgentSection, 'warmIpTarget' | 'warmIpMinimum' | 'warmIpMaximum'>;
  readonly log: Logger;
  /**
   * Runs the scheduling of a background sync outside the pod operation that asked for it (its timer would
   * otherwise carry the operation's async context, and the sync's requests would count as the operation's).
   */
  readonly detached?: (<T>(fn: () => T) => T) | undefined;
}): Promise<OpenedClaim | undefined> {
  if (o.agent.warmIpTarget === 0) return undefined;
  const ledger = LmdbClaimLedger.open(path.join(o.stateDir, CLAIM_LEDGER_DIR));
  try {
    const claim = await NodeClaim.open({
      ipam: o.ipam,
      ledger,
      node: o.node,
      warm: { minimum: o.agent.warmIpMinimum, target: o.agent.warmIpTarget, maximum: o.agent.warmIpMaximum },
      onProblem: logProblem(o.log),
      schedule: (run) => (o.detached ?? ((fn) => fn()))(() => void setTimeout(run, DEFAULT_CLAIM_BATCH_MS).unref()),
    });
    return {
      claim,
      close: async () => {
        await claim.stop();
        await ledger.close();
      },
    };
  } catch (e) {
    await ledger.close();
    throw e;
  }
}
