/**
 * CNI spec versions: which ones the plugin speaks, which verbs each allows, and the version to put into an
 * error answer.
 */

import type { CniVersion } from '@hostnic/protocol';
import {
  LATEST_CNI_VERSION as LATEST_VERSION,
  SUPPORTED_CNI_VERSIONS as SUPPORTED_VERSIONS,
  isSupportedCniVersion as isSupportedVersion,
} from '@hostnic/protocol';

import { DecodeError, IncompatibleVersionError } from './errors.ts';

export type { CniVersion };

/** Numeric parts of `major.minor.patch`; undefined for anything else. */
export function parseVersion(v: string): [number, number, number] | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(v);
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

export function compareVersions(a: string, b: string): number {
  const pa = parseVersion(a) ?? [0, 0, 0];
  const pb = parseVersion(b) ?? [0, 0, 0];
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export function atLeast(v: string, min: string): boolean {
  return compareVersions(v, min) >= 0;
}

/** Results before 1.0.0 carry `version` ("4"/"6") in each `ips` entry. */
export function ipsCarryVersion(v: CniVersion): boolean {
  return !atLeast(v, '1.0.0');
}

/** The version of config stdin; an absent or empty cniVersion means 0.1.0, as in every CNI library. */
export function requestedVersion(raw: Record<string, unknown>): { version: string; given: boolean } {
  const v = raw['cniVersion'];
  if (v !== undefined && v !== null && typeof v !== 'string') {
    throw new DecodeError(
      `decoding version from network config: "cniVersion" is a ${typeof v}, not a string`,
      'write it as a string, e.g. "cniVersion": "1.0.0"',
    );
  }
  return typeof v === 'string' && v !== '' ? { version: v, given: true } : { version: '0.1.0', given: false };
}

const SUPPORTED_LIST = `[${SUPPORTED_VERSIONS.map((v) => `"${v}"`).join(' ')}]`;

/** Checks that the plugin speaks `v`; code 1 otherwise, with the fix in the details. */
export function checkSupported(v: string, given: boolean): CniVersion {
  if (isSupportedVersion(v)) return v;
  const what = given ? `config is "${v}"` : `config has no cniVersion (which means "0.1.0")`;
  throw new IncompatibleVersionError(
    'incompatible CNI versions',
    `${what}, plugin supports ${SUPPORTED_LIST}; set "cniVersion" of the network configuration to one of them (e.g. "1.0.0")`,
  );
}

/** Verbs that exist only from some spec version on. */
const VERB_MIN_VERSION: Record<string, CniVersion> = { CHECK: '0.4.0', GC: '1.1.0', STATUS: '1.1.0' };

export function checkVerbAllowed(verb: string, v: CniVersion): void {
  const min = VERB_MIN_VERSION[verb];
  if (min !== undefined && !atLeast(v, min)) {
    throw new IncompatibleVersionError(
      `config version does not allow ${verb}`,
      `${verb} exists from CNI ${min} on; the config is "${v}"`,
    );
  }
}

/**
 * The cniVersion of an error answer: CNI 1.x requires one; 0.x runtimes never saw the key, so it is left
 * out for them [compat]. A request for an unknown 1.x+ version gets the newest one we speak.
 */
export function errorVersion(requested: string | undefined): string | undefined {
  if (requested === undefined || parseVersion(requested) === undefined || !atLeast(requested, '1.0.0')) return undefined;
  return isSupportedVersion(requested) ? requested : LATEST_VERSION;
}

/** The VERSION answer: compact JSON and a newline, as the reference skel prints it. */
export function versionInfo(): string {
  return `${JSON.stringify({ cniVersion: LATEST_VERSION, supportedVersions: SUPPORTED_VERSIONS })}\n`;
}
