export * from './errors.ts';
export * from './hostnic-json.ts';
export * from './identity.ts';
export * from './paths.ts';
export * from './cni-config.ts';
export * from './atomic.ts';
export * from './install-cni.ts';
