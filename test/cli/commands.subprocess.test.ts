import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { fixtureText } from '../support/fixtures.js';
import { riposteProcess } from './run-cli.js';

/*
 * One smoke test per command, as a user starts it (bin/riposte.js in a new
 * Node process): the wiring from the shell to the command — arguments,
 * standard input, output, exit code. What each command does is tested
 * in-process, through runCli (the *.test.ts files beside this one); the demo's
 * smoke test is demo.subprocess.test.ts.
 *
 * bin/riposte.js runs the compiled CLI (dist/cli, built by `npm ci` and by
 * `npm test` before the tests); its start is a figure of `npm run bench`
 * (cli-startup-*), never asserted here. The timeout only catches a hang.
 */
const SMOKE_TIMEOUT_MS = 120_000;

describe('riposte, started as a process', () => {
  it(
    'runs the compiled CLI, and answers an unknown command, even with --help, with exit 2 and a suggestion',
    async ({ signal }) => {
      const help = await riposteProcess(['--help'], { signal });
      expect(help.status).toBe(0);
      // The sources through tsx would say so on stderr: the compiled CLI says nothing.
      expect(help.stderr).toBe('');
      expect(help.stdout).toMatch(/^ {2}validate\b/m);

      for (const args of [['valdiate'], ['valdiate', '--help'], ['intake', '--no-such-option', 'event.json'], ['runs', '--since', 'yesterday']]) {
        const result = await riposteProcess(args, { signal });
        expect(result.status, args.join(' ')).toBe(2);
        expect(result.stderr, args.join(' ')).toMatch(
          /error: (unknown (command 'valdiate'\n\(Did you mean validate\?\)|option '--no-such-option')|option '--since <when>' argument 'yesterday' is invalid)/,
        );
      }
    },
    SMOKE_TIMEOUT_MS,
  );

  it(
    'validate: exits 0 on the default library',
    async ({ signal }) => {
      const result = await riposteProcess(['validate', 'playbooks'], { signal });

      expect(result.stderr).toBe('');
      expect(result.stdout).toBe('4 playbooks valid\n');
      expect(result.status).toBe(0);
    },
    SMOKE_TIMEOUT_MS,
  );

  it(
    'intake: reads an event from standard input',
    async ({ signal }) => {
      const result = await riposteProcess(['intake', '--json', '-'], { stdin: fixtureText('guardduty-ec2-backdoor.json'), signal });

      expect(result.status, result.stderr).toBe(0);
      expect((JSON.parse(result.stdout) as { findings: Array<{ source: string }> }).findings.map((finding) => finding.source)).toEqual(['guardduty']);
    },
    SMOKE_TIMEOUT_MS,
  );

  it(
    'schema: writes the JSON Schema to --output',
    async ({ signal }) => {
      const file = join(mkdtempSync(join(tmpdir(), 'riposte-schema-')), 'playbook.schema.json');

      const result = await riposteProcess(['schema', '--output', file], { signal });

      expect(result.status, result.stderr).toBe(0);
      expect(readFileSync(file, 'utf8')).toBe(readFileSync('playbook.schema.json', 'utf8'));
    },
    SMOKE_TIMEOUT_MS,
  );

  it(
    'roles: prints the member-account role template',
    async ({ signal }) => {
      const result = await riposteProcess(['roles'], { signal });

      expect(result.status, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ Resources: { RiposteMemberRole: { Type: 'AWS::IAM::Role' } } });
    },
    SMOKE_TIMEOUT_MS,
  );

  it(
    'plan: replays standard input, and exits 2 on a line that is not JSON',
    async ({ signal }) => {
      const event = JSON.stringify(JSON.parse(fixtureText('guardduty-ec2-backdoor.json')));
      const good = await riposteProcess(['plan', '--json', '--event', '-'], { stdin: `${event}\n`, signal });
      const bad = await riposteProcess(['plan', '--event', '-'], { stdin: `${event}\n{ not json\n`, signal });

      expect(good.status, good.stderr).toBe(0);
      expect((JSON.parse(good.stdout) as { summary: { playbooks: Array<{ playbook: string; act: number }> } }).summary.playbooks).toEqual([
        expect.objectContaining({ playbook: 'ec2-compromise-isolate', act: 1 }),
      ]);
      expect(bad.status).toBe(2);
      expect(bad.stdout).toContain('unreadable standard input:2: is not JSON');
    },
    SMOKE_TIMEOUT_MS,
  );

  it(
    'patterns, forwarders and test: exit 0 on the default library, 2 on a library that does not exist',
    async ({ signal }) => {
      for (const command of ['patterns', 'forwarders', 'test']) {
        const good = await riposteProcess([command, 'playbooks'], { signal });
        const missing = await riposteProcess([command, 'no-such-library'], { signal });

        expect(good.status, `${command}: ${good.stderr}`).toBe(0);
        expect(missing.status, command).toBe(2);
        expect(missing.stderr, command).toMatch(/no-such-library/);
      }
    },
    SMOKE_TIMEOUT_MS,
  );

  it(
    'runs, run, respond and rollback: bad input and usage exit 2 with one line, before any AWS call',
    async ({ signal }) => {
      const ledger = mkdtempSync(join(tmpdir(), 'riposte-ledger-'));
      const cases: Array<{ args: string[]; stderr: RegExp }> = [
        { args: ['runs', '--ledger', ledger, '--id', 'r-nosuch'], stderr: /r-nosuch/ },
        { args: ['run', '--event', 'no/such/event.json', '--ledger', ledger], stderr: /^FileNotFoundError: no\/such\/event\.json: no such file \(ENOENT\)\n$/ },
        { args: ['respond', '--instance', 'i-0123456789abcdef0', '--account', '111122223333'], stderr: /required option '--region <region>' not specified/ },
        { args: ['rollback', '--run', 'r-20261204T000000Z-000000000000', '--ledger', ledger], stderr: /^RunUnknownError: / },
      ];
      for (const { args, stderr } of cases) {
        const result = await riposteProcess(args, { signal });
        expect(result.status, args.join(' ')).toBe(2);
        expect(result.stderr, args.join(' ')).toMatch(stderr);
      }
    },
    SMOKE_TIMEOUT_MS,
  );

  it(
    'validate, intake, schema, roles and evidence: bad input exits 2 with one line and no stack trace',
    async ({ signal }) => {
      const cases: Array<{ args: string[]; stderr: RegExp }> = [
        { args: ['validate', 'no/such/playbooks'], stderr: /^FileNotFoundError: no\/such\/playbooks: no such file \(ENOENT\)\n$/ },
        { args: ['intake', 'no/such/event.json'], stderr: /^FileNotFoundError: no\/such\/event\.json: no such file \(ENOENT\)\n$/ },
        { args: ['schema', '--no-such-option'], stderr: /error: unknown option '--no-such-option'/ },
        { args: ['roles', 'no/such/playbooks'], stderr: /no\/such\/playbooks/ },
        { args: ['evidence', 'verify', '--manifest', 'no/such/manifest.json', '--signature', 'no/such/manifest.json.sig', '--public-key', 'no/such/key.pem'], stderr: /no\/such/ },
      ];
      for (const { args, stderr } of cases) {
        const result = await riposteProcess(args, { signal });
        expect(result.status, args.join(' ')).toBe(2);
        expect(result.stderr, args.join(' ')).toMatch(stderr);
        expect(result.stderr, args.join(' ')).not.toMatch(/^\s+at /m);
      }
    },
    SMOKE_TIMEOUT_MS,
  );

  it(
    "does not show the SDK's Node-version warning when a command creates AWS clients (plan --from-security-hub against a closed port)",
    async ({ signal }) => {
      const result = await riposteProcess(['plan', '--from-security-hub', '--endpoint', 'http://127.0.0.1:9', '--region', 'us-east-1'], { signal });

      expect(result.status).toBe(1);
      expect(result.stderr).not.toContain('NodeVersionSupportWarning');
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    },
    SMOKE_TIMEOUT_MS,
  );
});

describe('the compiled CLI (dist/cli, built by npm ci and npm test)', () => {
  it('keeps the SDK’s own credential chain (profiles, SSO, roles), not the deployed functions’ Lambda-only one', () => {
    const texts = readdirSync(join('dist', 'cli'))
      .filter((file) => file.endsWith('.mjs'))
      .map((file) => readFileSync(join('dist', 'cli', file), 'utf8'));

    expect(texts.some((text) => text.includes('@aws-sdk/credential-provider-ini'))).toBe(true);
    expect(texts.some((text) => text.includes('deploy/lambda-credential-provider.ts'))).toBe(false);
  });
});
