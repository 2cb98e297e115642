import { ActionRateLimiter, DEFAULT_RATE_LIMITS, type RateLimitOptions } from './rate-limit.ts';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.ts';
import { systemClock, type Clock } from './clock.ts';
import { endpointUrl, type IaasConfig } from './config.ts';
import { FieldReader } from './decode.ts';
import { IaasError, IaasProtocolError, IaasTransportError, RetCode } from './errors.ts';
import { flattenParams, type ParamInput } from './params.ts';
import { encodeSignedQuery, signRequest, withSignerParams, type HttpMethod, type SignatureMethod } from './sign.ts';
import { HttpTransport } from './transport.ts';

export interface RequestEvent {
  action: string;
  attempt: number;
  durationMs: number;
  /** `ok`, or the error class that ended the attempt. */
  outcome: 'ok' | 'api-error' | 'transport-error' | 'protocol-error';
  retCode?: number;
  /** Milliseconds this attempt waited for the rate limiter. */
  throttledMs: number;
}

export interface QingCloudApiOptions {
  config: IaasConfig;
  /** Bound on one attempt's wait for the response (headers, then each body chunk). Default 30 s. */
  requestTimeoutMs?: number;
  method?: HttpMethod;
  signatureMethod?: SignatureMethod;
  backoff?: Partial<BackoffOptions>;
  /** API error codes retried like a transport error. Default 5000 (internal error) and 5100 (server busy). */
  retryRetCodes?: readonly number[];
  /** Client-side rate limits; `false` turns them off. */
  rateLimit?: RateLimitOptions | false;
  clock?: Clock;
  random?: () => number;
  /** Called after every attempt, e.g. to export metrics. Must not throw. */
  onRequest?: (event: RequestEvent) => void;
}

export interface CallOptions<T> {
  signal?: AbortSignal | undefined;
  decode: (response: FieldReader) => T;
  /**
   * Whether repeating the request can do harm. Idempotent calls (reads, and writes that converge to the
   * same state) are retried on any retryable failure. Others are retried only when the request surely did
   * not reach the server, or when `recover` shows that the first attempt had no effect.
   */
  idempotent: boolean;
  /**
   * After an attempt whose effect is unknown (connection dropped after sending, timeout, 5000/5100),
   * looks for the effect: returns the result when it happened, undefined when it did not (then the call
   * is retried). Without it, a non-idempotent call fails with the original error instead of guessing.
   */
  recover?: (signal: AbortSignal | undefined) => Promise<T | undefined>;
}

type Failure = 'fatal' | 'not-sent' | 'ambiguous';

const RETRYABLE_HTTP = new Set([502, 503, 504]);

/** The signed, retried, rate-limited call of one QingCloud action; the typed actions are built on it. */
export class QingCloudApi {
  readonly config: IaasConfig;
  readonly #transport: HttpTransport;
  readonly #limiter: ActionRateLimiter | null;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #backoff: BackoffOptions;
  readonly #retryRetCodes: ReadonlySet<number>;
  readonly #method: HttpMethod;
  readonly #signatureMethod: SignatureMethod;
  readonly #onRequest: ((event: RequestEvent) => void) | undefined;

  constructor(options: QingCloudApiOptions) {
    this.config = options.config;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.#retryRetCodes = new Set(options.retryRetCodes ?? [RetCode.InternalError, RetCode.ServerBusy]);
    this.#method = options.method ?? 'GET';
    this.#signatureMethod = options.signatureMethod ?? 'HmacSHA256';
    this.#onRequest = options.onRequest;
    this.#limiter =
      options.rateLimit === false ? null : new ActionRateLimiter(options.rateLimit ?? DEFAULT_RATE_LIMITS, this.#clock);
    this.#transport = new HttpTransport({
      origin: endpointUrl(options.config),
      connectTimeoutMs: options.config.connectionTimeoutSec * 1000,
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    });
  }

  /** Performs `action` with retries as described on {@link CallOptions}. */
  async call<T>(action: string, input: ParamInput, options: CallOptions<T>): Promise<T> {
    const params = flattenParams(input);
    if (this.config.zone !== '' && params['zone'] === undefined) params['zone'] = this.config.zone;
    const attempts = this.config.connectionRetries + 1;
    for (let attempt = 1; ; attempt++) {
      let response: FieldReader;
      try {
        response = await this.#attempt(action, params, attempt, options.signal);
      } catch (err) {
        const failure = this.#classify(err);
        if (failure === 'fatal' || attempt >= attempts) throw err;
        await this.#clock.sleep(backoffDelay(attempt, this.#backoff, this.#random), options.signal);
        if (failure === 'ambiguous' && !options.idempotent) {
          if (!options.recover) throw err;
          let recovered: T | undefined;
          try {
            recovered = await options.recover(options.signal);
          } catch (recoverErr) {
            if (options.signal?.aborted) throw recoverErr;
            // We could not learn whether the first attempt took effect; retrying might duplicate it.
            throw new IaasTransportError(action, `${(err as Error).message}; and checking whether it took effect failed: ${(recoverErr as Error).message}`, {
              delivery: 'maybe-sent',
              cause: err,
            });
          }
          if (recovered !== undefined) return recovered;
        }
        continue;
      }
      return options.decode(response);
    }
  }

  #classify(err: unknown): Failure {
    if (err instanceof IaasTransportError) {
      if (err.httpStatus !== undefined) return RETRYABLE_HTTP.has(err.httpStatus) ? 'ambiguous' : 'fatal';
      return err.delivery === 'not-sent' ? 'not-sent' : 'ambiguous';
    }
    if (err instanceof IaasError && this.#retryRetCodes.has(err.retCode)) return 'ambiguous';
    return 'fatal';
  }

  async #attempt(
    action: string,
    params: Record<string, string>,
    attempt: number,
    signal: AbortSignal | undefined,
  ): Promise<FieldReader> {
    const throttledMs = (await this.#limiter?.take(action, signal)) ?? 0;
    const started = performance.now();
    const report = (outcome: RequestEvent['outcome'], retCode?: number): void => {
      this.#onRequest?.({
        action,
        attempt,
        durationMs: performance.now() - started,
        outcome,
        throttledMs,
        ...(retCode === undefined ? {} : { retCode }),
      });
    };
    // Signed afresh on every attempt: a retry after a long backoff must not carry a stale time_stamp.
    const signedParams = withSignerParams(
      { ...params, action },
      this.config.credentials.accessKeyId,
      this.#clock.now(),
      this.#signatureMethod,
    );
    const signed = signRequest({
      method: this.#method,
      path: this.config.uri,
      params: signedParams,
      secretAccessKey: this.config.credentials.revealSecret(),
    });
    let res;
    try {
      res = await this.#transport.send({
        action,
        method: this.#method,
        path: this.config.uri,
        payload: encodeSignedQuery(signed),
        signal,
      });
    } catch (err) {
      report('transport-error');
      throw err;
    }
    try {
      const reader = parseEnvelope(action, res.status, res.contentType, res.body);
      report('ok');
      return reader;
    } catch (err) {
      if (err instanceof IaasError) report('api-error', err.retCode);
      else if (err instanceof IaasTransportError) report('transport-error');
      else report('protocol-error');
      throw err;
    }
  }

  close(): Promise<void> {
    return this.#transport.close();
  }
}

/** Checks the HTTP status, the content type and the QingCloud envelope; returns the body's reader. */
export function parseEnvelope(action: string, status: number, contentType: string, body: string): FieldReader {
  if (status !== 200) {
    throw new IaasTransportError(action, `HTTP status ${status}`, { delivery: 'maybe-sent', httpStatus: status });
  }
  if (!/^application\/json\b/i.test(contentType.trim())) {
    throw new IaasProtocolError(action, `expected a JSON response, got content type "${contentType}"`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (err) {
    throw new IaasProtocolError(action, `malformed JSON in the response: ${(err as Error).message}`, { cause: err });
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new IaasProtocolError(action, 'the response is not a JSON object');
  }
  const retCode = (doc as Record<string, unknown>)['ret_code'];
  if (typeof retCode !== 'number' || !Number.isInteger(retCode)) {
    throw new IaasProtocolError(action, 'the response has no integer ret_code');
  }
  if (retCode !== 0) {
    const message = (doc as Record<string, unknown>)['message'];
    throw new IaasError(action, retCode, typeof message === 'string' ? message : undefined);
  }
  return new FieldReader(action, doc);
}
