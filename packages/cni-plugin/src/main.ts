/**
 * The `hostnic` CNI plugin: validate the call in the reference skel's order, run one verb, print
 * its answer once, log one line. Verbs are loaded on demand, so VERSION loads neither HTTP nor netlink.
 */

import { readFileSync, writeSync } from 'node:fs';
import type { CniArgs } from './args.ts';
import { attachmentOf, parseCniArgs, podKey, workloadOf } from './args.ts';
import type { CallContext, Outcome } from './context.ts';
import type { Verb } from './env.ts';
import { checkAttachmentEnv, readEnv } from './env.ts';
import type { CniError } from './errors.ts';
import { IoError, formatError, toCniError } from './errors.ts';
import type { Fields } from './log.ts';
import { Logger } from './log.ts';
import { decodeConfig, parseNetConf, peekLogSettings } from './netconf.ts';
import { checkSupported, checkVerbAllowed, errorVersion, requestedVersion, versionInfo } from './versions.ts';

/** [compat] the original's about string. */
const ABOUT = 'CNI hostnic plugin version unknown';

type Command = (ctx: CallContext) => Promise<Outcome>;

const COMMANDS: Record<Exclude<Verb, 'VERSION'>, () => Promise<Command>> = {
  ADD: async () => (await import('./commands/add.ts')).add,
  DEL: async () => (await import('./commands/del.ts')).del,
  CHECK: async () => (await import('./commands/check.ts')).check,
  GC: async () => (await import('./commands/gc.ts')).gc,
  STATUS: async () => (await import('./commands/status.ts')).status,
};

/** DEL, GC: bad values of keys that only shape ADD must not keep a pod from terminating. */
const STRICT: ReadonlySet<Verb> = new Set(['ADD', 'CHECK', 'STATUS']);

const NO_ARGS: CniArgs = { podName: '', podNamespace: '', infraContainerId: '', ignored: [] };

function readStdin(): string {
  try {
    return readFileSync(0, 'utf8');
  } catch (e) {
    throw new IoError(`error reading from stdin: ${e instanceof Error ? e.message : String(e)}`, 'the runtime passes the network configuration on stdin');
  }
}

/**
 * Prints the protocol answer (stdout carries nothing else) and exits. A plain write(2) on fd 1: setting up
 * process.stdout as a stream costs milliseconds of start-up. A non-blocking stdout (EAGAIN) gets the stream.
 */
function emit(text: string, code: number): void {
  let written = 0;
  try {
    const data = Buffer.from(text, 'utf8');
    while (written < data.length) written += writeSync(1, data, written);
  } catch (e) {
    if (e instanceof Error && 'code' in e && e.code === 'EAGAIN') {
      process.stdout.write(Buffer.from(text, 'utf8').subarray(written), () => process.exit(code));
      return;
    }
    // stdout is gone (the runtime stopped reading): the exit status still tells.
  }
  process.exit(code);
}

function elapsedMs(started: bigint): number {
  return Number((process.hrtime.bigint() - started) / 1_000_000n);
}

async function main(): Promise<void> {
  const started = process.hrtime.bigint();
  const log = new Logger();
  const fields: Fields = {};
  let requested: string | undefined;
  try {
    const request = readEnv(process.env);
    if (request.kind === 'about') {
      writeSync(2, `${ABOUT}\n`);
      emit('', 0);
      return;
    }
    const { env } = request;
    if (env.verb === 'VERSION') {
      emit(versionInfo(), 0);
      return;
    }
    Object.assign(fields, { verb: env.verb, container: env.containerId || undefined, ifName: env.ifName || undefined });

    const raw = decodeConfig(readStdin());
    if (typeof raw['cniVersion'] === 'string') requested = raw['cniVersion'];
    const early = peekLogSettings(raw);
    log.setOutput(early.logFile, early.logLevel);
    checkAttachmentEnv(env);
    const { version, given } = requestedVersion(raw);
    const cniVersion = checkSupported(version, given);
    checkVerbAllowed(env.verb, cniVersion);
    fields['cniVersion'] = cniVersion;

    const conf = parseNetConf(raw, cniVersion, { strict: STRICT.has(env.verb) });
    for (const w of conf.warnings) log.warn(w, { verb: env.verb });

    let args: CniArgs | undefined;
    if (env.verb === 'ADD' || env.verb === 'DEL' || env.verb === 'CHECK') {
      try {
        args = parseCniArgs(env.args);
      } catch (e) {
        // DEL goes on with what the environment says: a runtime that sent bad args on ADD saw it fail.
        if (env.verb !== 'DEL') throw e;
        log.warn('ignoring CNI_ARGS on DEL', { error: e instanceof Error ? e.message : String(e) });
        args = NO_ARGS;
      }
      if (args.ignored.length > 0) log.debug('CNI_ARGS keys ignored (IgnoreUnknown)', { keys: args.ignored.join(',') });
    }
    const workload = args ? workloadOf(env, args, conf.defaultNamespace) : undefined;
    const attachment = args && workload ? attachmentOf(env, args, workload) : undefined;
    if (attachment) fields['pod'] = podKey(attachment);
    if (workload && !workload.kubernetesPod) fields['kubernetesPod'] = false;

    const command = await COMMANDS[env.verb]();
    const outcome = await command({ env, conf, raw, args, attachment, log, fields });
    log.info('cni call', { ...fields, durationMs: elapsedMs(started), outcome: outcome.outcome });
    log.close();
    emit(outcome.stdout, 0);
  } catch (e) {
    const err: CniError = toCniError(e);
    log.error('cni call', {
      ...fields,
      durationMs: elapsedMs(started),
      outcome: 'error',
      code: err.code,
      error: err.message,
      details: err.details,
    });
    log.close();
    emit(formatError(err, errorVersion(requested)), 1);
  }
}

void main();
