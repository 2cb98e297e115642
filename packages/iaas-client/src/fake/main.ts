/**
 * The fake as a standalone process, for end-to-end tests of agents in other processes or namespaces:
 *
 *   node --conditions=@hostnic/source packages/iaas-client/src/fake/main.ts --port 0 [--state file.json]
 *        [--seed N] [--work-ms N] [--no-verify-signature]
 *
 * Prints one JSON line `{"url": ..., "port": N}` on stdout once listening; everything else goes to stderr.
 * Seeding, faults and the clock are then driven through the control API under /__fake/.
 */
import { readFile } from 'node:fs/promises';
import process from 'node:process';
import { parseArgs } from 'node:util';
import { startFakeQingCloud } from './fake.ts';
import type { ClockMode, FakeQingCloudOptions, FakeStateSnapshot } from './types.ts';

const USAGE = `usage: main.ts [--host H] [--port N] [--state FILE] [--seed N] [--work-ms N] [--pending-ms N]
               [--clock realtime|virtual] [--zone Z]... [--timestamp-window S] [--no-verify-signature] [--verbose]`;

class UsageError extends Error {
  override name = 'UsageError';
}

function integer(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new UsageError(`--${name} must be a non-negative integer, got ${text}`);
  return Number(text);
}

async function optionsFromArgs(argv: string[]): Promise<FakeQingCloudOptions> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '0' },
      state: { type: 'string' },
      seed: { type: 'string' },
      'work-ms': { type: 'string' },
      'pending-ms': { type: 'string' },
      clock: { type: 'string', default: 'realtime' },
      zone: { type: 'string', multiple: true },
      'timestamp-window': { type: 'string' },
      'no-verify-signature': { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) throw new UsageError(USAGE);
  if (values.clock !== 'realtime' && values.clock !== 'virtual') throw new UsageError('--clock must be realtime or virtual');
  const options: FakeQingCloudOptions = {
    host: values.host,
    port: integer('port', values.port) ?? 0,
    clock: values.clock as ClockMode,
    verifySignature: !values['no-verify-signature'],
    jobDurations: {},
  };
  const seed = integer('seed', values.seed);
  if (seed !== undefined) options.seed = seed;
  const workMs = integer('work-ms', values['work-ms']);
  if (workMs !== undefined) options.jobDurations = { ...options.jobDurations, workMs };
  const pendingMs = integer('pending-ms', values['pending-ms']);
  if (pendingMs !== undefined) options.jobDurations = { ...options.jobDurations, pendingMs };
  const window = integer('timestamp-window', values['timestamp-window']);
  if (window !== undefined) options.timestampWindowSec = window;
  if (values.zone !== undefined) options.zones = values.zone;
  if (values.verbose) options.log = (line) => process.stderr.write(`[fake-qingcloud] ${line}\n`);
  if (values.state !== undefined) {
    // Validated by the fake itself, field by field, when it loads the state.
    options.state = JSON.parse(await readFile(values.state, 'utf8')) as FakeStateSnapshot;
  }
  return options;
}

async function main(): Promise<void> {
  let options: FakeQingCloudOptions;
  try {
    options = await optionsFromArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    if (!(err instanceof UsageError)) process.stderr.write(`${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  const fake = await startFakeQingCloud(options);
  process.stdout.write(`${JSON.stringify({ url: fake.url, port: fake.endpoint.port })}\n`);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    options.log?.(`${signal}: shutting down`);
    fake.close().then(
      () => {
        process.exitCode = 0;
        // Nothing of ours is left to keep the process alive; this only guards against a stray handle.
        setTimeout(() => process.exit(), 2000).unref();
      },
      (err: unknown) => {
        process.stderr.write(`close failed: ${String(err)}\n`);
        process.exitCode = 1;
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`fake QingCloud failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
