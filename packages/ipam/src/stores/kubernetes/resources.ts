/**
 * The hostnic CRDs as the Kubernetes API sees them, and the conversion between API objects and the IPAM's
 * objects: the IPAM keeps the whole `metadata` except `resourceVersion` (which travels as the version) and
 * `managedFields` (server bookkeeping), so a read-modify-write keeps finalizers, owner references, annotations.
 *
 * @packageDocumentation
 */
import type { IpamConfigData, Versioned } from '../../store.ts';
import type { StoreKind } from '../../store-errors.ts';
import { StoreIncompatibleError } from '../../store-errors.ts';
import { API_GROUP, API_VERSION } from '../../types.ts';

/** The custom resource kinds the store writes. */
export type CustomKind = 'IPPool' | 'IPAMBlock' | 'IPAMHandle';

/** API group, version and plural of a kind. */
export interface CustomResource {
  readonly group: string;
  readonly version: string;
  readonly plural: 'ippools' | 'ipamblocks' | 'ipamhandles';
}

const VERSION = API_VERSION.slice(API_GROUP.length + 1);

/** The resource of each kind (all cluster-scoped). */
export const RESOURCES: Readonly<Record<CustomKind, CustomResource>> = {
  IPPool: { group: API_GROUP, version: VERSION, plural: 'ippools' },
  IPAMBlock: { group: API_GROUP, version: VERSION, plural: 'ipamblocks' },
  IPAMHandle: { group: API_GROUP, version: VERSION, plural: 'ipamhandles' },
};

/** Metadata fields the server owns: never sent on create. */
const SERVER_FIELDS = [
  'resourceVersion',
  'uid',
  'creationTimestamp',
  'generation',
  'managedFields',
  'selfLink',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
] as const;

/** A JSON object. */
export type JsonObject = Record<string, unknown>;

/**
 * Whether a value is a plain JSON object.
 * @param value - anything
 */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function malformed(kind: StoreKind, detail: string): StoreIncompatibleError {
  return new StoreIncompatibleError('the Kubernetes API', `a ${kind} from the API is malformed: ${detail}`);
}

/**
 * An API object as an IPAM object and its version.
 * @param kind - the expected kind
 * @param raw - what the API returned
 * @throws {@link StoreIncompatibleError} when it lacks a name, a resourceVersion or a spec
 */
export function fromApiObject<T>(kind: CustomKind, raw: unknown): Versioned<T> {
  if (!isObject(raw) || !isObject(raw.metadata)) throw malformed(kind, 'no metadata');
  const { resourceVersion, managedFields: _managed, ...metadata } = raw.metadata;
  if (typeof metadata.name !== 'string') throw malformed(kind, 'no metadata.name');
  if (typeof resourceVersion !== 'string' || resourceVersion === '') throw malformed(kind, `${metadata.name} has no resourceVersion`);
  if (!isObject(raw.spec)) throw malformed(kind, `${metadata.name} has no spec`);
  const object: JsonObject = { metadata, spec: raw.spec };
  if (raw.status !== undefined) object.status = raw.status;
  return { object: object as T, version: resourceVersion };
}

/**
 * The API body of an IPAM object.
 * @param kind - the kind
 * @param object - the IPAM object (`metadata`, `spec`, maybe `status`)
 * @param resourceVersion - the version a replace must match; undefined for a create (server fields stripped)
 * @param withStatus - whether to send `status`
 */
export function toApiObject(
  kind: CustomKind,
  object: { readonly metadata: object; readonly spec: object; readonly status?: object | undefined },
  resourceVersion: string | undefined,
  withStatus = false,
): JsonObject {
  const metadata: JsonObject = { ...(object.metadata as JsonObject) };
  delete metadata.managedFields;
  if (resourceVersion === undefined) {
    for (const field of SERVER_FIELDS) delete metadata[field];
  } else {
    metadata.resourceVersion = resourceVersion;
  }
  const body: JsonObject = { apiVersion: API_VERSION, kind, metadata, spec: object.spec };
  if (withStatus && object.status !== undefined) body.status = object.status;
  return body;
}

/**
 * The `data` and version of a ConfigMap as returned by the API.
 * @param raw - the ConfigMap
 */
export function configMapData(raw: { readonly metadata?: { readonly resourceVersion?: string }; readonly data?: object }): Versioned<IpamConfigData> {
  const data: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw.data ?? {})) if (typeof value === 'string') data[key] = value;
  const version = raw.metadata?.resourceVersion;
  if (version === undefined || version === '') throw malformed('ConfigMap', 'no resourceVersion');
  return { object: data, version };
}

/**
 * JSON text with object keys sorted, for comparing what was sent with what is stored.
 * @param value - JSON data
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    isObject(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}
