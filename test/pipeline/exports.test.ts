import { describe, expect, it } from 'vitest';

import * as pipeline from '../../src/pipeline/index.js';

describe('src/pipeline/index.ts', () => {
  it('exports exactly the public surface (runtime values; types are checked by tsc)', () => {
    expect(Object.keys(pipeline).sort()).toEqual(
      [
        'AwsRunRecorder',
        'DEFAULT_PIPELINE_SETTINGS',
        'EXEMPTION_TAGS',
        'findingRecordStatus',
        'MemoryResumeQueue',
        'Pipeline',
        'PlaybookNotLoadedError',
        'ResourceBusyError',
        'RESULT_EVENT_DETAIL_TYPE',
        'RESULT_EVENT_SOURCE',
        'RESUME_REQUEST_KIND',
        'RollbackRefusedError',
        'RunNotResumableError',
        'RunUnknownError',
        'SqsResumeQueue',
        'StepTimedOutError',
        'StoredFindingInvalidError',
        'StoredTargetsInvalidError',
        'TargetNotResolvedError',
        'accountExemption',
        'assemblePipeline',
        'claimTarget',
        'decideMode',
        'findingSkip',
        'isOwnUpdate',
        'newCorrelationId',
        'newRunId',
        'ReplayTally',
        'shadowPlan',
        'primaryTarget',
        'readResumeRequests',
        'resolveTargets',
        'resourceExemption',
        'resourceKey',
        'restoreTargets',
        'resumeRequestSchema',
      ].sort(),
    );
  });
});
