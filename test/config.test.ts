import { describe, expect, it } from 'vitest';

import { ConfigError, loadConfig } from '../src/config.js';

describe('loadConfig', () => {
  it('defaults to plan-only automatic remediation against real AWS', () => {
    const config = loadConfig({});

    expect(config).toEqual({
      aws: { region: 'us-east-1', maxAttempts: 5 },
      automatic: 'plan',
      logLevel: 'info',
      run: {
        excludedAccounts: [],
        exemptTags: { 'riposte:exempt': 'true' },
        idempotencyWindowSeconds: 86_400,
        apiIdempotencyWindowSeconds: 300,
        concurrency: 8,
        maxResumes: 12,
      },
      resources: { memberRoleName: 'RiposteMemberRole' },
      // The API admits its own account only, as the deployed resource policy does by default.
      apiPrincipals: { accounts: [], arns: [] },
    });
  });

  it('reads the API principals, and names the variable when an entry is neither an account nor an IAM principal ARN', () => {
    expect(loadConfig({ RIPOSTE_API_PRINCIPALS: '111122223333, arn:aws:iam::999988887777:role/SecOpsResponder' }).apiPrincipals).toEqual({
      accounts: ['111122223333'],
      arns: ['arn:aws:iam::999988887777:role/SecOpsResponder'],
    });
    expect(() => loadConfig({ RIPOSTE_API_PRINCIPALS: 'arn:aws:iam::*:root' })).toThrow(
      'Invalid configuration: RIPOSTE_API_PRINCIPALS must be 12-digit account ids and IAM role, user or root ARNs, separated by commas',
    );
  });

  it('reads the run settings and the deployment resources', () => {
    const config = loadConfig({
      RIPOSTE_EXCLUDED_ACCOUNTS: '111111111111, 222222222222',
      RIPOSTE_EXEMPT_TAG: 'SecurityExempt=yes',
      RIPOSTE_IDEMPOTENCY_WINDOW_SECONDS: '3600',
      RIPOSTE_LEDGER_TABLE: 'riposte-ledger',
      RIPOSTE_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:riposte',
      RIPOSTE_EVENT_BUS: 'security',
      RIPOSTE_RESUME_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/riposte-resume',
      RIPOSTE_EXTERNAL_ID: 'x-1',
    });

    expect(config.run.excludedAccounts).toEqual(['111111111111', '222222222222']);
    expect(config.run.exemptTags).toEqual({ SecurityExempt: 'yes' });
    expect(config.run.idempotencyWindowSeconds).toBe(3600);
    expect(config.resources).toEqual({
      memberRoleName: 'RiposteMemberRole',
      ledgerTable: 'riposte-ledger',
      topicArn: 'arn:aws:sns:us-east-1:123456789012:riposte',
      eventBus: 'security',
      resumeQueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/riposte-resume',
      externalId: 'x-1',
    });
  });

  it('reads the endpoint override, region and mode', () => {
    const config = loadConfig({
      AWS_REGION: 'eu-west-1',
      RIPOSTE_AWS_ENDPOINT: 'http://127.0.0.1:5000',
      RIPOSTE_AUTOMATIC: 'enforce',
      RIPOSTE_MAX_ATTEMPTS: '3',
    });

    expect(config.aws).toEqual({ region: 'eu-west-1', endpoint: 'http://127.0.0.1:5000', maxAttempts: 3 });
    expect(config.automatic).toBe('enforce');
  });

  it('treats an empty endpoint as unset', () => {
    expect(loadConfig({ RIPOSTE_AWS_ENDPOINT: '' }).aws.endpoint).toBeUndefined();
  });

  it.each([
    ['RIPOSTE_AUTOMATIC', 'yes'],
    ['RIPOSTE_AWS_ENDPOINT', 'not a url'],
    ['AWS_REGION', 'moon'],
    ['RIPOSTE_MAX_ATTEMPTS', '0'],
    ['RIPOSTE_EXCLUDED_ACCOUNTS', '1234,5678'],
    ['RIPOSTE_EXEMPT_TAG', 'no-value'],
    ['RIPOSTE_TOPIC_ARN', 'riposte-topic'],
    ['RIPOSTE_IDEMPOTENCY_WINDOW_SECONDS', '5'],
  ])('rejects %s=%s naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});
