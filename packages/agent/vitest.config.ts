import { mergeConfig } from 'vitest/config';
import { shared } from '../../vitest.shared.ts';

// The agent's dataplane tests build sandboxes; the sandbox's own setup sweeps those of killed runs.
export default mergeConfig(shared, { test: { globalSetup: ['../sandbox/test/global-setup.ts'] } });
