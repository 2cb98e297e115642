/**
 * One process of the bench's multi-process lmdb section: waits for the common start time, allocates
 * `count` addresses as node `node`, releases them, and prints its timings and write counts as JSON.
 * argv: <path> <node> <count> <startAt epoch ms> <namespace>
 */
import { Ipam, StoreCallCounter } from '@hostnic/ipam';
import { LmdbIpamStore } from '@hostnic/ipam/lmdb';

const [path, node, countText, startAtText, namespace] = process.argv.slice(2);
if (path === undefined || node === undefined || countText === undefined || startAtText === undefined || namespace === undefined) {
  throw new Error('usage: lmdb-worker <path> <node> <count> <startAt> <namespace>');
}
const store = LmdbIpamStore.open(path);
const counter = new StoreCallCounter();
const ipam = new Ipam(store, { onWrite: counter.onWrite });
const handles = Array.from({ length: Number(countText) }, (_, i) => `${node}-pod-${i}`);
await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startAtText) - Date.now())));
for (const handleId of handles) await ipam.allocate({ handleId, namespace, pod: handleId, node });
const allocEnd = Date.now();
for (const handleId of handles) await ipam.release(handleId);
const releaseEnd = Date.now();
await store.close();
process.stdout.write(
  `${JSON.stringify({
    allocEnd,
    releaseEnd,
    allocWrites: counter.writes('allocate'),
    releaseWrites: counter.writes('release'),
    conflicts: counter.conflicts('allocate'),
  })}\n`,
);
