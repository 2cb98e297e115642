/** Finding the daemons' kubeconfig the way kubectl and client-go do. */

import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { RateLimitedKubeConfig } from './rate-limit.ts';
import type { RateLimit } from './rate-limit.ts';
import { KubeConfigNotFoundError } from './kubeconfig-errors.ts';

export { KubeConfigNotFoundError } from './kubeconfig-errors.ts';

export interface LoadedKubeConfig {
  readonly kc: KubeConfig;
  /** The file it came from, or `in-cluster`, for the start-up log. */
  readonly source: string;
}

export interface LoadKubeConfigOptions {
  /** Also try `~/.kube/config` before the in-cluster account (the operator commands do; the daemons do not). */
  readonly homeConfig?: boolean;
  /** Every request waits for this token bucket (`--k8s-api-qps/--k8s-api-burst`). */
  readonly rateLimit?: RateLimit | undefined;
}

/**
 * `--kubeconfig`, else `KUBECONFIG`, else `~/.kube/config` (with `homeConfig`), else the in-cluster service
 * account (the DaemonSet's and Deployment's case). client-node would fall back to an unauthenticated
 * localhost:8080; an error that says what to pass serves an operator better.
 * @throws {@link KubeConfigNotFoundError}
 */
export function loadKubeConfig(
  file: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  options: LoadKubeConfigOptions = {},
): LoadedKubeConfig {
  const kc = options.rateLimit === undefined ? new KubeConfig() : new RateLimitedKubeConfig(options.rateLimit);
  const fromEnv = env['KUBECONFIG'];
  const chosen = file !== undefined && file !== '' ? file : fromEnv !== undefined && fromEnv !== '' ? fromEnv : undefined;
  if (chosen !== undefined) {
    kc.loadFromFile(chosen);
    return { kc, source: chosen };
  }
  const home = join(homedir(), '.kube', 'config');
  if (options.homeConfig === true && existsSync(home)) {
    kc.loadFromFile(home);
    return { kc, source: home };
  }
  if ((env['KUBERNETES_SERVICE_HOST'] ?? '') === '') throw new KubeConfigNotFoundError();
  kc.loadFromCluster();
  return { kc, source: 'in-cluster' };
}
