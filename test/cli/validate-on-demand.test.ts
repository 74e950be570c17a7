import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { riposte } from './run-cli.js';

const directory = mkdtempSync(join(tmpdir(), 'riposte-validate-on-demand-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('riposte validate --verbose, for on-demand playbooks', () => {
  it('prints what each API playbook’s match requires of a request, and whether it is the default', async () => {
    const file = join(directory, 'teams.yml');
    writeFileSync(
      file,
      `
- id: team-a-respond
  title: Team A
  triggers: { api: true }
  match: { product.id: guardduty, account: ["511111111111", "522222222222"], region: { not: [eu-west-1] } }
  steps:
    - ec2.enable-termination-protection: {}
- id: org-respond
  title: Organisation
  triggers: { api: { default: true } }
  match: { product.id: guardduty }
  steps:
    - ec2.enable-termination-protection: {}
- id: automatic-only
  title: Automatic
  triggers: { automatic: true }
  match: { product.id: guardduty, account: ["511111111111"] }
  steps:
    - notify: {}
`,
    );

    const result = await riposte(['validate', file, '--verbose']);

    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^team-a-respond \(.*teams\.yml:\d+\): api; 1 steps$/m);
    expect(result.stdout).toContain(
      '\n  on-demand: requires account in [511111111111, 522222222222] and not (region in [eu-west-1]) (a request carries only account, region, partition, resource.type, resource.id); not the default\n',
    );
    expect(result.stdout).toMatch(/^org-respond \(.*teams\.yml:\d+\): api \(default\); 1 steps$/m);
    expect(result.stdout).toContain(
      '\n  on-demand: requires nothing: it takes a request for any instance (a request carries only account, region, partition, resource.type, resource.id); the default, run when several take a request that names no playbook\n',
    );
    // A playbook the API cannot start says nothing of requests.
    expect(result.stdout.match(/on-demand:/g)).toHaveLength(2);
  });
});
