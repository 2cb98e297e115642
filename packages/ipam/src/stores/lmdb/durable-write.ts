/**
 * How the claim ledger writes: off the event loop, durable when it resolves. Only for an environment one process
 * writes: the store's engine, shared by processes, commits synchronously (see engine.ts).
 *
 * @packageDocumentation
 */
import type { RootDatabase } from 'lmdb';

/**
 * Runs `action` (its reads, checks and writes) as one child transaction of lmdb's write batch of the turn, so a
 * throw writes none of it while the batch's other callbacks still commit; the commit and its fsync run on lmdb's
 * writer thread. Resolves with `action`'s result once the commit is flushed to disk.
 */
export async function durableWrite<T>(root: RootDatabase, action: () => T): Promise<T> {
  const result = await root.childTransaction(action);
  await root.flushed;
  return result;
}
