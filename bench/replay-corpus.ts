import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { prng } from './workload.js';

/**
 * A month of findings as a shadow replay reads them: bare ASFF findings (as
 * GetFindings exports them) and whole events, one per NDJSON line, built from
 * the captured fixtures with their accounts, ids and resources varied, and a
 * share of them closed, archived or samples — so every guard of the replay
 * has cases to decide. Deterministic for a seed.
 */

const fixtures = join(import.meta.dirname, '..', 'test', 'fixtures', 'events');
const read = (name: string): Record<string, unknown> => JSON.parse(readFileSync(join(fixtures, name), 'utf8')) as Record<string, unknown>;

/** The fixtures the corpus varies: Security Hub (CIS, open SSH, GuardDuty through Security Hub, an unknown product), GuardDuty and Config events. */
const TEMPLATES = [
  { name: 'securityhub-imported-cis-password-policy.json', bare: true },
  { name: 'securityhub-imported-open-ssh.json', bare: true },
  { name: 'securityhub-imported-guardduty-ec2.json', bare: true },
  { name: 'securityhub-imported-unknown-product.json', bare: true },
  { name: 'guardduty-ec2-backdoor.json', bare: false },
  { name: 'guardduty-ec2-sample.json', bare: false },
  { name: 'config-compliance-restricted-ssh.json', bare: false },
] as const;

const MEMBER = '111122223333';

/** `count` NDJSON lines over `accounts` member accounts. */
export function replayCorpus(count: number, accounts = 50, seed = 7): string {
  const random = prng(seed);
  const templates = TEMPLATES.map((template) => ({ ...template, text: JSON.stringify(read(template.name)) }));
  const lines: string[] = [];
  for (let index = 0; index < count; index += 1) {
    const template = templates[Math.floor(random() * templates.length)] as (typeof templates)[number];
    const account = String(100000000000 + Math.floor(random() * accounts) * 7919).padStart(12, '0');
    const suffix = index.toString(16).padStart(8, '0');
    // Accounts and ids varied in the text, so every nested mention follows.
    const event = JSON.parse(template.text.replaceAll(MEMBER, account).replace(/i-0[0-9a-f]{16}/g, `i-0${suffix}${'0'.repeat(8)}`)) as {
      region: string;
      detail: { findings?: Array<Record<string, unknown>>; id?: string };
    };
    const roll = random();
    if (template.bare) {
      const finding = event.detail.findings?.[0] as Record<string, unknown>;
      finding.Id = `${String(finding.Id)}/${suffix}`;
      // GetFindings always answers Region (an ASFF required field); some captured events left it to the envelope.
      finding.Region ??= event.region;
      // One in ten is closed or archived: the replay skips it, as the pipeline would.
      if (roll < 0.05) finding.Workflow = { Status: 'RESOLVED' };
      else if (roll < 0.1) finding.RecordState = 'ARCHIVED';
      lines.push(JSON.stringify(finding));
    } else {
      if (event.detail.id !== undefined) event.detail.id = `${event.detail.id}-${suffix}`;
      lines.push(JSON.stringify(event));
    }
  }
  return `${lines.join('\n')}\n`;
}
