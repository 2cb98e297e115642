import { getObject, getString, isJsonObject } from './json.ts';
import type { JsonObject, JsonValue } from './json.ts';
import { resourceId } from './resources.ts';
import type { ResourceDef } from './resources.ts';

/**
 * The server-side printing kubectl asks for with `Accept: application/json;as=Table;g=meta.k8s.io;v=v1`:
 * the columns `kubectl get` shows (with `-o wide` for priority 1), computed per object here. Built-in kinds
 * get the columns of their real registries (a subset), custom resources their CRD's additionalPrinterColumns.
 */

export type CellType = 'string' | 'integer' | 'number' | 'boolean' | 'date';

export interface Column {
  readonly name: string;
  readonly type: CellType;
  /** 1: shown with `-o wide` only. */
  readonly priority?: 0 | 1;
  readonly description?: string;
  readonly cell: (obj: JsonObject, now: Date) => JsonValue;
}

/** apimachinery's HumanDuration: `45s`, `3m20s`, `2h5m`, `3d4h`, `400d`, `2y30d`. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  const both = (a: number, unitA: string, b: number, unitB: string): string => (b === 0 ? `${a}${unitA}` : `${a}${unitA}${b}${unitB}`);
  if (minutes < 10) return both(minutes, 'm', seconds % 60, 's');
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return both(hours, 'h', minutes % 60, 'm');
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return both(Math.floor(hours / 24), 'd', hours % 24, 'h');
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) return both(Math.floor(hours / 24 / 365), 'y', Math.floor(hours / 24) % 365, 'd');
  return `${Math.floor(hours / 24 / 365)}y`;
}

function since(timestamp: JsonValue | undefined, now: Date): string {
  if (typeof timestamp !== 'string') return '<unknown>';
  const at = Date.parse(timestamp);
  return Number.isNaN(at) ? '<invalid>' : humanDuration(now.getTime() - at);
}

const meta = (obj: JsonObject): JsonObject => getObject(obj, 'metadata') ?? {};
const spec = (obj: JsonObject): JsonObject => getObject(obj, 'spec') ?? {};
const status = (obj: JsonObject): JsonObject => getObject(obj, 'status') ?? {};
const count = (value: JsonValue | undefined): number => (Array.isArray(value) ? value.length : isJsonObject(value) ? Object.keys(value).length : 0);
const num = (value: JsonValue | undefined): number => (typeof value === 'number' ? value : 0);
const orNone = (value: string | undefined): string => (value === undefined || value === '' ? '<none>' : value);

const NAME: Column = { name: 'Name', type: 'string', description: 'Name must be unique within a namespace.', cell: (o) => getString(meta(o), 'name') ?? '' };
const AGE: Column = { name: 'Age', type: 'string', cell: (o, now) => since(meta(o)['creationTimestamp'], now) };
const CREATED_AT: Column = { name: 'Created At', type: 'date', cell: (o) => meta(o)['creationTimestamp'] ?? null };

function nodeStatus(obj: JsonObject): string {
  const conditions = status(obj)['conditions'];
  const ready = Array.isArray(conditions) ? conditions.find((c) => isJsonObject(c) && c['type'] === 'Ready') : undefined;
  const state = isJsonObject(ready) ? (ready['status'] === 'True' ? 'Ready' : 'NotReady') : 'Unknown';
  return spec(obj)['unschedulable'] === true ? `${state},SchedulingDisabled` : state;
}

function podReady(obj: JsonObject): string {
  const containers = spec(obj)['containers'];
  const statuses = status(obj)['containerStatuses'];
  const ready = Array.isArray(statuses) ? statuses.filter((s) => isJsonObject(s) && s['ready'] === true).length : 0;
  return `${ready}/${count(containers)}`;
}

function podRestarts(obj: JsonObject): number {
  const statuses = status(obj)['containerStatuses'];
  return Array.isArray(statuses) ? statuses.reduce<number>((sum, s) => sum + (isJsonObject(s) ? num(s['restartCount']) : 0), 0) : 0;
}

function roleRef(obj: JsonObject): string {
  const ref = getObject(obj, 'roleRef') ?? {};
  return `${getString(ref, 'kind') ?? ''}/${getString(ref, 'name') ?? ''}`;
}

function eventObject(obj: JsonObject): string {
  const involved = getObject(obj, 'involvedObject') ?? {};
  return `${(getString(involved, 'kind') ?? '').toLowerCase()}/${getString(involved, 'name') ?? ''}`;
}

/** Columns after Name, per built-in resource id. */
const BUILTIN_COLUMNS: Readonly<Record<string, readonly Column[]>> = {
  namespaces: [{ name: 'Status', type: 'string', cell: (o) => getString(status(o), 'phase') ?? '' }, AGE],
  nodes: [
    { name: 'Status', type: 'string', cell: nodeStatus },
    { name: 'Roles', type: 'string', cell: () => '<none>' },
    AGE,
    { name: 'Version', type: 'string', cell: (o) => getString(getObject(status(o), 'nodeInfo'), 'kubeletVersion') ?? '' },
    { name: 'Internal-IP', type: 'string', priority: 1, cell: (o) => {
      const addresses = status(o)['addresses'];
      const internal = Array.isArray(addresses) ? addresses.find((a) => isJsonObject(a) && a['type'] === 'InternalIP') : undefined;
      return isJsonObject(internal) ? orNone(getString(internal, 'address')) : '<none>';
    } },
  ],
  pods: [
    { name: 'Ready', type: 'string', cell: podReady },
    { name: 'Status', type: 'string', cell: (o) => (meta(o)['deletionTimestamp'] ? 'Terminating' : (getString(status(o), 'phase') ?? 'Pending')) },
    { name: 'Restarts', type: 'string', cell: (o) => String(podRestarts(o)) },
    AGE,
    { name: 'IP', type: 'string', priority: 1, cell: (o) => orNone(getString(status(o), 'podIP')) },
    { name: 'Node', type: 'string', priority: 1, cell: (o) => orNone(getString(spec(o), 'nodeName')) },
  ],
  configmaps: [{ name: 'Data', type: 'integer', cell: (o) => count(o['data']) + count(o['binaryData']) }, AGE],
  secrets: [
    { name: 'Type', type: 'string', cell: (o) => getString(o, 'type') ?? 'Opaque' },
    { name: 'Data', type: 'integer', cell: (o) => count(o['data']) },
    AGE,
  ],
  serviceaccounts: [{ name: 'Secrets', type: 'string', cell: (o) => String(count(o['secrets'])) }, AGE],
  services: [
    { name: 'Type', type: 'string', cell: (o) => getString(spec(o), 'type') ?? 'ClusterIP' },
    { name: 'Cluster-IP', type: 'string', cell: (o) => orNone(getString(spec(o), 'clusterIP')) },
    AGE,
  ],
  events: [
    { name: 'Last Seen', type: 'string', cell: (o, now) => since(o['lastTimestamp'] ?? o['eventTime'] ?? meta(o)['creationTimestamp'], now) },
    { name: 'Type', type: 'string', cell: (o) => getString(o, 'type') ?? '' },
    { name: 'Reason', type: 'string', cell: (o) => getString(o, 'reason') ?? '' },
    { name: 'Object', type: 'string', cell: eventObject },
    { name: 'Message', type: 'string', cell: (o) => (getString(o, 'message') ?? '').trim() },
  ],
  'leases.coordination.k8s.io': [{ name: 'Holder', type: 'string', cell: (o) => getString(spec(o), 'holderIdentity') ?? '' }, AGE],
  'clusterroles.rbac.authorization.k8s.io': [CREATED_AT],
  'roles.rbac.authorization.k8s.io': [CREATED_AT],
  'clusterrolebindings.rbac.authorization.k8s.io': [{ name: 'Role', type: 'string', cell: roleRef }, AGE],
  'rolebindings.rbac.authorization.k8s.io': [{ name: 'Role', type: 'string', cell: roleRef }, AGE],
  'customresourcedefinitions.apiextensions.k8s.io': [CREATED_AT],
  'daemonsets.apps': [
    { name: 'Desired', type: 'integer', cell: (o) => num(status(o)['desiredNumberScheduled']) },
    { name: 'Current', type: 'integer', cell: (o) => num(status(o)['currentNumberScheduled']) },
    { name: 'Ready', type: 'integer', cell: (o) => num(status(o)['numberReady']) },
    { name: 'Up-to-date', type: 'integer', cell: (o) => num(status(o)['updatedNumberScheduled']) },
    { name: 'Available', type: 'integer', cell: (o) => num(status(o)['numberAvailable']) },
    AGE,
  ],
  'deployments.apps': [
    { name: 'Ready', type: 'string', cell: (o) => `${num(status(o)['readyReplicas'])}/${num(spec(o)['replicas'] ?? 1)}` },
    { name: 'Up-to-date', type: 'integer', cell: (o) => num(status(o)['updatedReplicas']) },
    { name: 'Available', type: 'integer', cell: (o) => num(status(o)['availableReplicas']) },
    AGE,
  ],
};

/**
 * The simple JSONPath CRD columns use (`.status.ready`, `.spec.vxnets[0].name`, optionally in braces); a
 * missing step yields undefined.
 */
export function simpleJsonPath(obj: JsonObject, path: string): JsonValue | undefined {
  const inner = path.trim().replace(/^\{(.*)\}$/, '$1').replace(/^\$/, '');
  const steps = inner.split(/\.|(?=\[)/).filter((s) => s !== '');
  let current: JsonValue | undefined = obj;
  for (const step of steps) {
    const index = /^\[(\d+)\]$/.exec(step);
    if (index) current = Array.isArray(current) ? current[Number(index[1])] : undefined;
    else current = isJsonObject(current) ? current[step] : undefined;
    if (current === undefined) return undefined;
  }
  return current;
}

const CELL_TYPES: readonly CellType[] = ['string', 'integer', 'number', 'boolean', 'date'];

/** A CRD printer column's cell, typed the way the apiextensions table convertor types it. */
function crdCell(type: CellType, value: JsonValue | undefined, now: Date): JsonValue {
  if (value === undefined || value === null) return null;
  switch (type) {
    case 'date': return since(value, now);
    case 'integer': return typeof value === 'number' ? Math.trunc(value) : null;
    case 'number': return typeof value === 'number' ? value : null;
    case 'boolean': return typeof value === 'boolean' ? value : null;
    case 'string': return typeof value === 'string' ? value : JSON.stringify(value);
  }
}

/** The additionalPrinterColumns of one version of a CRD; a CRD without any gets Age, as the apiserver defaults. */
export function crdColumns(crd: JsonObject | undefined, version: string): Column[] {
  const versions = getObject(crd ?? {}, 'spec')?.['versions'];
  const entry = Array.isArray(versions) ? versions.find((v) => isJsonObject(v) && v['name'] === version) : undefined;
  const declared = isJsonObject(entry) && Array.isArray(entry['additionalPrinterColumns']) ? entry['additionalPrinterColumns'] : [];
  const columns: Column[] = [];
  for (const raw of declared) {
    if (!isJsonObject(raw)) continue;
    const name = getString(raw, 'name') ?? '';
    const jsonPath = getString(raw, 'jsonPath') ?? '';
    const type = CELL_TYPES.find((t) => t === raw['type']) ?? 'string';
    columns.push({
      name, type: type === 'date' ? 'string' : type, priority: raw['priority'] === 1 ? 1 : 0, description: getString(raw, 'description'),
      cell: (o, now) => crdCell(type, simpleJsonPath(o, jsonPath), now),
    });
  }
  return columns.length > 0 ? columns : [AGE];
}

/** The columns after Name for a resource; `crd` is the CustomResourceDefinition of a custom resource. */
export function columnsFor(def: ResourceDef, version: string, crd: JsonObject | undefined): readonly Column[] {
  if (def.custom) return crdColumns(crd, version);
  return BUILTIN_COLUMNS[resourceId(def)] ?? [CREATED_AT];
}

function partialMetadata(obj: JsonObject, includeObject: string): JsonValue {
  if (includeObject === 'None') return null;
  if (includeObject === 'Object') return obj;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: meta(obj) };
}

export interface TableRequest {
  readonly columns: readonly Column[];
  /** The `includeObject` query parameter: None, Object, or (default) PartialObjectMetadata. */
  readonly includeObject: string;
  readonly apiVersion: string;
  readonly now: Date;
}

/** A meta.k8s.io Table of one object (a get or a watch event) or of a list's items (keeping its list metadata). */
export function toTable(body: JsonObject, request: TableRequest): JsonObject {
  const isList = Array.isArray(body['items']);
  const objects = isList ? (body['items'] as JsonValue[]).filter(isJsonObject) : [body];
  const columns = [NAME, ...request.columns];
  const metadata: JsonObject = {};
  const listMeta = isList ? meta(body) : {};
  for (const key of ['resourceVersion', 'continue', 'remainingItemCount']) {
    const value = listMeta[key];
    if (value !== undefined) metadata[key] = value;
  }
  if (!isList) {
    const rv = getString(meta(body), 'resourceVersion');
    if (rv !== undefined) metadata['resourceVersion'] = rv;
  }
  return {
    kind: 'Table',
    apiVersion: request.apiVersion,
    metadata,
    columnDefinitions: columns.map((c) => ({
      name: c.name, type: c.type, format: c === NAME ? 'name' : '', description: c.description ?? '', priority: c.priority ?? 0,
    })),
    rows: objects.map((obj) => ({ cells: columns.map((c) => c.cell(obj, request.now)), object: partialMetadata(obj, request.includeObject) })),
  };
}

/**
 * The Table version the Accept header asks for (`meta.k8s.io/v1` or `/v1beta1`), when it asks for one before
 * any plain JSON; undefined means plain objects.
 */
export function tableVersionAccepted(accept: string | undefined): string | undefined {
  for (const range of (accept ?? '').split(',')) {
    const [type, ...params] = range.split(';').map((s) => s.trim());
    const p = new Map(params.map((kv) => {
      const [k, v] = kv.split('=');
      return [(k ?? '').trim(), (v ?? '').trim()] as const;
    }));
    if (type !== 'application/json' && type !== '*/*') continue;
    if (!p.has('as')) return undefined;
    if (p.get('as') === 'Table' && p.get('g') === 'meta.k8s.io' && (p.get('v') === 'v1' || p.get('v') === 'v1beta1')) return `meta.k8s.io/${p.get('v') ?? 'v1'}`;
  }
  return undefined;
}
