/**
 * `@hostnic/ipam/testing`: tools to test code built on the IPAM, and stores built for it.
 *
 * @packageDocumentation
 */
export type { StoreContractCase } from './store-contract.ts';
export { storeContractCases } from './store-contract.ts';
