import { describe, expect, it } from 'vitest';

import * as log from '../../../src/pipeline/log/index.js';

describe('src/pipeline/log/index.ts', () => {
  it('exports exactly the public surface (runtime values; types are checked by tsc)', () => {
    expect(Object.keys(log).sort()).toEqual(['LOG_LEVELS', 'LogLevel', 'MemoryRunLogger', 'consoleRunLogger', 'levelEnabled', 'powertoolsRunLogger', 'silentRunLogger', 'toLogAttributes', 'toLogValue']);
  });
});
