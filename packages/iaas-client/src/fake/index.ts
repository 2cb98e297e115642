export { startFakeQingCloud, DEFAULT_ACCESS_KEY } from './fake.ts';
export { clientFor } from './client-for.ts';
export type { AddedInstance, AddedSecurityGroup, FakeClockControl, FakeQingCloud } from './fake.ts';
export { DEFAULT_OWNER } from './state-io.ts';
export { FakeApiError, FakeInputError } from './errors.ts';
export { hostEventWire } from './control.ts';
export type { HostEventListener } from './host-events.ts';
export type { StoredRateLimitRule } from './rate-limit.ts';
export type * from './types.ts';
