// End-to-end tests build sandboxes; the sandbox's setup sweeps those of killed runs first.
export { default } from '@hostnic/sandbox/global-setup';
