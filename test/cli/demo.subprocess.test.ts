import { describe, expect, it } from 'vitest';

import { riposteProcess } from './run-cli.js';

/**
 * The demo's one test, and its smoke test: `riposte demo` as a user starts
 * it. It starts its own moto_server and runs the CIS story through the
 * pipeline; on a loaded 2-core machine that takes up to a minute or two.
 */
const DEMO_TIMEOUT_MS = 240_000;

describe('riposte demo', () => {
  it(
    'runs against its own emulator: intake, matching with reasons, and the CIS story through the pipeline',
    async ({ signal }) => {
      const result = await riposteProcess(['demo'], { signal });

      expect(result.status, result.stderr).toBe(0);
      expect(result.stdout).toContain('Assumed arn:aws:sts::111122223333:assumed-role/RiposteMemberRole/riposte-demo');
      expect(result.stdout).toContain('matched    cis-password-policy');
      expect(result.stdout).toContain('matched    ec2-compromise-isolate');
      // The CIS story through the pipeline: a plan first (nothing changes), then enforced, verified, recorded, once.
      expect(result.stdout).toMatch(/run +cis-password-policy r-\S+ — succeeded \(plan: automatic remediation is plan-only/);
      expect(result.stdout).toContain('read back  minimum length 8, symbols not required, reuse prevention none, max age none (unchanged)');
      expect(result.stdout).toMatch(/run +cis-password-policy r-\S+ — succeeded \(enforce: automatic remediation is enforced/);
      expect(result.stdout).toContain('verify     iam.set-password-policy: compliant — password policy meets the CIS values');
      expect(result.stdout).toContain('outcome    fixed and verified');
      expect(result.stdout).toContain('read back  minimum length 14, symbols required, reuse prevention 24, max age 90');
      expect(result.stdout).toMatch(/again +duplicate: already handled by run r-\S+ \(succeeded\)/);
      expect(result.stdout).toMatch(/ledger +run r-\S+: succeeded, 3 step records, outcome RESOLVED \(DynamoDB table/);
      expect(result.stdout).toMatch(/notification done: message \S+ to arn:aws:sns:us-east-1:123456789012:riposte-demo/);
      expect(result.stdout).toContain('2 "Riposte Remediation Result" events delivered through EventBridge to SQS');
      // The emulator's launcher implements BatchUpdateFindings: the note and workflow land, and are read back.
      expect(result.stdout).toContain('note       done: note and workflow RESOLVED written on the finding (BatchUpdateFindings)');
      expect(result.stdout).toMatch(
        /finding +workflow RESOLVED, note by riposte: \[riposte run r-\S+ playbook cis-password-policy\] RESOLVED: iam\.set-password-policy changed MinimumPasswordLength 8→14.*\(read back from Security Hub\)/,
      );
      expect(result.stdout).toContain('Emulator stopped.');
    },
    DEMO_TIMEOUT_MS,
  );
});
