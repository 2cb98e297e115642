/** Where reconcilers report what happened and why (a Kubernetes EventRecorder in the daemon, a list in tests). */

export interface EventObjectRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name?: string; readonly namespace?: string; readonly uid?: string; readonly resourceVersion?: string };
}

export type EventType = 'Normal' | 'Warning';

export interface EventSink {
  event(object: EventObjectRef, type: EventType, reason: string, message: string): void;
}

/** The cluster-scoped VxNetPool `v-pool`, as the object most events are about. */
export function vxnetPoolRef(uid?: string): EventObjectRef {
  return { apiVersion: 'network.qingcloud.com/v1alpha1', kind: 'VxNetPool', metadata: { name: 'v-pool', ...(uid === undefined ? {} : { uid }) } };
}
