import { startFakeQingCloud, type FakeQingCloud, type FakeQingCloudOptions } from '../src/fake/index.ts';
import { IaasClient, parseConfig, type IaasClientOptions } from '../src/index.ts';

export const ACCESS_KEY = 'QYACCESSKEYIDEXAMPLE';
export const SECRET = 'SECRETACCESSKEY';

export interface Harness {
  fake: FakeQingCloud;
  client: IaasClient;
  /** Another client on the same fake, e.g. with other options. */
  newClient(options?: Partial<IaasClientOptions>, config?: Record<string, unknown>): IaasClient;
  close(): Promise<void>;
}

/** A fake QingCloud on loopback with fast jobs, and a client for it with short backoffs. */
export async function startHarness(
  fakeOptions: FakeQingCloudOptions = {},
  clientOptions: Partial<IaasClientOptions> = {},
): Promise<Harness> {
  const fake = await startFakeQingCloud({
    clock: 'realtime',
    jobDurations: { pendingMs: 0, workMs: 20 },
    seed: 7,
    ...fakeOptions,
  });
  const clients: IaasClient[] = [];
  const newClient = (options: Partial<IaasClientOptions> = {}, config: Record<string, unknown> = {}): IaasClient => {
    const c = new IaasClient({
      config: parseConfig({
        qy_access_key_id: ACCESS_KEY,
        qy_secret_access_key: SECRET,
        zone: 'pek3a',
        host: fake.endpoint.host,
        port: fake.endpoint.port,
        protocol: 'http',
        connection_retries: 3,
        ...config,
      }),
      backoff: { baseDelayMs: 2, maxDelayMs: 10 },
      rateLimit: false,
      requestTimeoutMs: 5_000,
      ...options,
    });
    clients.push(c);
    return c;
  };
  const client = newClient(clientOptions);
  return {
    fake,
    client,
    newClient,
    async close() {
      await Promise.all(clients.map((c) => c.close()));
      await fake.close();
    },
  };
}

export function actionsLogged(fake: FakeQingCloud, action: string): number {
  return fake.requests({ action }).length;
}
