import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { MAX_LISTED_REJECTIONS } from '../../src/cli/format.js';
import { MAX_EVENT_BYTES } from '../../src/intake/index.js';
import { fixture, fixtureText } from '../support/fixtures.js';
import { UNSAFE_TEXT } from '../support/unsafe-text.js';
import { riposte } from './run-cli.js';

const events = join('test', 'fixtures', 'events');

describe('riposte intake', () => {
  it('prints each finding of an event as a responder reads it', async () => {
    const result = await riposte(['intake', join(events, 'guardduty-ec2-backdoor.json')]);

    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('HIGH (80) Command and Control server domain name queried by EC2 instance i-0a1b2c3d4e5f60718.');
    expect(result.stdout).toContain('  from       GuardDuty via guardduty (guardduty), trigger automatic');
    expect(result.stdout).toContain('  where      account 111122223333, us-east-1 (aws)');
    expect(result.stdout).toMatch(/^ {2}resource {3}AwsEc2Instance \S+ \(i-0a1b2c3d4e5f60718/m);
  });

  it('with --json, prints the normalized findings and the rejections', async () => {
    const result = await riposte(['intake', '--json', join(events, 'securityhub-imported-open-ssh.json')]);

    expect(result.status).toBe(0);
    const printed = JSON.parse(result.stdout) as { findings: Array<{ source: string; account: string }>; rejected: unknown[] };
    expect(printed.findings).toHaveLength(1);
    expect(printed.findings[0]).toMatchObject({ source: 'securityhub', account: '111122223333' });
    expect(printed.rejected).toEqual([]);
  });

  it('reads standard input for "-"', async () => {
    const result = await riposte(['intake', '--json', '-'], fixtureText('guardduty-ec2-backdoor.json'));

    expect(result.status).toBe(0);
    expect((JSON.parse(result.stdout) as { findings: Array<{ source: string }> }).findings.map((finding) => finding.source)).toEqual(['guardduty']);
  });

  it('with --api, reads an on-demand request body as the named requester', async () => {
    const result = await riposte(['intake', '--api', '--requester', 'arn:aws:iam::999988887777:user/alice', '--json', join(events, 'api-request.json')]);

    expect(result.status).toBe(0);
    const [finding] = (JSON.parse(result.stdout) as { findings: Array<{ trigger: Record<string, unknown>; resources: Array<{ instanceId?: string }> }> }).findings;
    expect(finding?.resources[0]?.instanceId).toBe('i-0a1b2c3d4e5f60718');
    expect(JSON.stringify(finding?.trigger)).toContain('arn:aws:iam::999988887777:user/alice');
  });

  it('exits 2 and says REJECTED when a finding of the batch cannot be read, printing the others', async () => {
    const result = await riposte(['intake', join(events, 'securityhub-imported-batch-two.json')]);

    expect(result.status).toBe(2);
    expect(result.stdout).toMatch(/^REJECTED .*detail\.findings\[1\]\.AwsAccountId/m);
    expect(result.stdout).toContain('  id         arn:aws:inspector2:us-east-1:111122223333:finding/d256890c46554f6b1773e511f52e9851');
  });

  it('exits 2 with the intake error when the input is not an event Riposte reads', async () => {
    const result = await riposte(['intake', '-'], '{not json');

    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^MalformedEventError: .*is not valid JSON/);
  });

  it('exits 2 with the reason when the file cannot be read', async () => {
    const result = await riposte(['intake', join(events, 'no-such-event.json')]);

    expect(result.status).toBe(2);
    expect(result.stderr).toContain('ENOENT');
  });
});

describe('riposte intake, on crafted and hostile input', () => {
  const scratch = (): string => mkdtempSync(join(tmpdir(), 'riposte-intake-'));
  /** A stack trace's frames: none may reach the terminal for a refused input. */
  const STACK_FRAME = /^\s+at /m;

  it('refuses /dev/zero as a device (exit 2, NotARegularFileError, no stack trace), reading nothing of it', async () => {
    const result = await riposte(['intake', '/dev/zero']);

    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('NotARegularFileError: /dev/zero: is a character device, not a regular file: only regular files are read\n');
  });

  it('refuses a FIFO without waiting for a writer', async () => {
    const fifo = join(scratch(), 'event.json');
    execFileSync('mkfifo', [fifo], { timeout: 60_000 });

    const result = await riposte(['intake', fifo]);

    expect(result.status).toBe(2);
    expect(result.stderr).toBe(`NotARegularFileError: ${fifo}: is a FIFO (named pipe), not a regular file: only regular files are read\n`);
  });

  it('names a missing path with a typed error: FileNotFoundError "no such file"', async () => {
    const result = await riposte(['intake', join(events, 'no-such-event.json')]);

    expect(result.status).toBe(2);
    expect(result.stderr).toBe(`FileNotFoundError: ${join(events, 'no-such-event.json')}: no such file (ENOENT)\n`);
    expect(result.stderr).not.toMatch(STACK_FRAME);
  });

  it('stops reading standard input past 1 MiB (- fed 2 MiB of zero bytes)', async () => {
    const result = await riposte(['intake', '-'], '\0'.repeat(2 * 1024 * 1024));

    expect(result.status).toBe(2);
    expect(result.stderr).toBe('FileTooLargeError: standard input: is more than the 1048576-byte limit for an event\n');
  });

  it('refuses an event file over 1 MiB by its size, before reading it', async () => {
    const file = join(scratch(), 'huge.json');
    writeFileSync(file, ' '.repeat(1024 * 1024 + 1));

    const result = await riposte(['intake', file]);

    expect(result.status).toBe(2);
    expect(result.stderr).toBe(`FileTooLargeError: ${file}: is 1048577 bytes, over the 1048576-byte limit for an event file\n`);
  });

  it('reads an indented event file of 300 KB whose event, compact as EventBridge counts it, is under 256 KB', async () => {
    const event = fixture<{ detail: { findings: Array<{ Description: string }> } }>('securityhub-imported-open-ssh.json');
    const base = Buffer.byteLength(JSON.stringify(event));
    (event.detail.findings[0] as { Description: string }).Description = 'x'.repeat(250 * 1024 - base);
    // Indented by 40 spaces a level: the file is larger than 256 KB, the event is not.
    const text = JSON.stringify(event, null, ' '.repeat(10)).replace(/^( +)/gm, (indent) => indent.repeat(4));
    expect(Buffer.byteLength(text)).toBeGreaterThan(MAX_EVENT_BYTES);
    expect(Buffer.byteLength(JSON.stringify(event))).toBeLessThanOrEqual(MAX_EVENT_BYTES);
    const file = join(scratch(), 'indented.json');
    writeFileSync(file, text);

    const result = await riposte(['intake', '--json', file]);

    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect((JSON.parse(result.stdout) as { findings: unknown[] }).findings).toHaveLength(1);
  });

  it('lists the first 20 of 2,000 rejected empty findings and counts the rest; --json keeps every one', async () => {
    const event = fixture<{ detail: { findings: unknown[] } }>('securityhub-imported-open-ssh.json');
    event.detail.findings = Array.from({ length: 2_000 }, () => ({}));
    const file = join(scratch(), 'empty-findings.json');
    writeFileSync(file, JSON.stringify(event));

    const text = await riposte(['intake', file]);
    const json = await riposte(['intake', '--json', file]);

    expect(text.status).toBe(2);
    const rejectedLines = text.stdout.split('\n').filter((line) => line.startsWith('REJECTED '));
    expect(rejectedLines).toHaveLength(MAX_LISTED_REJECTIONS + 1);
    expect(rejectedLines[0]).toMatch(/detail\.findings\[0\]/);
    expect(rejectedLines.at(-1)).toBe('REJECTED … and 1980 more findings (--json lists every rejection)');
    expect(json.status).toBe(2);
    expect((JSON.parse(json.stdout) as { rejected: unknown[] }).rejected).toHaveLength(2_000);
  });

  it('prints a title with screen-clearing and window-title escapes, a newline and a bidi override as visible escapes on one line', async () => {
    const event = fixture<{ detail: { title: string; description: string } }>('guardduty-ec2-backdoor.json');
    event.detail.title = 'Benign\u001b[2J\u001b[H\u001b]0;owned\u0007\nFORGED  where      account 999999999999\u202egnp.exe\u009b31m';

    const result = await riposte(['intake', '-'], JSON.stringify(event));

    expect(result.status).toBe(0);
    expect(result.stdout).not.toMatch(UNSAFE_TEXT);
    expect(result.stdout).not.toMatch(/^FORGED/m);
    expect(result.stdout.split('\n')[0]).toBe('HIGH (80) Benign\\u001b[2J\\u001b[H\\u001b]0;owned\\u0007\\nFORGED  where      account 999999999999\\u202egnp.exe\\u009b31m');
  });

  it('prints an intake error quoting a hostile detail-type ("x ESC[2J newline FORGED") on one line', async () => {
    const event = fixture('securityhub-imported-open-ssh.json');
    event['detail-type'] = 'x\u001b[2J\nFORGED';

    const result = await riposte(['intake', '-'], JSON.stringify(event));

    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^UnsupportedEventError: aws\.securityhub: unsupported event "x\\u001b\[2J\\nFORGED"; Riposte consumes: /);
    expect(result.stderr).not.toContain('\u001b');
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});
