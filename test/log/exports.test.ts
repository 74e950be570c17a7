import { describe, expect, it } from 'vitest';

import * as log from '../../src/log/index.js';

describe('src/log/index.ts', () => {
  it('exports exactly the public surface (runtime values; types are checked by tsc)', () => {
    expect(Object.keys(log).sort()).toEqual(['JsonLogFormatter', 'MAX_LINES_PER_KIND', 'MemoryLogSink', 'PrettyLogFormatter', 'RiposteLogger', 'logCapped']);
  });
});
