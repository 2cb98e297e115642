import { IaasClient } from '../client.ts';
import type { IaasClientOptions } from '../client.ts';
import { parseConfig } from '../config.ts';
import type { FakeQingCloud } from './fake.ts';

/**
 * The real client pointed at a fake, as tests want it: no client-side rate limits (tests would wait for
 * tokens) and short retry backoffs. `config` overrides keys of config.yaml, the rest the client options.
 */
export function clientFor(
  fake: Pick<FakeQingCloud, 'accessKey' | 'zone' | 'endpoint'>,
  options: Omit<Partial<IaasClientOptions>, 'config'> & { config?: Record<string, unknown> } = {},
): IaasClient {
  const { config, ...rest } = options;
  return new IaasClient({
    config: parseConfig({
      qy_access_key_id: fake.accessKey.accessKeyId,
      qy_secret_access_key: fake.accessKey.secretAccessKey,
      zone: fake.zone,
      host: fake.endpoint.host,
      port: fake.endpoint.port,
      protocol: 'http',
      ...config,
    }),
    rateLimit: false,
    backoff: { baseDelayMs: 2, maxDelayMs: 20 },
    requestTimeoutMs: 5_000,
    ...rest,
  });
}
