/**
 * Typed errors of the NIC manager. Each names the step that failed, so the CNI ADD that gets it (and the
 * operator reading it) learns where creation stopped without parsing messages.
 */

/** The step of creating, repairing or releasing a NIC that failed. */
export type NicStep =
  | 'max-nic'
  | 'create'
  | 'tag'
  | 'attach'
  | 'link'
  | 'route-table'
  | 'setup'
  | 'store'
  | 'describe'
  | 'detach'
  | 'delete'
  | 'cleanup';

export class NicError extends Error {
  override name = 'NicError';
  readonly step: NicStep;
  readonly vxnetId: string | undefined;
  readonly nicId: string | undefined;

  constructor(step: NicStep, message: string, details: { vxnetId?: string; nicId?: string; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.step = step;
    this.vxnetId = details.vxnetId;
    this.nicId = details.nicId;
  }
}

/** maxNic records exist already (failed ones count too, as in the original). */
export class NoFreeNicError extends NicError {
  override name = 'NoFreeNicError';
  readonly maxNic: number;

  constructor(maxNic: number, vxnetId: string) {
    super('max-nic', `no free nic: maxNic ${maxNic} reached`, { vxnetId });
    this.maxNic = maxNic;
  }
}

/** A bounded wait (attach/detach job, link) ran out. */
export class NicTimeoutError extends NicError {
  override name = 'NicTimeoutError';
  readonly timeoutMs: number;

  constructor(step: NicStep, message: string, timeoutMs: number, details: { vxnetId?: string; nicId?: string; cause?: unknown }) {
    super(step, message, details);
    this.timeoutMs = timeoutMs;
  }
}

/** The NIC is attached to another instance: never ours to take. */
export class NicElsewhereError extends NicError {
  override name = 'NicElsewhereError';
  readonly instanceId: string;

  constructor(nicId: string, instanceId: string, vxnetId: string) {
    super('attach', `NIC ${nicId} of ${vxnetId} is attached to ${instanceId}, not this instance; detach it there first`, {
      nicId,
      vxnetId,
    });
    this.instanceId = instanceId;
  }
}

export function seconds(ms: number): string {
  const s = ms / 1000;
  return Number.isInteger(s) ? `${s} s` : `${s.toFixed(1)} s`;
}
