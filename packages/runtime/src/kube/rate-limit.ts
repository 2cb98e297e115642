/** client-node's KubeConfig with the token bucket of ./token-bucket.ts in front of every request. */

import { KubeConfig } from '@kubernetes/client-node';
import { TokenBucket } from './token-bucket.ts';
import type { RateLimit } from './token-bucket.ts';

export { TokenBucket } from './token-bucket.ts';
export type { RateLimit } from './token-bucket.ts';

/**
 * A KubeConfig whose requests wait for the bucket: client-node's typed APIs and its Watch both authenticate
 * every request through applySecurityAuthentication.
 */
export class RateLimitedKubeConfig extends KubeConfig {
  readonly bucket: TokenBucket;

  constructor(limit: RateLimit) {
    super();
    this.bucket = new TokenBucket(limit);
  }

  override async applySecurityAuthentication(...args: Parameters<KubeConfig['applySecurityAuthentication']>): Promise<void> {
    await this.bucket.take();
    return super.applySecurityAuthentication(...args);
  }
}
