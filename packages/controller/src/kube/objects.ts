/**
 * The Kubernetes objects the controller reads and writes, as the apiserver's JSON (timestamps are strings):
 * only the fields it uses. The lean client hands objects back untyped; these say what the controller relies on.
 */
import type { KubeObject, ObjectMeta } from '@hostnic/runtime/kube/http';

export type { KubeObject, ObjectMeta };

export interface Pod extends KubeObject {
  spec?: { nodeName?: string; hostNetwork?: boolean };
  status?: { phase?: string; podIP?: string };
}

export interface Node extends KubeObject {
  spec?: { providerID?: string };
  status?: { addresses?: Array<{ type: string; address: string }> };
}

export interface Namespace extends KubeObject {
  status?: { phase?: string };
}

export interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

/** coordination.k8s.io/v1 LeaseSpec; the times are MicroTime text (see microTime in leader.ts). */
export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface Lease extends KubeObject {
  spec?: LeaseSpec;
}

export interface ObjectReference {
  apiVersion?: string;
  kind?: string;
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
}

/** core/v1 Event, as the recorder writes it. */
export interface CoreEvent extends KubeObject {
  involvedObject: ObjectReference;
  type: string;
  reason: string;
  message: string;
  source: { component: string; host?: string };
  reportingComponent: string;
  reportingInstance: string;
  firstTimestamp: string;
  lastTimestamp: string;
  count: number;
}

/** A custom resource's object (VxNetPool, IPPool, IPAMBlock) as the caches hold it: checked envelope, JSON body. */
export interface CustomObject extends KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: unknown;
  status?: unknown;
  [field: string]: unknown;
}
