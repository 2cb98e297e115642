/**
 * A test double of the two client-node APIs the Kubernetes store calls, with the API server's rules that
 * matter to it: resourceVersion on every write, 409 AlreadyExists / Conflict, 404, delete preconditions,
 * the IPPool status subresource, label selectors, paging. Errors are client-node `ApiException`s with a
 * Status body, as the real client throws them. Not a server: no HTTP, no watch.
 */
import { ApiException } from '@kubernetes/client-node';
import type { V1ConfigMap, V1DeleteOptions } from '@kubernetes/client-node';
import type { ClusterResourceRef, ConfigMapsClient, CustomObjectsClient } from '../src/stores/kubernetes/index.ts';

type Json = Record<string, unknown>;
type Meta = Json & { name?: string; resourceVersion?: string; uid?: string; labels?: Record<string, string> };

function status(code: number, reason: string, message: string): ApiException<string> {
  return new ApiException(code, message, JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, message, code }), {});
}

function copy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** What a fault does: answer with an HTTP status, fail like a broken connection, or apply and then fail. */
export type Fault = { readonly status: number } | { readonly network: true } | { readonly applyThenStatus: number };

export class KubeApiDouble {
  readonly #objects = new Map<string, Map<string, Json>>();
  #configMap: V1ConfigMap | undefined;
  #revision = 100;
  #uid = 0;
  readonly #faults: { method: string; fault: Fault; remaining: number }[] = [];
  /** Requests made, as `method name`. */
  readonly requests: string[] = [];
  /** Plurals with a status subresource. */
  readonly statusSubresource = new Set(['ippools']);

  /** Makes the next `times` calls of a method fail. */
  fail(method: string, fault: Fault, times = 1): void {
    this.#faults.push({ method, fault, remaining: times });
  }

  #rv(): string {
    return String(++this.#revision);
  }

  #of(plural: string): Map<string, Json> {
    let map = this.#objects.get(plural);
    if (map === undefined) this.#objects.set(plural, (map = new Map()));
    return map;
  }

  /** Stores an object as given (like the Go version writing it). */
  put(plural: string, object: Json): void {
    const meta = { ...(object.metadata as Meta), resourceVersion: this.#rv(), uid: `uid-${++this.#uid}` };
    this.#of(plural).set(String(meta.name), copy({ ...object, metadata: meta }));
  }

  /** The stored raw object. */
  raw(plural: string, name: string): Json | undefined {
    const found = this.#of(plural).get(name);
    return found === undefined ? undefined : copy(found);
  }

  async #run<T>(method: string, name: string, op: () => T): Promise<T> {
    this.requests.push(`${method} ${name}`);
    await Promise.resolve();
    const active = this.#faults.find((f) => f.method === method && f.remaining > 0);
    if (active !== undefined) {
      active.remaining--;
      const { fault } = active;
      if ('network' in fault) throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:6443') });
      if ('status' in fault) throw status(fault.status, fault.status === 429 ? 'TooManyRequests' : 'InternalError', 'injected');
      op();
      throw status(fault.applyThenStatus, 'Timeout', 'injected after apply');
    }
    return op();
  }

  readonly customObjects: CustomObjectsClient = {
    getClusterCustomObject: (p: ClusterResourceRef & { name: string }) =>
      this.#run('get', p.name, () => {
        const found = this.#of(p.plural).get(p.name);
        if (found === undefined) throw status(404, 'NotFound', `${p.plural} "${p.name}" not found`);
        return copy(found);
      }),

    listClusterCustomObject: (p: ClusterResourceRef & { labelSelector?: string; limit?: number; _continue?: string }) =>
      this.#run('list', p.plural, () => {
        let items = [...this.#of(p.plural).values()].sort((a, b) =>
          String((a.metadata as Meta).name) < String((b.metadata as Meta).name) ? -1 : 1,
        );
        if (p.labelSelector !== undefined) {
          const [key, value] = p.labelSelector.split('=');
          items = items.filter((o) => (o.metadata as Meta).labels?.[key ?? ''] === value);
        }
        if (p._continue !== undefined) items = items.filter((o) => String((o.metadata as Meta).name) > String(p._continue));
        const page = p.limit === undefined ? items : items.slice(0, p.limit);
        const more = page.length < items.length;
        const last = page.at(-1);
        return {
          apiVersion: 'network.qingcloud.com/v1alpha1',
          kind: 'List',
          metadata: { resourceVersion: String(this.#revision), ...(more && last ? { continue: (last.metadata as Meta).name } : {}) },
          items: copy(page),
        };
      }),

    createClusterCustomObject: (p: ClusterResourceRef & { body: object }) =>
      this.#run('create', String(((p.body as Json).metadata as Meta | undefined)?.name), () => {
        const body = copy(p.body) as Json;
        const meta = body.metadata as Meta;
        if (meta.resourceVersion !== undefined) throw status(500, 'InternalError', 'resourceVersion should not be set on objects to be created');
        const map = this.#of(p.plural);
        if (map.has(String(meta.name))) throw status(409, 'AlreadyExists', `${p.plural} "${meta.name}" already exists`);
        if (this.statusSubresource.has(p.plural)) delete body.status;
        body.metadata = { ...meta, resourceVersion: this.#rv(), uid: `uid-${++this.#uid}`, creationTimestamp: '2025-03-03T08:01:02Z' };
        map.set(String(meta.name), body);
        return copy(body);
      }),

    replaceClusterCustomObject: (p: ClusterResourceRef & { name: string; body: object }) =>
      this.#run('replace', p.name, () => this.#replace(p, false)),

    replaceClusterCustomObjectStatus: (p: ClusterResourceRef & { name: string; body: object }) =>
      this.#run('replaceStatus', p.name, () => this.#replace(p, true)),

    deleteClusterCustomObject: (p: ClusterResourceRef & { name: string; body?: V1DeleteOptions }) =>
      this.#run('delete', p.name, () => {
        const map = this.#of(p.plural);
        const found = map.get(p.name);
        if (found === undefined) throw status(404, 'NotFound', `${p.plural} "${p.name}" not found`);
        const rv = p.body?.preconditions?.resourceVersion;
        const actual = (found.metadata as Meta).resourceVersion;
        if (rv !== undefined && rv !== actual) {
          throw status(409, 'Conflict', `Precondition failed: ResourceVersion in precondition: ${rv}, ResourceVersion in object meta: ${actual}`);
        }
        map.delete(p.name);
        return { kind: 'Status', status: 'Success' };
      }),
  };

  #replace(p: ClusterResourceRef & { name: string; body: object }, statusOnly: boolean): Json {
    const map = this.#of(p.plural);
    const found = map.get(p.name);
    if (found === undefined) throw status(404, 'NotFound', `${p.plural} "${p.name}" not found`);
    const body = copy(p.body) as Json;
    const meta = body.metadata as Meta;
    if (meta.resourceVersion === undefined) throw status(422, 'Invalid', 'metadata.resourceVersion: Invalid value: 0x0: must be specified for an update');
    if (meta.resourceVersion !== (found.metadata as Meta).resourceVersion) {
      throw status(409, 'Conflict', `Operation cannot be fulfilled on ${p.plural} "${p.name}": the object has been modified`);
    }
    const kept = found.metadata as Meta;
    let next: Json;
    if (statusOnly) next = { ...found, status: body.status };
    else {
      next = { ...body, metadata: { ...meta, uid: kept.uid, creationTimestamp: kept.creationTimestamp } };
      if (this.statusSubresource.has(p.plural)) {
        if (found.status === undefined) delete next.status;
        else next.status = found.status;
      }
    }
    next.metadata = { ...(next.metadata as Meta), resourceVersion: this.#rv() };
    map.set(p.name, next);
    return copy(next);
  }

  readonly configMaps: ConfigMapsClient = {
    readNamespacedConfigMap: (p: { name: string; namespace: string }) =>
      this.#run('readConfigMap', p.name, () => {
        if (this.#configMap === undefined) throw status(404, 'NotFound', `configmaps "${p.name}" not found`);
        return copy(this.#configMap);
      }),
    createNamespacedConfigMap: (p: { namespace: string; body: V1ConfigMap }) =>
      this.#run('createConfigMap', String(p.body.metadata?.name), () => {
        if (this.#configMap !== undefined) throw status(409, 'AlreadyExists', 'configmaps already exists');
        this.#configMap = { ...copy(p.body), metadata: { ...p.body.metadata, namespace: p.namespace, resourceVersion: this.#rv() } };
        return copy(this.#configMap);
      }),
    replaceNamespacedConfigMap: (p: { name: string; namespace: string; body: V1ConfigMap }) =>
      this.#run('replaceConfigMap', p.name, () => {
        if (this.#configMap === undefined) throw status(404, 'NotFound', 'configmaps not found');
        if (p.body.metadata?.resourceVersion !== this.#configMap.metadata?.resourceVersion) throw status(409, 'Conflict', 'the object has been modified');
        this.#configMap = { ...copy(p.body), metadata: { ...p.body.metadata, resourceVersion: this.#rv() } };
        return copy(this.#configMap);
      }),
  };
}
