/** Request paths of Kubernetes resources (pure). */

/** Which resource, and optionally which object and subresource of it. */
export interface ResourceRef {
  /** Empty or absent for the core group (`/api/v1`). */
  readonly group?: string | undefined;
  readonly version: string;
  readonly plural: string;
  /** Absent for cluster-scoped resources, and for a list across every namespace. */
  readonly namespace?: string | undefined;
  readonly name?: string | undefined;
  /** `status`, `scale`, ... (needs `name`). */
  readonly subresource?: string | undefined;
}

/** `/api/v1/namespaces/kube-system/pods/x/status`, `/apis/network.qingcloud.com/v1alpha1/ippools`, ... */
export function resourcePath(ref: ResourceRef): string {
  const base = ref.group === undefined || ref.group === '' ? `/api/${ref.version}` : `/apis/${ref.group}/${ref.version}`;
  let path = base;
  if (ref.namespace !== undefined) path += `/namespaces/${encodeURIComponent(ref.namespace)}`;
  path += `/${ref.plural}`;
  if (ref.name !== undefined) path += `/${encodeURIComponent(ref.name)}`;
  if (ref.subresource !== undefined) {
    if (ref.name === undefined) throw new TypeError(`resourcePath: subresource "${ref.subresource}" needs a name`);
    path += `/${ref.subresource}`;
  }
  return path;
}

export type QueryValue = string | number | boolean | undefined;

/** `path?k=v&...`, leaving out undefined values. */
export function withQuery(path: string, query: Readonly<Record<string, QueryValue>> | undefined): string {
  if (query === undefined) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text === '' ? path : `${path}?${text}`;
}
