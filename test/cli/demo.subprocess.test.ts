import { readdirSync, readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { riposteProcess } from './run-cli.js';

/**
 * The demo's one test, and its smoke test: `riposte demo` as a user starts
 * it. It starts its own moto_server and runs every story: the CIS story
 * through the pipeline, then both member accounts' problems through the
 * Lambda handlers, the rollback and the timeline; on a loaded 2-core
 * machine that takes up to a minute or two.
 */
const DEMO_TIMEOUT_MS = 240_000;

/** The command lines of the processes running now (from /proc; empty where there is none). */
function commandLines(): string[] {
  let names: string[];
  try {
    names = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    try {
      return [readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' ')];
    } catch {
      return [];
    }
  });
}

/** The lines of `text` from the one starting with `start`, the next `count`. */
function linesAfter(text: string, start: string, count: number): string {
  const lines = text.split('\n');
  const at = lines.findIndex((line) => line.startsWith(start));
  return at === -1 ? '' : lines.slice(at, at + count + 1).join('\n');
}

describe('riposte demo', () => {
  it(
    'runs against its own emulator: the CIS story, the mission through the Lambda handlers (findings batch, custom action, API over HTTP), before/after, rollback, timeline; leaves no emulator running',
    async ({ signal }) => {
      const result = await riposteProcess(['demo'], { signal });
      const out = result.stdout;

      expect(result.status, result.stderr).toBe(0);
      expect(out).toContain('Assumed arn:aws:sts::111122223333:assumed-role/RiposteMemberRole/riposte-demo');
      expect(out).toContain('Assumed arn:aws:sts::444455556666:assumed-role/RiposteMemberRole/riposte-demo');
      expect(out).toContain('matched    cis-password-policy');
      expect(out).toContain('matched    ec2-compromise-isolate');
      expect(out).toMatch(/web-prod-1 i-\S+: .*\n +in Auto Scaling group web-prod-asg and target group web-prod \(port 80\)/);
      expect(out).toContain('111122223333  alias/riposte-forensics and the RiposteForensicCollection instance profile, as the member template creates them');
      expect(out).toContain('999988887777  the forensics account (RIPOSTE_FORENSICS_ACCOUNT), no member');

      // The CIS story through the pipeline: a plan first (nothing changes), then enforced, verified, recorded, once.
      expect(out).toMatch(/run +cis-password-policy r-\S+ — succeeded \(plan: automatic remediation is plan-only/);
      expect(out).toContain('read back  length ≥ 8, requires number, reuse none, max age none (unchanged)');
      expect(out).toMatch(/run +cis-password-policy r-\S+ — succeeded \(enforce: automatic remediation is enforced/);
      expect(out).toContain('verify     iam.set-password-policy: compliant — password policy meets the CIS values');
      expect(out).toContain('outcome    fixed and verified');
      expect(out).toContain('read back  length ≥ 14, requires upper+lower+number+symbol, reuse 24, max age 90');
      expect(out).toMatch(/again +duplicate: already handled by run r-\S+ \(succeeded\)/);
      expect(out).toMatch(/ledger +run r-\S+: succeeded, 3 step records, outcome RESOLVED \(DynamoDB table/);
      expect(out).toMatch(/notification done: message \S+ to arn:aws:sns:us-east-1:123456789012:riposte-demo/);
      expect(out).toContain('2 "Riposte Remediation Result" events delivered through EventBridge to SQS');
      expect(out).toContain('note       done: note and workflow RESOLVED written on the finding (BatchUpdateFindings)');
      expect(out).toMatch(
        /finding +workflow RESOLVED, note by riposte: \[riposte run r-\S+ playbook cis-password-policy\] RESOLVED: iam\.set-password-policy changed MinimumPasswordLength 8→14.*\(read back from Security Hub\)/,
      );

      // The mission, through the Lambda handlers, enforced.
      expect(out).toContain('with RIPOSTE_AUTOMATIC=enforce: automatic remediation is enforced');
      expect(out).toContain('batch      0 messages handed back for redelivery');
      expect(out).toMatch(/run r-\S+ revoke-unrestricted-admin-ingress: succeeded \(enforce, automatic\) — fixed and verified/);
      expect(out).toMatch(/run r-\S+ ec2-compromise-isolate: succeeded \(enforce, automatic\) — fixed and verified: 9 steps changed something/);
      expect(out).toMatch(/run r-\S+ cis-password-policy: succeeded \(enforce, automatic\) — fixed and verified/);
      expect(out).toMatch(/run r-\S+ empty-default-security-group: succeeded — fixed and verified/);
      expect(out).toMatch(/answer +HTTP 202: run r-\S+ requested by arn:aws:sts::999988887777:assumed-role\/SecOpsResponder\/alice@example\.com/);
      expect(out).toMatch(/resume +the resume function took 1 message from the resume queue \(0 handed back\)/);
      expect(out).toMatch(/GET \/runs\/r-\S+: HTTP 200, succeeded — fixed and verified/);

      // Before and after, read back from the emulator.
      expect(linesAfter(out, '  444455556666 password policy', 2)).toMatch(
        /before +length ≥ 10, requires upper, reuse none, max age 365\n +after +length ≥ 14, requires upper\+lower\+number\+symbol, reuse 24, max age 90/,
      );
      expect(linesAfter(out, '  111122223333 bastion-legacy-sg', 2)).toMatch(
        /before +in tcp 22 from 0\.0\.0\.0\/0, ::\/0; in tcp 443 from 10\.40\.0\.0\/16; out all to 0\.0\.0\.0\/0\n +after +in tcp 443 from 10\.40\.0\.0\/16; out all to 0\.0\.0\.0\/0/,
      );
      expect(linesAfter(out, '  444455556666 default security group', 2)).toMatch(/before +in all from sg-\S+; in tcp 3389 from 0\.0\.0\.0\/0; out all to 0\.0\.0\.0\/0\n +after +no rules/);
      expect(out).toMatch(/web-prod-1 i-\S+ eni-\S+ groups\n +before +web \(sg-\S+\)\n +after +riposte-quarantine-ssm \(sg-\S+\)/);
      // The run's manifest, signed by the deployment's key, checked with the public key alone.
      expect(out).toMatch(/\n {2}manifest\.json signed by arn:aws:kms:us-east-1:\d{12}:key\/\S+ \(ECDSA_SHA_256\): verified with the public key alone\n/);
      expect(out).toMatch(/\n +manifest\.json\.sig +\d+ bytes +sha256 [0-9a-f]{64} +matches the run record\n/);
      expect(out).toMatch(/web-prod-1 i-\S+ eni-\S+ groups\n +before +admin \(sg-\S+\), web \(sg-\S+\)\n +after +riposte-quarantine-ssm \(sg-\S+\)/);
      // The quarantine lets out only HTTPS to the VPC's Systems Manager endpoints and S3's gateway endpoint.
      expect(out).toMatch(
        /web-prod-1 i-\S+ egress\n +before +admin: out all to 0\.0\.0\.0\/0\n +web: out all to 0\.0\.0\.0\/0\n +after +riposte-quarantine-ssm: out tcp 443 to (?=.*\S+\/32 \(ssm endpoint\))(?=.*\S+\/32 \(ssmmessages endpoint\))(?=.*\S+\/32 \(ec2messages endpoint\))(?=.*pl-\S+ \(S3 gateway endpoint\))/,
      );
      expect(out).toMatch(/web-prod-1 i-\S+ termination protection\n +before +off\n +after +on/);
      expect(out).toMatch(/web-prod-1 i-\S+ instance profile\n +before +arn:aws:iam::111122223333:instance-profile\/web-prod-instance-profile\n +after +none/);
      expect(out).toMatch(/snapshots\n +before +none\n +after +snap-\S+ of vol-\S+: .*riposte:run-id=r-\S+.*\n +snap-\S+ of vol-\S+: /);
      // Out of service beside the isolation: on Standby in its Auto Scaling group, out of its target group.
      expect(out).toMatch(/web-prod-1 i-\S+ Auto Scaling\n +before +web-prod-asg InService\n +after +web-prod-asg Standby/);
      expect(out).toMatch(/web-prod-1 i-\S+ target group\n +before +registered in web-prod on port 80\n +after +not registered in web-prod\n/);
      // What the forensics account can open, read as it reads it: the unencrypted snapshot, and the encrypted one's copy under the forensics key (not the original).
      const instanceId = /web-prod-1 (i-[0-9a-f]+):/.exec(out)?.[1];
      const shared = linesAfter(out, `  111122223333 web-prod-1 ${instanceId} shared with forensics account 999988887777`, 3);
      expect(shared).toMatch(/\n +before +none\n +after +snap-\S+ .*\n +snap-\S+ .*$/);
      expect(shared).toMatch(/snap-\S+ of vol-\S+, unencrypted, completed/);
      expect(shared).toMatch(/snap-\S+ copy of snap-\S+, encrypted under the forensics key alias\/riposte-forensics, completed/);
      // Collected from inside through Systems Manager, under the forensic profile, the record in the evidence bucket.
      expect(out).toMatch(
        /web-prod-1 i-\S+ collection from inside\n +before +none\n +after +ssm-[0-9a-f]{16}\.json: command \S+ Success under RiposteForensicCollection, no output written \(s3:\/\/riposte-demo-evidence\/evidence\/111122223333\/i-\S+\/r-\S+\/ssm-[0-9a-f]{16}\/\)/,
      );
      // The bastion's VPC has no Systems Manager endpoints: its quarantine lets nothing out.
      expect(out).toMatch(/bastion i-\S+ eni-\S+ groups\n +before +bastion-legacy-sg \(sg-\S+\)\n +after +riposte-quarantine-ssm \(sg-\S+\)/);
      expect(out).toMatch(/bastion i-\S+ egress\n +before +bastion-legacy-sg: out all to 0\.0\.0\.0\/0\n +after +riposte-quarantine-ssm: no egress/);
      expect(out).toMatch(/manifest\.json +\d+ bytes +sha256 [0-9a-f]{64} +matches the run record/);
      expect(out).not.toContain('DIFFERS from the run record');
      expect(out).toMatch(/EC2\.13\/finding\/\S+ \(GetFindings\)\n +workflow RESOLVED; note by riposte: \[riposte run r-\S+ playbook revoke-unrestricted-admin-ingress\] RESOLVED/);
      expect(out).toMatch(/EC2\.2\/finding\/\S+ \(GetFindings\)\n +workflow RESOLVED; note by riposte: \[riposte run r-\S+ playbook empty-default-security-group\] RESOLVED/);
      expect(out).toContain('SNS arn:aws:sns:us-east-1:123456789012:riposte-demo: 6 messages');
      expect(out).toContain('Riposte RESOLVED: ec2-compromise-isolate on HIGH finding in 111122223333');

      // The isolation rolled back: the instance as it was.
      expect(out).toMatch(/rollback +r-\S+ — succeeded: rolled back run r-\S+/);
      expect(out).toMatch(/groups\n +isolated +riposte-quarantine-ssm \(sg-\S+\)\n +restored +admin \(sg-\S+\), web \(sg-\S+\)/);
      expect(out).toMatch(/egress\n +isolated +riposte-quarantine-ssm: out tcp 443 to .*\n +restored +admin: out all to 0\.0\.0\.0\/0\n +web: out all to 0\.0\.0\.0\/0/);
      expect(out).toMatch(/instance profile\n +isolated +none\n +restored +arn:aws:iam::111122223333:instance-profile\/web-prod-instance-profile/);
      expect(out).toMatch(/termination protection\n +isolated +on\n +restored +off/);
      expect(out).toMatch(/Auto Scaling\n +isolated +web-prod-asg Standby\n +restored +web-prod-asg InService/);
      expect(out).toMatch(/target group\n +isolated +not registered in web-prod\n +restored +registered in web-prod on port 80/);
      expect(out).toMatch(/shared with forensics account 999988887777\n +isolated +snap-\S+ .*\n +snap-\S+ .*\n +restored +none/);
      expect(out).toContain('the instance is as it was before the isolation (groups, egress, termination protection, profile, Auto Scaling, target group, nothing shared); the evidence stays');

      // The isolation run's timeline, from the ledger.
      expect(out).toMatch(/Timeline of the isolation run \(riposte runs --id r-\S+\):\nrun +r-\S+: rolled-back\nplaybook +ec2-compromise-isolate/);
      expect(out).toMatch(/run +step 4 ec2\.isolate: changed — instance i-\S+ isolated/);
      expect(out).toMatch(/run +step 9 ssm\.collect-evidence: changed — collected from inside i-\S+ with command \S+ under the forensic profile, since removed/);
      expect(out).toMatch(/evidence evidence\/111122223333\/i-\S+\/r-\S+\/manifest\.json sha256 [0-9a-f]{64}/);
      expect(out).toMatch(/verify +step 4 ec2\.isolate: compliant/);
      expect(out).toMatch(/plan +step 9 ssm\.collect-evidence: changed — after isolation, through the VPC's Systems Manager endpoints/);
      expect(out).toMatch(/notification done: message \S+ to arn:aws:sns/);
      expect(out).toMatch(/outcome +rolled-back, workflow RESOLVED: rolled back by run r-\S+/);
      expect(out).toContain('Emulator stopped.');

      // Nothing left running: no process serves the port the demo's emulator had.
      const port = /Emulator at http:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1];
      expect(port).toBeDefined();
      expect(commandLines().filter((line) => /moto_server|moto_riposte\.py/.test(line) && line.includes(`-p ${port}`))).toEqual([]);
    },
    DEMO_TIMEOUT_MS,
  );
});
