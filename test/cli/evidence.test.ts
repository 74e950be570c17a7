import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { verifyEvidence } from '../../src/cli/evidence-command.js';
import { evidenceBucketTemplate } from '../../src/evidence/index.js';
import { FileNotFoundError } from '../../src/files.js';
import { riposte } from './run-cli.js';

/** A downloaded run: a manifest listing one object, its signature file (as KMS's DIGEST signature is), the public key, the object. */
function downloadedRun(): { directory: string; args: string[] } {
  const directory = mkdtempSync(join(tmpdir(), 'riposte-evidence-cli-'));
  const object = Buffer.from('{"data":{"InstanceId":"i-0abc"}}\n', 'utf8');
  const key = 'evidence/222222222222/i-0abc/r-1/instance.json';
  const manifest = Buffer.from(
    `${JSON.stringify({ schema: 'riposte.evidence-manifest/1', objects: [{ name: 'instance', key, sha256: createHash('sha256').update(object).digest('hex') }] }, null, 2)}\n`,
  );
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signature = {
    schema: 'riposte.evidence-signature/1',
    manifestSha256: createHash('sha256').update(manifest).digest('hex'),
    keyId: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    signingAlgorithm: 'ECDSA_SHA_256',
    messageType: 'DIGEST',
    signature: sign('sha256', manifest, { key: privateKey, dsaEncoding: 'der' }).toString('base64'),
    signedAt: '2026-12-05T00:00:00.000Z',
  };
  writeFileSync(join(directory, 'manifest.json'), manifest);
  writeFileSync(join(directory, 'manifest.json.sig'), JSON.stringify(signature));
  // What `aws kms get-public-key --query PublicKey --output text` prints: the DER's base64.
  writeFileSync(join(directory, 'key.b64'), `${publicKey.export({ format: 'der', type: 'spki' }).toString('base64')}\n`);
  mkdirSync(join(directory, 'objects'));
  writeFileSync(join(directory, 'objects', 'instance.json'), object);
  return {
    directory,
    args: ['--manifest', join(directory, 'manifest.json'), '--signature', join(directory, 'manifest.json.sig'), '--public-key', join(directory, 'key.b64')],
  };
}

describe('riposte evidence verify', () => {
  it('exits 0 for a manifest whose signature checks with the public key, and objects that match their digests', async () => {
    const { directory, args } = downloadedRun();

    const result = await riposte(['evidence', 'verify', ...args, '--objects', join(directory, 'objects')]);

    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('manifest signature valid: ECDSA_SHA_256 by arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab');
    expect(result.stdout).toContain('ok       evidence/222222222222/i-0abc/r-1/instance.json');
    expect(result.status).toBe(0);
  });

  it('exits 1 naming an object changed since the manifest, with a valid signature', async () => {
    const { directory, args } = downloadedRun();
    writeFileSync(join(directory, 'objects', 'instance.json'), '{"data":{}}\n');

    const result = await riposte(['evidence', 'verify', ...args, '--objects', join(directory, 'objects')]);

    expect(result.stdout).toMatch(/CHANGED {2}evidence\/222222222222\/i-0abc\/r-1\/instance\.json: sha256 [0-9a-f]{64}, the manifest records/);
    expect(result.stdout).toContain('evidence NOT verified');
    expect(result.status).toBe(1);
    const report = await verifyEvidence({ manifest: args[1] as string, signature: args[3] as string, publicKey: args[5] as string, objects: join(directory, 'objects') });
    expect(report).toMatchObject({ valid: false, signature: { valid: true } });
  });

  it('exits 2 for a public key that is not one; a missing manifest is a FileNotFoundError', async () => {
    const { directory, args } = downloadedRun();
    writeFileSync(join(directory, 'key.b64'), 'not a key\n');

    const badKey = await riposte(['evidence', 'verify', ...args]);
    expect(badKey.stderr).toContain('EvidenceVerificationInputError: the public key is neither PEM nor DER');
    expect(badKey.status).toBe(2);

    // A LocalFileError, which runCli answers with exit 2 (test/cli/program.test.ts).
    await expect(verifyEvidence({ manifest: join(directory, 'nope.json'), signature: args[3] as string, publicKey: args[5] as string })).rejects.toBeInstanceOf(FileNotFoundError);
  });
});

describe('riposte evidence template', () => {
  it('prints the per-Region evidence bucket template, with the defaults asked for, and refuses an unknown retention mode', async () => {
    const result = await riposte(['evidence', 'template', '--retention-mode', 'COMPLIANCE', '--retention-days', '2557']);

    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(evidenceBucketTemplate({ retentionMode: 'COMPLIANCE', retentionDays: 2557 }));
    const refused = await riposte(['evidence', 'template', '--retention-mode', 'FOREVER']);
    expect(refused.stderr).toContain('must be one of GOVERNANCE, COMPLIANCE');
    expect(refused.status).toBe(2);
  });
});
