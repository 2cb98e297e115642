/**
 * The lean client behind the method names and parameter objects of client-node's `CustomObjectsApi` and
 * `CoreV1Api` (ConfigMaps), for libraries written against those shapes, e.g. the Kubernetes store of
 * @hostnic/ipam, which takes `{customObjects, configMaps}`. Only the calls such libraries use are here.
 */

import type { KubeClient } from './client.ts';
import type { KubeObject } from './objects.ts';
import { resourcePath } from './paths.ts';

export interface ClusterObjectRef {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
}

export interface DeletePreconditions {
  readonly preconditions?: { readonly resourceVersion?: string; readonly uid?: string } | undefined;
}

export interface CustomObjectsApi {
  getClusterCustomObject(param: ClusterObjectRef & { name: string }): Promise<unknown>;
  listClusterCustomObject(param: ClusterObjectRef & { labelSelector?: string; limit?: number; _continue?: string }): Promise<unknown>;
  createClusterCustomObject(param: ClusterObjectRef & { body: object }): Promise<unknown>;
  replaceClusterCustomObject(param: ClusterObjectRef & { name: string; body: object }): Promise<unknown>;
  replaceClusterCustomObjectStatus(param: ClusterObjectRef & { name: string; body: object }): Promise<unknown>;
  deleteClusterCustomObject(param: ClusterObjectRef & { name: string; body?: DeletePreconditions }): Promise<unknown>;
}

export interface ConfigMap extends KubeObject {
  data?: { [key: string]: string };
}

export interface ConfigMapsApi {
  readNamespacedConfigMap(param: { name: string; namespace: string }): Promise<ConfigMap>;
  createNamespacedConfigMap(param: { namespace: string; body: ConfigMap }): Promise<ConfigMap>;
  replaceNamespacedConfigMap(param: { name: string; namespace: string; body: ConfigMap }): Promise<ConfigMap>;
}

function clusterPath(ref: ClusterObjectRef, name?: string, subresource?: string): string {
  return resourcePath({ group: ref.group, version: ref.version, plural: ref.plural, name, subresource });
}

/** Cluster-scoped custom objects; failures are the client's (KubeApiError with `code` and `body`). */
export function customObjectsApi(client: KubeClient): CustomObjectsApi {
  return {
    getClusterCustomObject: (p) => client.get(clusterPath(p, p.name)),
    listClusterCustomObject: (p) => client.list(clusterPath(p), { labelSelector: p.labelSelector, limit: p.limit, continue: p._continue }),
    createClusterCustomObject: (p) => client.create(clusterPath(p), p.body),
    replaceClusterCustomObject: (p) => client.replace(clusterPath(p, p.name), p.body),
    replaceClusterCustomObjectStatus: (p) => client.replace(clusterPath(p, p.name, 'status'), p.body),
    deleteClusterCustomObject: (p) => client.delete(clusterPath(p, p.name), { preconditions: p.body?.preconditions }),
  };
}

function configMapPath(namespace: string, name?: string): string {
  return resourcePath({ version: 'v1', plural: 'configmaps', namespace, name });
}

export function configMapsApi(client: KubeClient): ConfigMapsApi {
  return {
    readNamespacedConfigMap: (p) => client.get(configMapPath(p.namespace, p.name)),
    createNamespacedConfigMap: (p) => client.create(configMapPath(p.namespace), p.body),
    replaceNamespacedConfigMap: (p) => client.replace(configMapPath(p.namespace, p.name), p.body),
  };
}
