import { describe, expect, it } from 'vitest';

import { evidenceBucketTemplate } from '../../src/evidence/index.js';
import { CFN_LINT_TIMEOUT_MS, cfnLint } from '../deploy/cfn-lint.js';

describe('cfn-lint on the per-Region evidence bucket template', () => {
  it(
    'passes it, with the member accounts’ collection writes (options change only parameter defaults: test/evidence/bucket-template.test.ts)',
    async ({ signal }) => {
      const template = evidenceBucketTemplate({ retentionMode: 'COMPLIANCE', retentionDays: 2557, collectionOrganizationId: 'o-abcdefghij' });
      const lint = await cfnLint('evidence-bucket.json', template, signal);

      expect(lint.output).toBe('');
      expect(lint.status).toBe(0);
    },
    CFN_LINT_TIMEOUT_MS,
  );
});
