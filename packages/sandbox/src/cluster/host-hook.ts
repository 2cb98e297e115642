/**
 * The fake QingCloud's host hook. The fake must be given its hook when it starts, before the sandbox it
 * reports to exists, so the hook is made first and bound to the sandbox's plumbing later. Events are
 * handled one at a time (an attach and a detach of one NIC must not overtake each other), and a failure
 * is recorded and reported, never thrown into the fake: the fake would fail or log the job, and the test
 * that caused it learns more from the sandbox's own report.
 */

import type { HostEvent, HostHook } from '@hostnic/iaas-client/fake';
import { describeError } from './teardown.ts';

/** A host event the sandbox could not carry out. */
export class HostHookError extends Error {
  override name = 'HostHookError';
  readonly event: HostEvent;

  constructor(event: HostEvent, cause: unknown) {
    super(`host hook: ${event.event} of NIC ${event.nicId} on ${event.instanceId} (${event.vxnetId}): ${describeError(cause)}`, { cause });
    this.event = { ...event };
  }
}

/** What handles the events once the sandbox exists. */
export interface HostEventHandler {
  handle(event: HostEvent): Promise<void>;
}

export interface SandboxHostHook {
  /** Pass as `hostHook` to startFakeQingCloud. */
  readonly handler: HostHook;
  /** Used by startSandboxNetwork (and by close, with undefined): events before or after fail as "not ready". */
  bind(target: HostEventHandler | undefined): void;
  /** Resolves when every event delivered so far has been handled. */
  idle(): Promise<void>;
  errors(): readonly HostHookError[];
  /** Calls `listener` with every later error; returns the function that unsubscribes. */
  onError(listener: (error: HostHookError) => void): () => void;
}

export function createHostHook(): SandboxHostHook {
  let target: HostEventHandler | undefined;
  let tail: Promise<void> = Promise.resolve();
  const errors: HostHookError[] = [];
  const listeners = new Set<(error: HostHookError) => void>();

  const report = (error: HostHookError): void => {
    errors.push(error);
    for (const listener of listeners) {
      try {
        listener(error);
      } catch {
        // A listener's own failure must not turn into a failure of the fake's job.
      }
    }
  };

  const handleOne = async (event: HostEvent): Promise<void> => {
    try {
      if (!target) throw new Error('no sandbox network is bound to this hook (not started yet, or closed)');
      await target.handle(event);
    } catch (err) {
      report(new HostHookError(event, err));
    }
  };

  const handler: HostHook = (event) => {
    const copy = { ...event };
    const done = tail.then(() => handleOne(copy));
    tail = done;
    return done;
  };

  return {
    handler,
    bind: (next) => {
      target = next;
    },
    idle: () => tail,
    errors: () => [...errors],
    onError: (listener) => {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };
}
