/**
 * Benchmarks of @hostnic/iaas-client: signing throughput, and requests per second through the real client
 * against the fake server on loopback. Prints figures; asserts nothing.
 */
import { signRequest, withSignerParams } from '../src/index.ts';
import { benchAgainstFake } from './fake-rps.ts';

function signingThroughput(iterations: number): number {
  const base = { action: 'DescribeNics', zone: 'pek3a', 'instances.1': 'i-abcdefgh', status: 'in-use', limit: '64', offset: '0' };
  const now = new Date('2013-08-27T14:30:10Z');
  let sink = 0;
  const started = performance.now();
  for (let i = 0; i < iterations; i++) {
    const params = withSignerParams({ ...base, nic_name: `n${i}` }, 'QYACCESSKEYIDEXAMPLE', now);
    sink += signRequest({ method: 'GET', path: '/iaas', params, secretAccessKey: 'SECRETACCESSKEY' }).signature.length;
  }
  const seconds = (performance.now() - started) / 1000;
  if (sink === 0) throw new Error('unreachable');
  return iterations / seconds;
}

signingThroughput(5_000); // warm-up
const signs = signingThroughput(50_000);
console.log(`iaas-client signing: ${Math.round(signs).toLocaleString('en')} signatures/s (HmacSHA256, 9 params)`);
await benchAgainstFake();
