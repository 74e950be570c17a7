import { describe, expect, it } from 'vitest';

import { ConfigError, loadConfig } from '../../src/config.js';
import { SIGNING_ALGORITHMS } from '../../src/evidence/index.js';

describe('loadConfig: evidence settings', () => {
  it('reads RIPOSTE_EVIDENCE_BUCKETS (region to bucket, JSON) beside RIPOSTE_EVIDENCE_BUCKET, and the signing key with ECDSA_SHA_256 by default', () => {
    const config = loadConfig({
      RIPOSTE_EVIDENCE_BUCKET: 'riposte-evidence-home',
      RIPOSTE_EVIDENCE_BUCKETS: '{"eu-west-1":"riposte-evidence-123456789012-eu-west-1","ap-southeast-2":"riposte-evidence-123456789012-ap-southeast-2"}',
      RIPOSTE_EVIDENCE_SIGNING_KEY: 'alias/riposte-prod-evidence-signing',
    });

    expect(config.resources).toMatchObject({
      evidenceBucket: 'riposte-evidence-home',
      evidenceBuckets: { 'eu-west-1': 'riposte-evidence-123456789012-eu-west-1', 'ap-southeast-2': 'riposte-evidence-123456789012-ap-southeast-2' },
      evidenceSigningKey: { keyId: 'alias/riposte-prod-evidence-signing', algorithm: 'ECDSA_SHA_256' },
    });
    expect(loadConfig({ RIPOSTE_EVIDENCE_BUCKETS: '', RIPOSTE_EVIDENCE_SIGNING_KEY: '' }).resources).not.toHaveProperty('evidenceBuckets');
  });

  it('reads RIPOSTE_FORENSICS_ACCOUNT as a 12-digit account id, empty as unset, and refuses anything else', () => {
    expect(loadConfig({ RIPOSTE_FORENSICS_ACCOUNT: '444455556666' }).resources.forensicsAccount).toBe('444455556666');
    expect(loadConfig({ RIPOSTE_FORENSICS_ACCOUNT: '' }).resources).not.toHaveProperty('forensicsAccount');
    expect(() => loadConfig({ RIPOSTE_FORENSICS_ACCOUNT: 'forensics' })).toThrow(/RIPOSTE_FORENSICS_ACCOUNT must be a 12-digit AWS account id/);
  });

  it('takes the algorithms the signer knows, and no other', () => {
    for (const algorithm of SIGNING_ALGORITHMS) {
      expect(loadConfig({ RIPOSTE_EVIDENCE_SIGNING_KEY: '1234abcd-12ab-34cd-56ef-1234567890ab', RIPOSTE_EVIDENCE_SIGNING_ALGORITHM: algorithm }).resources.evidenceSigningKey?.algorithm).toBe(
        algorithm,
      );
    }
    expect(() => loadConfig({ RIPOSTE_EVIDENCE_SIGNING_ALGORITHM: 'RSASSA_PKCS1_V1_5_SHA_256' })).toThrow(ConfigError);
  });

  it.each([
    ['not JSON', 'eu-west-1=bucket'],
    ['a list', '["riposte-evidence"]'],
    ['an unknown region', '{"eu-nowhere":"riposte-evidence"}'],
    ['an invalid bucket name', '{"eu-west-1":"Riposte_Evidence"}'],
  ])('refuses RIPOSTE_EVIDENCE_BUCKETS that is %s, naming the variable', (_, value) => {
    expect(() => loadConfig({ RIPOSTE_EVIDENCE_BUCKETS: value })).toThrow(expect.objectContaining({ name: 'ConfigError', context: { field: 'RIPOSTE_EVIDENCE_BUCKETS' } }));
  });
});
