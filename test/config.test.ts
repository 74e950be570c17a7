import { describe, expect, it } from 'vitest';

import { ConfigError, loadConfig } from '../src/config.js';

describe('loadConfig', () => {
  it('defaults to plan-only automatic remediation against real AWS', () => {
    const config = loadConfig({});

    expect(config).toEqual({ aws: { region: 'us-east-1', maxAttempts: 5 }, automatic: 'plan', logLevel: 'info' });
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
  ])('rejects %s=%s naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});
