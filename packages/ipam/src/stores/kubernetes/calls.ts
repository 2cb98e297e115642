/**
 * One API request with bounded retries of transient failures, and the HTTP status of what failed otherwise.
 *
 * Transient: no HTTP answer at all (connection refused or reset, DNS, TLS, timeout — the client throws an
 * error without a numeric status), HTTP 429 and 5xx. These are retried with jittered exponential backoff, `attempts` times in
 * all, then reported as {@link StoreUnavailableError}. Every other HTTP status is handed back to the caller,
 * which knows what a 404 or a 409 means for its operation.
 *
 * @packageDocumentation
 */
import { InvalidArgumentError } from '../../errors.ts';
import type { StoreKind } from '../../store-errors.ts';
import { StoreUnavailableError } from '../../store-errors.ts';

/** Retries of transient failures. */
export interface RetryOptions {
  /** Tries in all, at least 1 (default 5). */
  readonly attempts?: number;
  /** Upper bound of the first wait, ms (default 100). */
  readonly baseMs?: number;
  /** Cap of the wait, ms (default 2000). */
  readonly maxMs?: number;
}

/** The retry settings in force. */
export interface CallSettings {
  readonly attempts: number;
  readonly baseMs: number;
  readonly maxMs: number;
  readonly random: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}

/**
 * Settings from options, validated.
 * @param options - retry options
 * @param random - jitter source
 * @param sleep - how to wait
 */
export function callSettings(options: RetryOptions, random: () => number, sleep: (ms: number) => Promise<void>): CallSettings {
  const attempts = options.attempts ?? 5;
  if (!Number.isInteger(attempts) || attempts < 1) throw new InvalidArgumentError('retry.attempts', `must be an integer ≥ 1, got ${attempts}`);
  const baseMs = options.baseMs ?? 100;
  const maxMs = options.maxMs ?? 2000;
  for (const [field, value] of [['retry.baseMs', baseMs], ['retry.maxMs', maxMs]] as const) {
    if (!Number.isFinite(value) || value < 0) throw new InvalidArgumentError(field, `must be a finite number ≥ 0, got ${value}`);
  }
  return { attempts, baseMs, maxMs, random, sleep };
}

/**
 * The HTTP status of a failed request: the numeric `code` in 100 … 599 that client-node's ApiException and
 * other clients' errors carry; undefined when the request got no HTTP answer (Node's network errors have a
 * string `code` such as `ECONNREFUSED`). Read structurally, so that no client library is loaded here.
 * @param error - anything thrown
 */
export function httpStatusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' && Number.isInteger(code) && code >= 100 && code < 600 ? code : undefined;
}

/** The Kubernetes Status in an error's `body`: an object (a parsed answer) or its JSON text (client-node). */
function statusBodyOf(error: unknown): { readonly reason?: unknown; readonly message?: unknown } | undefined {
  const body = (error as { body?: unknown } | null)?.body;
  if (typeof body === 'string') {
    try {
      const parsed: unknown = JSON.parse(body);
      return typeof parsed === 'object' && parsed !== null ? parsed : undefined;
    } catch {
      return undefined;
    }
  }
  return typeof body === 'object' && body !== null ? body : undefined;
}

/**
 * The `reason` of a Kubernetes Status in an error body (`AlreadyExists`, `Conflict`, `NotFound`, ...).
 * @param error - anything thrown
 */
export function statusReasonOf(error: unknown): string | undefined {
  const reason = statusBodyOf(error)?.reason;
  return typeof reason === 'string' ? reason : undefined;
}

/**
 * The message of a Kubernetes Status in an error body, or the error's own message.
 * @param error - anything thrown
 */
export function statusMessageOf(error: unknown): string {
  const message = statusBodyOf(error)?.message;
  if (typeof message === 'string') return message;
  return error instanceof Error ? error.message.split('\n')[0] ?? error.message : String(error);
}

function transient(status: number | undefined): boolean {
  return status === undefined || status === 429 || status >= 500;
}

/** The answer to a request: its value, or the HTTP failure to interpret. */
export type CallOutcome<T> =
  | { readonly ok: true; readonly value: T; readonly retried: boolean }
  | { readonly ok: false; readonly status: number; readonly error: unknown; readonly retried: boolean };

/**
 * Runs a request, retrying transient failures.
 * @param settings - retry settings
 * @param what - kind, name and operation, for the error
 * @param run - the request
 * @returns the value, or the non-transient HTTP failure; `retried` tells whether an earlier try failed
 *   transiently (so a write may have been applied already)
 * @throws {@link StoreUnavailableError} when every try failed transiently
 */
export async function call<T>(
  settings: CallSettings,
  what: { readonly kind: StoreKind; readonly name: string; readonly operation: string },
  run: () => Promise<T>,
): Promise<CallOutcome<T>> {
  let retried = false;
  for (let attempt = 1; ; attempt++) {
    try {
      return { ok: true, value: await run(), retried };
    } catch (error) {
      const status = httpStatusOf(error);
      if (!transient(status)) return { ok: false, status: status ?? 0, error, retried };
      if (attempt >= settings.attempts) {
        const detail = status === undefined ? statusMessageOf(error) : `HTTP ${status}: ${statusMessageOf(error)}`;
        throw new StoreUnavailableError(what.kind, what.name, what.operation, `${detail} (after ${attempt} tries)`, { cause: error });
      }
      retried = true;
      const bound = Math.min(settings.maxMs, settings.baseMs * 2 ** (attempt - 1));
      await settings.sleep(settings.random() * bound);
    }
  }
}
