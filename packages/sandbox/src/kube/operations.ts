import { crdSchema, defFromCrd, establishedStatus } from './crds.ts';
import { formatTime } from './ids.ts';
import type { IdSource } from './ids.ts';
import { clone, getNumber, getObject, getString, getStringArray, isJsonObject, jsonEqual, parseJson } from './json.ts';
import type { JsonObject, JsonValue } from './json.ts';
import { PatchError, applyJsonPatch, applyMergePatch } from './patch.ts';
import { CRD_GROUP, RBAC_GROUP, apiVersionOf, resourceId } from './resources.ts';
import type { ResourceDef, ResourceRegistry } from './resources.ts';
import { admit } from './schema.ts';
import type { Structural, WritePart } from './schema.ts';
import { isEmptySelection, parseFieldSelector, parseLabelSelector, selects } from './selectors.ts';
import type { Selection } from './selectors.ts';
import {
  ApiError, alreadyExists, badRequest, conflict, expired, forbidden, invalid, methodNotAllowed, notFound,
  successStatus, unsupportedMediaType,
} from './status.ts';
import type { StatusCause } from './status.ts';
import { applyStrategicMergePatch } from './strategic-patch.ts';
import { objectKey } from './store.ts';
import type { Store } from './store.ts';
import { validateCrd, validateObjectMeta, validatePod } from './validation.ts';

/** The object or collection a request addresses. */
export interface Target {
  readonly def: ResourceDef;
  readonly version: string;
  /** For namespaced resources; undefined means "all namespaces" (list and watch only). */
  readonly namespace: string | undefined;
  readonly name: string | undefined;
}

export interface ListQuery {
  readonly labelSelector?: string | undefined;
  readonly fieldSelector?: string | undefined;
  readonly limit?: number | undefined;
  readonly continue?: string | undefined;
  readonly resourceVersion?: string | undefined;
  readonly resourceVersionMatch?: string | undefined;
}

export interface DeleteOptions {
  readonly uid?: string | undefined;
  readonly resourceVersion?: string | undefined;
  readonly propagationPolicy?: string | undefined;
  readonly gracePeriodSeconds?: number | undefined;
}

export interface Outcome {
  readonly code: number;
  readonly body: JsonObject;
}

export interface OperationsOptions {
  readonly ids: IdSource;
  readonly clock: () => Date;
  readonly podGracefulDeletion: boolean;
  readonly garbageCollection: boolean;
  /** Called when a deleted CRD stops a kind from being served (its watches should end). */
  readonly onResourceRemoved?: (def: ResourceDef) => void;
}

/** Fields only the server writes; whatever a client sends for them is replaced. */
const SERVER_META = ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation'];

function meta(obj: JsonObject): JsonObject {
  return getObject(obj, 'metadata') ?? {};
}

function writableMeta(obj: JsonObject): JsonObject {
  const existing = obj['metadata'];
  if (isJsonObject(existing)) return existing;
  const created: JsonObject = {};
  obj['metadata'] = created;
  return created;
}

function finalizersOf(obj: JsonObject): string[] {
  return getStringArray(meta(obj), 'finalizers');
}

function nameOf(obj: JsonObject): string {
  return getString(meta(obj), 'name') ?? '';
}

function namespaceOf(obj: JsonObject): string | undefined {
  return getString(meta(obj), 'namespace');
}

function isNamespaces(def: ResourceDef): boolean {
  return def.group === '' && def.plural === 'namespaces';
}

function isCrds(def: ResourceDef): boolean {
  return def.group === CRD_GROUP && def.plural === 'customresourcedefinitions';
}

/** The object as a client of `version` sees it. Built-in list items carry no apiVersion/kind, as on the wire. */
export function present(def: ResourceDef, version: string, obj: JsonObject, inList = false): JsonObject {
  const out: JsonObject = { ...obj };
  if (inList && !def.custom) {
    delete out['apiVersion'];
    delete out['kind'];
  } else {
    out['apiVersion'] = apiVersionOf(def.group, version);
    out['kind'] = def.kind;
  }
  return out;
}

/** The part of an object whose change bumps metadata.generation. */
function specPart(def: ResourceDef, obj: JsonObject): JsonObject {
  const out: JsonObject = { ...obj };
  delete out['metadata'];
  delete out['apiVersion'];
  delete out['kind'];
  if (def.statusSubresource) delete out['status'];
  return out;
}

interface ContinueToken {
  rv: number;
  start: string;
}

function encodeContinue(token: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: 1, rv: token.rv, start: token.start })).toString('base64url');
}

function decodeContinue(text: string): ContinueToken {
  try {
    const value = parseJson(Buffer.from(text, 'base64url').toString('utf8'));
    if (isJsonObject(value) && typeof value['rv'] === 'number' && typeof value['start'] === 'string') {
      return { rv: value['rv'], start: value['start'] };
    }
  } catch {
    // fall through to the error below
  }
  throw badRequest(`continue key is not valid: ${text}`);
}

export function parseResourceVersion(text: string): number {
  if (!/^\d+$/.test(text)) throw badRequest(`invalid resource version: ${JSON.stringify(text)}`);
  return Number(text);
}

/**
 * The semantics of each verb on top of the store: defaulting, validation, optimistic concurrency, status
 * isolation, finalizers, namespace termination and owner-reference garbage collection. Every method runs
 * synchronously, so a request is atomic with respect to every other request.
 */
export class Operations {
  readonly #store: Store;
  readonly #registry: ResourceRegistry;
  readonly #opts: OperationsOptions;
  /** Propagation policies of deletions waiting for finalizers, applied when the object finally goes. */
  readonly #pendingPolicies = new Map<string, string>();
  /** Compiled schemas per stored CRD object; a CRD update stores a new object, so entries never go stale. */
  readonly #schemas = new WeakMap<JsonObject, Map<string, Structural | undefined>>();

  constructor(store: Store, registry: ResourceRegistry, options: OperationsOptions) {
    this.#store = store;
    this.#registry = registry;
    this.#opts = options;
  }

  #now(offsetSeconds = 0): string {
    return formatTime(new Date(this.#opts.clock().getTime() + offsetSeconds * 1000));
  }

  #key(def: ResourceDef, namespace: string | undefined, name: string): string {
    return objectKey(def.scope === 'Namespaced' ? namespace : undefined, name);
  }

  #existing(t: Target): { key: string; name: string; existing: JsonObject } {
    const name = t.name ?? '';
    const key = this.#key(t.def, t.namespace, name);
    const existing = this.#store.get(resourceId(t.def), key);
    if (!existing) throw notFound(t.def, name);
    return { key, name, existing };
  }

  selection(t: Target, q: ListQuery): Selection {
    return {
      namespace: t.def.scope === 'Namespaced' ? t.namespace : undefined,
      labels: parseLabelSelector(q.labelSelector),
      fields: parseFieldSelector(q.fieldSelector, t.def.selectableFields),
    };
  }

  get(t: Target): JsonObject {
    return present(t.def, t.version, this.#existing(t).existing);
  }

  list(t: Target, q: ListQuery): JsonObject {
    const { def } = t;
    const id = resourceId(def);
    const selection = this.selection(t, q);
    let rv = this.#store.currentRv();
    let start = '';
    let entries: [string, JsonObject][];
    if (q.continue) {
      ({ rv, start } = decodeContinue(q.continue));
      const snapshot = this.#store.snapshot(id, rv);
      if (!snapshot) {
        throw expired('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
      }
      entries = snapshot;
    } else if (q.resourceVersion && q.resourceVersionMatch === 'Exact') {
      rv = parseResourceVersion(q.resourceVersion);
      const snapshot = this.#store.snapshot(id, rv);
      if (!snapshot) throw expired(`too old resource version: ${rv} (${this.#store.oldestRv(id)})`);
      entries = snapshot;
    } else {
      entries = this.#store.entries(id);
    }
    const matching = entries.filter(([key, obj]) => key > start && selects(selection, obj));
    const limit = q.limit !== undefined && q.limit > 0 ? q.limit : matching.length;
    const page = matching.slice(0, limit);
    const listMeta: JsonObject = { resourceVersion: String(rv) };
    const last = page[page.length - 1];
    if (matching.length > page.length && last) {
      listMeta['continue'] = encodeContinue({ rv, start: last[0] });
      if (isEmptySelection(selection)) listMeta['remainingItemCount'] = matching.length - page.length;
    }
    return {
      kind: def.listKind,
      apiVersion: apiVersionOf(def.group, t.version),
      metadata: listMeta,
      items: page.map(([, obj]) => present(def, t.version, obj, true)),
    };
  }

  create(t: Target, body: JsonValue, dryRun: boolean): Outcome {
    const { def } = t;
    const obj = this.#decodeBody(def, t.version, body);
    const m = writableMeta(obj);
    if (def.scope === 'Namespaced') {
      if (!t.namespace) throw methodNotAllowed();
      const bodyNamespace = getString(m, 'namespace');
      if (bodyNamespace && bodyNamespace !== t.namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      m['namespace'] = t.namespace;
    } else {
      delete m['namespace'];
    }
    if (getString(m, 'resourceVersion')) throw badRequest('resourceVersion should not be set on objects to be created');
    for (const field of SERVER_META) delete m[field];
    delete m['selfLink'];
    delete m['managedFields'];
    let name = getString(m, 'name') ?? '';
    const generateName = getString(m, 'generateName') ?? '';
    if (name === '' && generateName !== '') {
      name = this.#generateName(def, t.namespace, generateName);
      m['name'] = name;
    }
    if (def.scope === 'Namespaced') this.#checkNamespaceAccepts(def, t.namespace ?? '', name || generateName);
    this.#prepareCreate(def, obj);
    normalize(def, obj);
    const admitted = this.#admitCustom(def, t.version, obj, 'all', undefined);
    const causes = [...this.#validate(def, admitted.object), ...admitted.causes];
    if (causes.length > 0) throw invalid(def, name, causes);
    const created = admitted.object;
    const key = this.#key(def, t.namespace, name);
    if (this.#store.get(resourceId(def), key)) throw alreadyExists(def, name);
    m['uid'] = this.#opts.ids.uid();
    m['creationTimestamp'] = this.#now();
    m['generation'] = 1;
    const stored = dryRun ? created : this.#store.put(resourceId(def), key, created);
    if (!dryRun) this.#afterWrite(def, stored);
    return { code: 201, body: present(def, t.version, stored) };
  }

  /** PUT on the object (`subresource` undefined) or on its status. */
  replace(t: Target, body: JsonValue, dryRun: boolean, subresource?: 'status'): Outcome {
    const { def } = t;
    const obj = this.#decodeBody(def, t.version, body);
    const m = writableMeta(obj);
    this.#checkIdentity(t, m);
    const { key, name, existing } = this.#existing(t);
    const rv = getString(m, 'resourceVersion') ?? '';
    if (rv === '') {
      if (!def.allowUnconditionalUpdate) {
        throw invalid(def, name, [{ reason: 'FieldValueInvalid', field: 'metadata.resourceVersion', message: 'Invalid value: 0x0: must be specified for an update' }]);
      }
    } else if (rv !== getString(meta(existing), 'resourceVersion')) {
      throw conflict(def, name);
    }
    this.#checkUid(def, name, m, existing);
    const next = subresource === 'status' ? withStatusOf(def, existing, obj) : this.#withServerFields(def, existing, obj);
    const part = writePart(def, subresource);
    return { code: 200, body: present(def, t.version, this.#commitUpdate(def, t.version, part, key, existing, next, dryRun)) };
  }

  patch(t: Target, contentType: string, text: string, dryRun: boolean, subresource?: 'status'): Outcome {
    const { def } = t;
    const { key, name, existing } = this.#existing(t);
    const mediaType = (contentType.split(';')[0] ?? '').trim().toLowerCase();
    let document: JsonValue;
    try {
      document = parseJson(text);
    } catch (error) {
      throw badRequest(`error decoding patch: ${error instanceof Error ? error.message : String(error)}`);
    }
    const current = present(def, t.version, existing);
    let patched: JsonValue;
    try {
      switch (mediaType) {
        case 'application/merge-patch+json':
          patched = applyMergePatch(current, document);
          break;
        case 'application/strategic-merge-patch+json': {
          // Custom resources have no Go struct tags to drive a strategic merge, so the apiserver refuses it.
          if (def.custom) throw unsupportedMediaType(mediaType);
          patched = applyStrategicMergePatch(current, document);
          break;
        }
        case 'application/json-patch+json':
          patched = applyJsonPatch(current, document);
          break;
        default:
          throw unsupportedMediaType(mediaType);
      }
    } catch (error) {
      if (error instanceof PatchError) {
        if (error.kind === 'malformed') throw badRequest(error.message);
        throw new ApiError(422, 'Invalid', error.message);
      }
      throw error;
    }
    if (!isJsonObject(patched)) throw badRequest('the patched object is not a JSON object');
    const obj = this.#decodeBody(def, t.version, patched);
    const m = writableMeta(obj);
    this.#checkIdentity(t, m);
    const rv = getString(m, 'resourceVersion');
    if (rv && rv !== getString(meta(existing), 'resourceVersion')) throw conflict(def, name);
    this.#checkUid(def, name, m, existing);
    const next = subresource === 'status' ? withStatusOf(def, existing, obj) : this.#withServerFields(def, existing, obj);
    const part = writePart(def, subresource);
    return { code: 200, body: present(def, t.version, this.#commitUpdate(def, t.version, part, key, existing, next, dryRun)) };
  }

  delete(t: Target, options: DeleteOptions, dryRun: boolean): Outcome {
    const { def } = t;
    const { key, name, existing } = this.#existing(t);
    const m = meta(existing);
    if (options.uid !== undefined && options.uid !== getString(m, 'uid')) {
      throw conflict(def, name, `Precondition failed: UID in precondition: ${options.uid}, UID in object meta: ${getString(m, 'uid') ?? ''}`);
    }
    if (options.resourceVersion !== undefined && options.resourceVersion !== getString(m, 'resourceVersion')) {
      throw conflict(def, name, `Precondition failed: ResourceVersion in precondition: ${options.resourceVersion}, ResourceVersion in object meta: ${getString(m, 'resourceVersion') ?? ''}`);
    }
    const result = this.#deleteObject(def, key, existing, options, dryRun);
    if (result.removed && !def.returnDeletedObject) {
      return { code: 200, body: successStatus(def, name, getString(m, 'uid')) };
    }
    return { code: 200, body: present(def, t.version, result.object) };
  }

  deleteCollection(t: Target, q: ListQuery, options: DeleteOptions, dryRun: boolean): Outcome {
    const { def } = t;
    const selection = this.selection(t, q);
    const id = resourceId(def);
    const items: JsonObject[] = [];
    for (const [key, obj] of this.#store.entries(id)) {
      if (!selects(selection, obj)) continue;
      const current = this.#store.get(id, key);
      if (!current) continue;
      items.push(present(def, t.version, this.#deleteObject(def, key, current, options, dryRun).object, true));
    }
    return {
      code: 200,
      body: {
        kind: def.listKind,
        apiVersion: apiVersionOf(def.group, t.version),
        metadata: { resourceVersion: String(this.#store.currentRv()) },
        items,
      },
    };
  }

  /** Test back door: stores `input` as given (no validation, no preconditions), keeping uid and creation time. */
  putDirect(def: ResourceDef, input: JsonObject): JsonObject {
    const obj = clone(input);
    obj['apiVersion'] = apiVersionOf(def.group, def.storageVersion);
    obj['kind'] = def.kind;
    const m = writableMeta(obj);
    const name = getString(m, 'name') ?? '';
    if (name === '') throw new Error('metadata.name is required');
    let namespace: string | undefined;
    if (def.scope === 'Namespaced') {
      namespace = getString(m, 'namespace') ?? 'default';
      m['namespace'] = namespace;
    } else {
      delete m['namespace'];
    }
    const key = this.#key(def, namespace, name);
    const existing = this.#store.get(resourceId(def), key);
    const old = existing ? meta(existing) : {};
    m['uid'] = getString(old, 'uid') ?? getString(m, 'uid') ?? this.#opts.ids.uid();
    m['creationTimestamp'] = getString(old, 'creationTimestamp') ?? getString(m, 'creationTimestamp') ?? this.#now();
    m['generation'] = getNumber(m, 'generation') ?? getNumber(old, 'generation') ?? 1;
    delete m['resourceVersion'];
    if (isCrds(def) && obj['status'] === undefined) obj['status'] = establishedStatus(obj, this.#now());
    const stored = this.#store.put(resourceId(def), key, obj);
    this.#afterWrite(def, stored);
    return stored;
  }

  /** Test back door: removes the object at once, finalizers notwithstanding. */
  removeDirect(def: ResourceDef, namespace: string | undefined, name: string): boolean {
    const key = this.#key(def, namespace, name);
    const existing = this.#store.get(resourceId(def), key);
    if (!existing) return false;
    this.#finalRemove(def, key, existing, undefined);
    return true;
  }

  #decodeBody(def: ResourceDef, version: string, body: JsonValue): JsonObject {
    if (!isJsonObject(body)) throw badRequest('the body of the request must be a JSON object');
    const expected = apiVersionOf(def.group, version);
    const apiVersion = getString(body, 'apiVersion');
    const kind = getString(body, 'kind');
    // Custom resources decode as unstructured objects, which cannot guess their type from the URL.
    if (def.custom && !kind) throw badRequest(`Object 'Kind' is missing in '${JSON.stringify(body).slice(0, 200)}'`);
    if (def.custom && !apiVersion) throw badRequest(`Object 'apiVersion' is missing in '${JSON.stringify(body).slice(0, 200)}'`);
    if (apiVersion && apiVersion !== expected) {
      throw badRequest(`the API version in the data (${apiVersion}) does not match the expected API version (${expected})`);
    }
    if (kind && kind !== def.kind) throw badRequest(`the kind in the data (${kind}) does not match the expected kind (${def.kind})`);
    if (body['metadata'] !== undefined && body['metadata'] !== null && !isJsonObject(body['metadata'])) {
      throw badRequest('metadata must be an object');
    }
    const obj = clone(body);
    obj['apiVersion'] = apiVersionOf(def.group, def.storageVersion);
    obj['kind'] = def.kind;
    writableMeta(obj);
    return obj;
  }

  #checkIdentity(t: Target, m: JsonObject): void {
    const bodyName = getString(m, 'name') ?? '';
    if (bodyName !== t.name) {
      throw badRequest(`the name of the object (${bodyName}) does not match the name on the URL (${t.name ?? ''})`);
    }
    if (t.def.scope === 'Namespaced') {
      const bodyNamespace = getString(m, 'namespace');
      if (bodyNamespace && bodyNamespace !== t.namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      m['namespace'] = t.namespace ?? '';
    } else {
      delete m['namespace'];
    }
  }

  #checkUid(def: ResourceDef, name: string, m: JsonObject, existing: JsonObject): void {
    const uid = getString(m, 'uid');
    const actual = getString(meta(existing), 'uid');
    if (uid && uid !== actual) {
      throw conflict(def, name, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${actual ?? ''}`);
    }
  }

  #generateName(def: ResourceDef, namespace: string | undefined, prefix: string): string {
    const base = prefix.slice(0, 58);
    for (let attempt = 0; attempt < 16; attempt++) {
      const candidate = base + this.#opts.ids.suffix();
      if (!this.#store.get(resourceId(def), this.#key(def, namespace, candidate))) return candidate;
    }
    throw alreadyExists(def, base);
  }

  #checkNamespaceAccepts(def: ResourceDef, namespace: string, name: string): void {
    const namespaces = this.#registry.byId('namespaces');
    if (!namespaces) return;
    const ns = this.#store.get('namespaces', namespace);
    if (!ns) throw notFound(namespaces, namespace);
    if (getString(meta(ns), 'deletionTimestamp')) {
      throw forbidden(def, name, `unable to create new content in namespace ${namespace} because it is being terminated`);
    }
  }

  /** What each registry's PrepareForCreate does for the kinds that have one. */
  #prepareCreate(def: ResourceDef, obj: JsonObject): void {
    if (def.custom) {
      if (def.statusSubresource) delete obj['status'];
      return;
    }
    if (isCrds(def)) {
      obj['status'] = establishedStatus(obj, this.#now());
      return;
    }
    if (def.group !== '') return;
    switch (def.plural) {
      case 'namespaces':
        obj['status'] = { phase: 'Active' };
        break;
      case 'pods': {
        const spec = getObject(obj, 'spec');
        if (spec) {
          spec['restartPolicy'] ??= 'Always';
          spec['terminationGracePeriodSeconds'] ??= 30;
          spec['dnsPolicy'] ??= 'ClusterFirst';
          spec['schedulerName'] ??= 'default-scheduler';
        }
        obj['status'] = { phase: 'Pending' };
        break;
      }
      case 'services':
        obj['status'] = { loadBalancer: {} };
        break;
    }
  }

  #validate(def: ResourceDef, obj: JsonObject): StatusCause[] {
    const causes = validateObjectMeta(obj, isNamespaces(def) ? 'label' : def.group === RBAC_GROUP ? 'path-segment' : 'subdomain');
    if (def.group === '' && def.plural === 'pods') causes.push(...validatePod(obj));
    if (isCrds(def)) causes.push(...validateCrd(obj));
    return causes;
  }

  /** The CRD's structural schema at work on a custom resource: pruned and defaulted object, schema violations. */
  #admitCustom(def: ResourceDef, version: string, obj: JsonObject, part: WritePart, old: JsonObject | undefined): { object: JsonObject; causes: StatusCause[] } {
    const schema = this.#schemaOf(def, version);
    return schema ? admit(obj, schema, part, old) : { object: obj, causes: [] };
  }

  #schemaOf(def: ResourceDef, version: string): Structural | undefined {
    if (!def.custom) return undefined;
    const crd = this.#store.get(`customresourcedefinitions.${CRD_GROUP}`, resourceId(def));
    if (!crd) return undefined;
    let byVersion = this.#schemas.get(crd);
    if (!byVersion) {
      byVersion = new Map();
      this.#schemas.set(crd, byVersion);
    }
    if (!byVersion.has(version)) byVersion.set(version, crdSchema(crd, version));
    return byVersion.get(version);
  }

  /** A main-resource write: the client owns everything but server metadata and, with a status subresource, status. */
  #withServerFields(def: ResourceDef, existing: JsonObject, obj: JsonObject): JsonObject {
    normalize(def, obj);
    const m = writableMeta(obj);
    const old = meta(existing);
    for (const field of SERVER_META) {
      const value = old[field];
      if (value === undefined) delete m[field];
      else m[field] = value;
    }
    delete m['selfLink'];
    delete m['managedFields'];
    if (def.statusSubresource) {
      const status = existing['status'];
      if (status === undefined) delete obj['status'];
      else obj['status'] = status;
    }
    return obj;
  }

  #commitUpdate(
    def: ResourceDef, version: string, part: WritePart, key: string, existing: JsonObject, proposed: JsonObject, dryRun: boolean,
  ): JsonObject {
    const admitted = this.#admitCustom(def, version, proposed, part, existing);
    const next = admitted.object;
    const old = meta(existing);
    const m = writableMeta(next);
    const name = nameOf(existing);
    if (getString(old, 'deletionTimestamp')) {
      const before = finalizersOf(existing);
      const added = finalizersOf(next).filter((f) => !before.includes(f));
      if (added.length > 0) {
        throw invalid(def, name, [{
          reason: 'FieldValueForbidden',
          field: 'metadata.finalizers',
          message: `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}`,
        }]);
      }
    }
    const causes = [...this.#validate(def, next), ...admitted.causes];
    if (causes.length > 0) throw invalid(def, name, causes);
    const generation = getNumber(old, 'generation') ?? 1;
    m['generation'] = jsonEqual(specPart(def, existing), specPart(def, next)) ? generation : generation + 1;
    m['resourceVersion'] = getString(old, 'resourceVersion') ?? '';
    // etcd skips writes that change nothing: no new resourceVersion, no watch event.
    if (jsonEqual(next, existing)) return existing;
    if (dryRun) return next;
    if (getString(old, 'deletionTimestamp') && finalizersOf(next).length === 0 && !this.#awaitingGrace(existing)) {
      return this.#finalRemove(def, key, next, undefined);
    }
    const stored = this.#store.put(resourceId(def), key, next);
    this.#afterWrite(def, stored);
    return stored;
  }

  /** A pod on a node being deleted gracefully waits for its kubelet's final DELETE. */
  #awaitingGrace(obj: JsonObject): boolean {
    return (getNumber(meta(obj), 'deletionGracePeriodSeconds') ?? 0) > 0;
  }

  #podGrace(def: ResourceDef, obj: JsonObject, options: DeleteOptions): number {
    if (!this.#opts.podGracefulDeletion || def.group !== '' || def.plural !== 'pods') return 0;
    const spec = getObject(obj, 'spec');
    if (!getString(spec, 'nodeName')) return 0;
    const phase = getString(getObject(obj, 'status'), 'phase');
    if (phase === 'Succeeded' || phase === 'Failed') return 0;
    return Math.max(0, options.gracePeriodSeconds ?? getNumber(spec, 'terminationGracePeriodSeconds') ?? 30);
  }

  #deleteObject(def: ResourceDef, key: string, existing: JsonObject, options: DeleteOptions, dryRun: boolean): { removed: boolean; object: JsonObject } {
    if (isNamespaces(def)) return this.#deleteNamespace(def, key, existing, dryRun);
    const id = resourceId(def);
    const m = meta(existing);
    if (getString(m, 'deletionTimestamp')) {
      // Already being deleted: only a kubelet's grace-0 DELETE of a pod changes anything.
      if (!this.#awaitingGrace(existing) || options.gracePeriodSeconds !== 0) return { removed: false, object: existing };
      if (dryRun) return { removed: finalizersOf(existing).length === 0, object: existing };
      if (finalizersOf(existing).length === 0) return { removed: true, object: this.#finalRemove(def, key, existing, undefined) };
      const next = clone(existing);
      writableMeta(next)['deletionGracePeriodSeconds'] = 0;
      return { removed: false, object: this.#store.put(id, key, next) };
    }
    const grace = this.#podGrace(def, existing, options);
    if (grace > 0 || finalizersOf(existing).length > 0) {
      const next = clone(existing);
      const nm = writableMeta(next);
      nm['deletionTimestamp'] = this.#now(grace);
      nm['deletionGracePeriodSeconds'] = grace;
      if (grace > 0) nm['generation'] = (getNumber(m, 'generation') ?? 1) + 1;
      if (dryRun) return { removed: false, object: next };
      const uid = getString(m, 'uid');
      if (uid && options.propagationPolicy) this.#pendingPolicies.set(uid, options.propagationPolicy);
      const stored = this.#store.put(id, key, next);
      this.#afterWrite(def, stored);
      return { removed: false, object: stored };
    }
    if (dryRun) return { removed: true, object: existing };
    return { removed: true, object: this.#finalRemove(def, key, existing, options.propagationPolicy) };
  }

  /** Namespaces terminate: they refuse new content, delete what they hold and go once empty. */
  #deleteNamespace(def: ResourceDef, key: string, existing: JsonObject, dryRun: boolean): { removed: boolean; object: JsonObject } {
    if (getString(meta(existing), 'deletionTimestamp')) return { removed: false, object: existing };
    const next = clone(existing);
    const nm = writableMeta(next);
    nm['deletionTimestamp'] = this.#now();
    nm['deletionGracePeriodSeconds'] = 0;
    next['status'] = { ...(getObject(next, 'status') ?? {}), phase: 'Terminating' };
    if (dryRun) return { removed: false, object: next };
    let last = this.#store.put(resourceId(def), key, next);
    for (const d of this.#registry.all()) {
      if (d.scope !== 'Namespaced') continue;
      const id = resourceId(d);
      for (const [k, obj] of this.#store.entries(id)) {
        const current = this.#store.get(id, k);
        if (namespaceOf(obj) === key && current) this.#deleteObject(d, k, current, {}, false);
      }
    }
    this.#maybeFinishNamespace(key);
    const now = this.#store.get(resourceId(def), key);
    if (now) return { removed: false, object: now };
    last = { ...last, status: { phase: 'Terminating' } };
    return { removed: true, object: last };
  }

  #maybeFinishNamespace(namespace: string): void {
    const namespaces = this.#registry.byId('namespaces');
    const ns = this.#store.get('namespaces', namespace);
    if (!namespaces || !ns || !getString(meta(ns), 'deletionTimestamp') || finalizersOf(ns).length > 0) return;
    for (const d of this.#registry.all()) {
      if (d.scope !== 'Namespaced') continue;
      if (this.#store.entries(resourceId(d)).some(([, obj]) => namespaceOf(obj) === namespace)) return;
    }
    this.#finalRemove(namespaces, namespace, ns, undefined);
  }

  #finalRemove(def: ResourceDef, key: string, last: JsonObject, policy: string | undefined): JsonObject {
    const stored = this.#store.remove(resourceId(def), key, last);
    if (!stored) return last;
    const uid = getString(meta(stored), 'uid');
    const effectivePolicy = policy ?? (uid ? this.#pendingPolicies.get(uid) : undefined);
    if (uid) this.#pendingPolicies.delete(uid);
    if (isCrds(def)) this.#unregisterCrd(stored);
    if (uid && this.#opts.garbageCollection) this.#collectDependents(uid, effectivePolicy === 'Orphan');
    const namespace = namespaceOf(stored);
    if (def.scope === 'Namespaced' && namespace) this.#maybeFinishNamespace(namespace);
    return stored;
  }

  /**
   * The garbage collector, run inline so tests need not wait: dependents whose every owner is gone are
   * deleted (Background and Foreground alike); dependents with a surviving owner, or orphaned ones, lose
   * the dangling reference.
   */
  #collectDependents(ownerUid: string, orphan: boolean): void {
    let live: Set<string> | undefined;
    for (const def of this.#registry.all()) {
      const id = resourceId(def);
      for (const [key] of this.#store.entries(id)) {
        const obj = this.#store.get(id, key);
        const refs = obj ? meta(obj)['ownerReferences'] : undefined;
        if (!obj || !Array.isArray(refs)) continue;
        if (!refs.some((r) => isJsonObject(r) && r['uid'] === ownerUid)) continue;
        const remaining = refs.filter((r) => !(isJsonObject(r) && r['uid'] === ownerUid));
        live ??= this.#liveUids();
        const liveSet = live;
        const solid = remaining.some((r) => isJsonObject(r) && typeof r['uid'] === 'string' && liveSet.has(r['uid']));
        if (orphan || solid) {
          const next = clone(obj);
          const nm = writableMeta(next);
          if (remaining.length > 0) nm['ownerReferences'] = remaining;
          else delete nm['ownerReferences'];
          this.#afterWrite(def, this.#store.put(id, key, next));
        } else {
          this.#deleteObject(def, key, obj, { propagationPolicy: 'Background' }, false);
        }
      }
    }
  }

  #liveUids(): Set<string> {
    const out = new Set<string>();
    for (const def of this.#registry.all()) {
      for (const [, obj] of this.#store.entries(resourceId(def))) {
        const uid = getString(meta(obj), 'uid');
        if (uid) out.add(uid);
      }
    }
    return out;
  }

  #afterWrite(def: ResourceDef, stored: JsonObject): void {
    if (isCrds(def)) this.#registry.add(defFromCrd(stored));
  }

  /** Deleting a CRD takes every object of its kind with it. */
  #unregisterCrd(crd: JsonObject): void {
    const def = defFromCrd(crd);
    const id = resourceId(def);
    for (const [key, obj] of this.#store.entries(id)) this.#finalRemove(def, key, obj, undefined);
    this.#registry.remove(id);
    this.#opts.onResourceRemoved?.(def);
  }
}

/** Write-time conversions the real registries do: a Secret's stringData lands base64-encoded in data. */
function normalize(def: ResourceDef, obj: JsonObject): void {
  if (def.group !== '' || def.plural !== 'secrets') return;
  const stringData = getObject(obj, 'stringData');
  if (stringData) {
    const data: JsonObject = { ...(getObject(obj, 'data') ?? {}) };
    for (const [key, value] of Object.entries(stringData)) {
      if (typeof value === 'string') data[key] = Buffer.from(value, 'utf8').toString('base64');
    }
    obj['data'] = data;
  }
  delete obj['stringData'];
}

/** What a write may change: a status write only status; a main write with a status subresource all but status. */
function writePart(def: ResourceDef, subresource: 'status' | undefined): WritePart {
  if (subresource === 'status') return 'status';
  return def.statusSubresource ? 'main' : 'all';
}

function withStatusOf(def: ResourceDef, existing: JsonObject, obj: JsonObject): JsonObject {
  const next = clone(existing);
  const status = obj['status'];
  if (status === undefined) delete next['status'];
  else next['status'] = status;
  // The apiserver's pod status strategy resets only the spec (and owner references), so labels and
  // annotations written through pods/status stick; Calico's CNI plugin relies on this for its podIP annotations.
  if (def.group === '' && def.plural === 'pods') {
    const from = getObject(obj, 'metadata');
    const to = getObject(next, 'metadata');
    if (from && to) {
      for (const key of ['labels', 'annotations']) {
        const value = from[key];
        if (value === undefined) delete to[key];
        else to[key] = clone(value);
      }
    }
  }
  return next;
}
