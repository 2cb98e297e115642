/**
 * `npm start`: runs the demo and exits 0 when every check passed. `--keep` leaves the cluster running until
 * Ctrl-C, to look around with `ip netns exec`.
 */
import { DemoNeedsRootError, runDemo } from './demo.ts';

const keep = process.argv.includes('--keep');
const stop = new Promise<void>((resolve) => {
  process.once('SIGINT', () => resolve());
  process.once('SIGTERM', () => resolve());
});

try {
  const result = await runDemo({ write: (t) => process.stdout.write(t), keepUntil: keep ? stop : undefined });
  const failed = result.checks.filter((c) => !c.ok);
  process.stdout.write(`\n${failed.length === 0 ? 'All checks passed' : `${failed.length} checks FAILED`} in ${result.seconds.toFixed(1)} s.\n`);
  process.exitCode = failed.length === 0 ? 0 : 1;
} catch (e) {
  process.stderr.write(`\nhostnic demo: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = e instanceof DemoNeedsRootError ? 2 : 1;
}
// The SIGINT/SIGTERM listeners must not keep the process alive once the demo is done.
process.removeAllListeners('SIGINT');
process.removeAllListeners('SIGTERM');
