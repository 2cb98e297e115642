import { startFakeQingCloud } from '../src/fake/index.ts';
import { IaasClient, parseConfig } from '../src/index.ts';

async function measure(client: IaasClient, total: number, concurrency: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        await client.describeVxnets({ vxnets: ['vxnet-bench01'] });
      }
    }),
  );
  return total / ((performance.now() - started) / 1000);
}

/** Requests per second of the real client (signing, node:http transport, envelope, decoding) against the fake on loopback. */
export async function benchAgainstFake(): Promise<void> {
  const fake = await startFakeQingCloud({ seed: 1 });
  fake.addVxnet({ vxnet_id: 'vxnet-bench01' });
  const client = new IaasClient({
    config: parseConfig({
      qy_access_key_id: 'QYACCESSKEYIDEXAMPLE',
      qy_secret_access_key: 'SECRETACCESSKEY',
      zone: 'pek3a',
      host: fake.endpoint.host,
      port: fake.endpoint.port,
      protocol: 'http',
    }),
    rateLimit: false,
  });
  try {
    await measure(client, 200, 4); // warm-up
    for (const concurrency of [1, 16]) {
      const rps = await measure(client, 3_000, concurrency);
      console.log(
        `iaas-client against the fake on loopback: ${Math.round(rps).toLocaleString('en')} requests/s ` +
          `(DescribeVxnets, signed and verified, concurrency ${concurrency})`,
      );
    }
  } finally {
    await client.close();
    await fake.close();
  }
}
