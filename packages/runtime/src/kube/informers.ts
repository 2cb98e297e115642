import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import type { KubeConfig, KubernetesObject, V1ConfigMap, V1Namespace, V1Node, V1ObjectMeta, V1Pod } from '@kubernetes/client-node';
// Not re-exported by the package index; it is the serializer the typed APIs use on list responses.
import { ObjectSerializer } from '@kubernetes/client-node/dist/serializer.js';
import type { Logger } from '../log.ts';
import { MalformedObjectError } from './errors.ts';
import { Informer } from './informer.ts';
import type { Backoff, ListResult } from './informer.ts';
import { requestOptions } from './request-options.ts';

/** What every factory accepts on top of what identifies the resource. */
export interface InformerSettings {
  /** Default: the resource (`pods`, `configmap kube-system/hostnic`, `ippools.network.qingcloud.com`). */
  name?: string;
  labelSelector?: string;
  fieldSelector?: string;
  resyncMs?: number;
  backoff?: Backoff;
  /** A list that takes longer is abandoned and retried. Default 60 s. */
  listTimeoutMs?: number;
  log?: Logger;
}

/** A custom resource as served: unstructured apart from the metadata. */
export interface CustomObject extends KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: V1ObjectMeta;
  spec?: unknown;
  status?: unknown;
  [field: string]: unknown;
}

export interface CustomResource {
  group: string;
  version: string;
  plural: string;
}

const DEFAULT_LIST_TIMEOUT_MS = 60_000;

function deserializer<T>(type: string): (raw: unknown) => T {
  return (raw) => ObjectSerializer.deserialize(raw, type) as T;
}

function listCall(settings: InformerSettings, signal: AbortSignal) {
  return requestOptions({ signal, timeoutMs: settings.listTimeoutMs ?? DEFAULT_LIST_TIMEOUT_MS });
}

function selectors(settings: InformerSettings): { labelSelector?: string; fieldSelector?: string } {
  return { labelSelector: settings.labelSelector, fieldSelector: settings.fieldSelector };
}

export function namespaceInformer(kubeConfig: KubeConfig, settings: InformerSettings = {}): Informer<V1Namespace> {
  const api = kubeConfig.makeApiClient(CoreV1Api);
  return new Informer<V1Namespace>({
    ...settings,
    name: settings.name ?? 'namespaces',
    kubeConfig,
    path: '/api/v1/namespaces',
    list: (signal) => api.listNamespace(selectors(settings), listCall(settings, signal)),
    decode: deserializer<V1Namespace>('V1Namespace'),
  });
}

export function nodeInformer(kubeConfig: KubeConfig, settings: InformerSettings = {}): Informer<V1Node> {
  const api = kubeConfig.makeApiClient(CoreV1Api);
  return new Informer<V1Node>({
    ...settings,
    name: settings.name ?? 'nodes',
    kubeConfig,
    path: '/api/v1/nodes',
    list: (signal) => api.listNode(selectors(settings), listCall(settings, signal)),
    decode: deserializer<V1Node>('V1Node'),
  });
}

/** Pods of all namespaces (narrow with a field selector such as `spec.nodeName=...`). */
export function podInformer(kubeConfig: KubeConfig, settings: InformerSettings = {}): Informer<V1Pod> {
  const api = kubeConfig.makeApiClient(CoreV1Api);
  return new Informer<V1Pod>({
    ...settings,
    name: settings.name ?? 'pods',
    kubeConfig,
    path: '/api/v1/pods',
    list: (signal) => api.listPodForAllNamespaces(selectors(settings), listCall(settings, signal)),
    decode: deserializer<V1Pod>('V1Pod'),
  });
}

/** One ConfigMap, watched through a metadata.name field selector so that its siblings cost nothing. */
export function configMapInformer(
  kubeConfig: KubeConfig, namespace: string, name: string, settings: Omit<InformerSettings, 'fieldSelector'> = {},
): Informer<V1ConfigMap> {
  const api = kubeConfig.makeApiClient(CoreV1Api);
  const fieldSelector = `metadata.name=${name}`;
  return new Informer<V1ConfigMap>({
    ...settings,
    name: settings.name ?? `configmap ${namespace}/${name}`,
    kubeConfig,
    path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps`,
    fieldSelector,
    list: (signal) => api.listNamespacedConfigMap({ namespace, fieldSelector, labelSelector: settings.labelSelector }, listCall(settings, signal)),
    decode: deserializer<V1ConfigMap>('V1ConfigMap'),
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The default decoding of a custom object: checks the envelope and deserializes metadata as the typed
 * APIs do, so that creationTimestamp and friends are Dates here too.
 */
export function parseCustomObject(raw: unknown): CustomObject {
  if (!isRecord(raw)) throw new MalformedObjectError('custom object is not a JSON object');
  const metadata = raw['metadata'];
  if (!isRecord(metadata) || typeof metadata['name'] !== 'string') throw new MalformedObjectError('custom object without metadata.name');
  const { apiVersion, kind } = raw;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') {
    throw new MalformedObjectError(`custom object ${metadata['name']} without apiVersion or kind`);
  }
  return { ...raw, apiVersion, kind, metadata: ObjectSerializer.deserialize(metadata, 'V1ObjectMeta') as V1ObjectMeta };
}

function parseCustomList<T>(raw: unknown, parse: (raw: unknown) => T, resource: CustomResource): ListResult<T> {
  if (!isRecord(raw) || !Array.isArray(raw['items'])) {
    throw new MalformedObjectError(`list of ${resource.plural}.${resource.group} without items`);
  }
  const metadata = raw['metadata'];
  const resourceVersion = isRecord(metadata) && typeof metadata['resourceVersion'] === 'string' ? metadata['resourceVersion'] : undefined;
  const { apiVersion, kind } = raw;
  // List items of custom resources carry apiVersion and kind, but do not rely on every server doing so.
  const itemKind = typeof kind === 'string' && kind.endsWith('List') ? kind.slice(0, -'List'.length) : undefined;
  const items = raw['items'].map((item: unknown) => parse(isRecord(item) ? { apiVersion, kind: itemKind, ...item } : item));
  return { items, metadata: { resourceVersion } };
}

/**
 * A cluster-scoped custom resource. `parse` checks and types each object (list items and watch events);
 * without it objects are typed as {@link CustomObject}.
 */
export function customResourceInformer(kubeConfig: KubeConfig, resource: CustomResource, settings?: InformerSettings): Informer<CustomObject>;
export function customResourceInformer<T extends KubernetesObject>(
  kubeConfig: KubeConfig, resource: CustomResource, settings: InformerSettings & { parse: (raw: unknown) => T },
): Informer<T>;
export function customResourceInformer<T extends KubernetesObject>(
  kubeConfig: KubeConfig,
  resource: CustomResource,
  settings: InformerSettings & { parse?: (raw: unknown) => T } = {},
): Informer<T> {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  // Only the first overload omits parse, and it promises CustomObject, which is what this returns.
  const parse = settings.parse ?? (parseCustomObject as unknown as (raw: unknown) => T);
  const { group, version, plural } = resource;
  return new Informer<T>({
    ...settings,
    name: settings.name ?? `${plural}.${group}`,
    kubeConfig,
    path: `/apis/${group}/${version}/${plural}`,
    list: async (signal) => {
      const raw: unknown = await api.listClusterCustomObject({ group, version, plural, ...selectors(settings) }, listCall(settings, signal));
      return parseCustomList(raw, parse, resource);
    },
    decode: parse,
  });
}
