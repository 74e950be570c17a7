import { describe, expect, it } from 'vitest';

import { riposte } from './run-cli.js';

describe('riposte (the program)', () => {
  it('prints the commands for --help and exits 0', async () => {
    const result = await riposte(['--help']);

    expect(result.status).toBe(0);
    for (const command of ['validate', 'intake', 'schema', 'roles', 'demo']) expect(result.stdout).toMatch(new RegExp(`^ {2}${command}\\b`, 'm'));
  });

  it('exits 1 naming an unknown command, with the help after it', async () => {
    const result = await riposte(['valdiate']);

    expect(result.status).toBe(1);
    expect(result.stderr).toContain("error: unknown command 'valdiate'\n(Did you mean validate?)");
    expect(result.stderr).toContain('Usage: riposte');
  });
});
