/**
 * What each kind of job does when it ends. Everything is derived from the job record (action + directive),
 * never from closures, so jobs restored from a snapshot finish exactly like jobs created by a call.
 */
import type { FakeStore } from './store.ts';
import type { HostEvent, JobRecord } from './types.ts';

export interface Directive {
  nics: string[];
  vips: string[];
  instance: string | undefined;
  securityGroup: string | undefined;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v: unknown): v is string => typeof v === 'string') : [];
}

export function parseDirective(job: JobRecord): Directive {
  let parsed: unknown;
  try {
    parsed = JSON.parse(job.directive);
  } catch {
    parsed = {};
  }
  const obj = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  return {
    nics: strings(obj['nics']),
    vips: strings(obj['vips']),
    instance: typeof obj['instance'] === 'string' ? obj['instance'] : undefined,
    securityGroup: typeof obj['security_group'] === 'string' ? obj['security_group'] : undefined,
  };
}

/** Host events to deliver (and await) before the job may become successful. */
export function hostEventsFor(job: JobRecord, store: FakeStore): HostEvent[] {
  const directive = parseDirective(job);
  const events: HostEvent[] = [];
  for (const nicId of directive.nics) {
    const nic = store.tables.nics.get(nicId);
    if (nic === undefined) continue;
    if (job.job_action === 'AttachNics' && directive.instance) {
      events.push({ event: 'nic-attached', nicId, instanceId: directive.instance, vxnetId: nic.vxnet_id });
    } else if (job.job_action === 'DetachNics') {
      events.push({ event: 'nic-detached', nicId, instanceId: nic.instance_id, vxnetId: nic.vxnet_id });
    }
  }
  return events;
}

function nextFreeSequence(store: FakeStore, instanceId: string): number {
  const used = new Set<number>();
  for (const nic of store.tables.nics.values()) if (nic.instance_id === instanceId) used.add(nic.sequence);
  let sequence = 1;
  while (used.has(sequence)) sequence++;
  return sequence;
}

export function applySuccess(job: JobRecord, store: FakeStore, nowIso: string): void {
  const directive = parseDirective(job);
  const t = store.tables;
  switch (job.job_action) {
    case 'AttachNics':
      for (const nicId of directive.nics) {
        const nic = t.nics.get(nicId);
        if (nic === undefined || directive.instance === undefined) continue;
        nic.status = 'in-use';
        nic.instance_id = directive.instance;
        nic.sequence = nextFreeSequence(store, directive.instance);
        nic.status_time = nowIso;
        if (nic.lock === job.job_id) nic.lock = null;
      }
      break;
    case 'DetachNics':
      for (const nicId of directive.nics) {
        const nic = t.nics.get(nicId);
        if (nic === undefined) continue;
        nic.status = 'available';
        nic.instance_id = '';
        nic.sequence = 0;
        nic.status_time = nowIso;
        if (nic.lock === job.job_id) nic.lock = null;
      }
      break;
    case 'AllocateVips':
      for (const vipId of directive.vips) {
        const vip = t.vips.get(vipId);
        if (vip === undefined) continue;
        vip.status = 'available';
        if (vip.lock === job.job_id) vip.lock = null;
      }
      break;
    case 'ReleaseVips':
      for (const vipId of directive.vips) t.vips.delete(vipId);
      break;
    case 'ApplySecurityGroup': {
      const group = directive.securityGroup === undefined ? undefined : t.securityGroups.get(directive.securityGroup);
      if (group) group.is_applied = 1;
      break;
    }
    default:
      break;
  }
}

export function applyFailure(job: JobRecord, store: FakeStore): void {
  const directive = parseDirective(job);
  const t = store.tables;
  for (const nicId of directive.nics) {
    const nic = t.nics.get(nicId);
    if (nic && nic.lock === job.job_id) nic.lock = null;
  }
  for (const vipId of directive.vips) {
    const vip = t.vips.get(vipId);
    if (vip === undefined || vip.lock !== job.job_id) continue;
    // A failed allocation gives its addresses back; a failed release leaves the VIP as it was.
    if (job.job_action === 'AllocateVips') t.vips.delete(vipId);
    else vip.lock = null;
  }
}
