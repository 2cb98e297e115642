/**
 * Before the tests: sandboxes of earlier runs that were killed before their teardown (a cancelled CI task)
 * are swept; sandboxes of live runs are left alone.
 */
import { sweepOrphans } from './sweep.ts';

export default async function setup(): Promise<void> {
  if (process.getuid?.() !== 0) return;
  const swept = await sweepOrphans();
  if (swept.length > 0) process.stderr.write(`swept sandboxes of killed runs: ${swept.join(', ')}\n`);
}
