import { Observable, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { ConfigurationOptions, ObservableMiddleware, RequestContext, ResponseContext } from '@kubernetes/client-node';

/**
 * Per-call options for client-node's typed APIs that cancel the request. Without them a request to a
 * partitioned apiserver can hang for minutes, which would outlive a leader's renew deadline or keep a
 * stopped informer's socket open.
 */
export function requestOptions(options: { signal?: AbortSignal; timeoutMs?: number }): ConfigurationOptions {
  const signals: AbortSignal[] = [];
  if (options.signal) signals.push(options.signal);
  if (options.timeoutMs !== undefined) signals.push(AbortSignal.timeout(Math.max(1, Math.ceil(options.timeoutMs))));
  if (signals.length === 0) return {};
  const signal = signals.length === 1 && signals[0] ? signals[0] : AbortSignal.any(signals);
  const middleware: ObservableMiddleware = {
    pre: (context: RequestContext) => {
      context.setSignal(signal);
      return new Observable(Promise.resolve(context));
    },
    post: (context: ResponseContext) => new Observable(Promise.resolve(context)),
  };
  // Append: replacing would drop middleware the API client was configured with.
  return { middleware: [middleware], middlewareMergeStrategy: 'append' };
}

/** client-node 2 sends patches as JSON Patch unless told otherwise. */
export function mergePatchOptions(base?: ConfigurationOptions): ConfigurationOptions {
  return setHeaderOptions('Content-Type', PatchStrategy.MergePatch, base);
}
