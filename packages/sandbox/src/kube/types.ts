import { clone } from './json.ts';
import type { JsonObject } from './json.ts';

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
  [key: string]: unknown;
}

/** Any Kubernetes object as the typed accessors hand it out; the rest of the object is left to the caller. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [key: string]: unknown;
}

/**
 * Stored objects are plain JSON (checked on the way in), so viewing a copy through the looser public
 * shape is sound; TypeScript cannot see that JSON values satisfy the optional typed fields.
 */
export function toKubeObject(obj: JsonObject): KubeObject {
  return clone(obj) as unknown as KubeObject;
}
