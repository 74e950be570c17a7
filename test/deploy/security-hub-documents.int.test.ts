import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { GetFindingsCommand, type AwsSecurityFinding } from '@aws-sdk/client-securityhub';

import { deployedBundleOptions } from '../../deploy/bundle-options.js';
import { emulatorEndpoint } from '../support/emulator.js';
import { asffFindingOf, emulatorSecurityHub, importFindings } from '../support/emulator-securityhub.js';
import { root } from './serverless-config.js';

/*
 * The functions' build reads each finding GetFindings answers as a JSON
 * document (deploy/esbuild-plugins.cjs, securityHubFindingsAsDocuments).
 * Read back from the emulator, every ASFF finding of the fixtures — GuardDuty,
 * CIS, open SSH, Riposte's notes, a batch — is the same through a function
 * bundle as through the SDK as published.
 */

const ENTRY = `import { GetFindingsCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';
export const readAll = async (endpoint) =>
  (await new SecurityHubClient({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } }).send(new GetFindingsCommand({ MaxResults: 100 }))).Findings;
`;

const FIXTURES = [
  'securityhub-imported-guardduty-ec2.json',
  'securityhub-imported-cis-password-policy.json',
  'securityhub-imported-open-ssh.json',
  'securityhub-imported-riposte-note.json',
  'securityhub-imported-guardduty-sample.json',
  'securityhub-custom-action.json',
];

let directory: string;
let readAll: (endpoint: string) => Promise<AwsSecurityFinding[] | undefined>;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'riposte-security-hub-documents-'));
  const bundle = join(directory, 'get-findings.js');
  await build({ ...deployedBundleOptions(root), stdin: { contents: ENTRY, resolveDir: root, loader: 'ts', sourcefile: 'get-findings.ts' }, outfile: bundle, logLevel: 'error' });
  ({ readAll } = createRequire(import.meta.url)(bundle) as { readAll: typeof readAll });
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

const byId = (findings: readonly AwsSecurityFinding[] | undefined): AwsSecurityFinding[] => [...(findings ?? [])].sort((a, b) => ((a.Id ?? '') < (b.Id ?? '') ? -1 : 1));

describe('GetFindings in the functions’ build: each finding read as a document', () => {
  it('answers every fixture finding exactly as the published SDK does, resources, details, compliance, network and notes included', async () => {
    const findings = FIXTURES.map((name) => asffFindingOf(name));
    await importFindings(findings);

    const typed = byId((await emulatorSecurityHub().send(new GetFindingsCommand({ MaxResults: 100 }))).Findings);
    const documents = byId(await readAll(emulatorEndpoint()));

    // Some fixtures are one finding at two moments (imported, then sent to a custom action): Security Hub keeps one.
    expect(typed).toHaveLength(new Set(findings.map((finding) => finding.Id)).size);
    expect(typed.length).toBeGreaterThanOrEqual(4);
    expect(typed.some((finding) => finding.Resources?.[0]?.Details !== undefined)).toBe(true);
    expect(JSON.parse(JSON.stringify(documents))).toEqual(JSON.parse(JSON.stringify(typed)));
  });
});
