import { mergeConfig } from 'vitest/config';
import { shared } from '../../vitest.shared.ts';

export default mergeConfig(shared, {
  test: {
    // The tests run the bundled plugin, as kubelet would: build it first.
    globalSetup: ['test/global-setup.ts'],
  },
});
