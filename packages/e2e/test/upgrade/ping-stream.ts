/**
 * A continuous ping (every 100 ms) from a namespace, and what it saw: every echo request gets a sequence
 * number, so a sequence with no reply below the highest one answered is a lost reply, whatever the timing.
 * The requests still in flight when the stream stops are not counted as lost: stop() first waits until
 * replies go `settle` sequences past the moment it was called.
 */

import { argvInNetns } from '@hostnic/netlink';
import type { Netns } from '@hostnic/netlink';
import { REPO, startChild, until } from '../../src/stack/index.ts';

export interface PingTally {
  readonly what: string;
  /** Replies received. */
  readonly replies: number;
  /** Sequences below the highest answered one that got no reply. */
  readonly lost: readonly number[];
}

export interface PingStream {
  /** Replies so far. */
  replies(): number;
  stop(settle?: number): Promise<PingTally>;
}

function repliedSequences(output: string): Set<number> {
  const seqs = new Set<number>();
  for (const m of output.matchAll(/bytes from .*icmp_seq=(\d+)/g)) seqs.add(Number(m[1]));
  return seqs;
}

export function startPingStream(what: string, ns: Netns, target: string): PingStream {
  const child = startChild(argvInNetns(ns, ['ping', '-n', '-i', '0.1', '-W', '1', target]), process.env, REPO);
  const highest = (): number => Math.max(0, ...repliedSequences(child.output()));
  return {
    replies: () => repliedSequences(child.output()).size,
    stop: async (settle = 10) => {
      const goal = highest() + settle;
      await until(`${what}: replies past icmp_seq ${goal}`, 30_000, async () => (highest() >= goal ? true : undefined)).catch((e: unknown) => {
        child.kill();
        throw new Error(`${String(e)}\n${child.output().split('\n').slice(-5).join('\n')}`);
      });
      child.process.kill('SIGINT');
      await child.exited;
      const seqs = repliedSequences(child.output());
      const top = Math.max(0, ...seqs);
      const lost: number[] = [];
      for (let s = 1; s <= top; s++) if (!seqs.has(s)) lost.push(s);
      return { what, replies: seqs.size, lost };
    },
  };
}
