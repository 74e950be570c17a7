import { describe, expect, it } from 'vitest';

import * as guards from '../../../src/pipeline/guards/index.js';

describe('src/pipeline/guards/index.ts', () => {
  it('exports exactly the public surface (runtime values; types are checked by tsc)', () => {
    expect(Object.keys(guards).sort()).toEqual(['EXEMPTION_TAGS', 'GUARD_PERMISSIONS', 'ResourceTagsUnreadableError', 'TAGGED_RESOURCE_TYPES', 'accountExemption', 'readResourceTags', 'resourceExemption']);
  });
});
