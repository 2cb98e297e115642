/**
 * Only the leader writes (spec ipam-controller 6 item 1). Every write path calls `check` right before the
 * request, so a replica that lost its lease stops writing before another one can have taken over.
 */

export class NotLeaderError extends Error {
  override name = 'NotLeaderError';
  readonly operation: string;

  constructor(operation: string) {
    super(`not the leader any more: ${operation} not sent (another replica holds the hostnic-controller lease)`);
    this.operation = operation;
  }
}

export interface Fence {
  /** @throws NotLeaderError when this replica may not write */
  check(operation: string): void;
}

/** A fence that is always open: the CLI and single-replica tests. */
export const openFence: Fence = { check: () => undefined };

/** @param onPass - sees every write that passed (tests check that a stand-by replica never writes) */
export function fenceOf(isLeader: () => boolean, onPass?: (operation: string) => void): Fence {
  return {
    check(operation) {
      if (!isLeader()) throw new NotLeaderError(operation);
      onPass?.(operation);
    },
  };
}
