import { describe, expect, it } from 'vitest';

import { riposte } from './run-cli.js';

describe('riposte (the program)', () => {
  it('prints the commands for --help and exits 0', async () => {
    const result = await riposte(['--help']);

    expect(result.status).toBe(0);
    for (const command of ['validate', 'intake', 'plan', 'patterns', 'runs', 'run', 'respond', 'rollback', 'test', 'reference', 'schema', 'roles', 'forwarders', 'demo'])
      expect(result.stdout).toMatch(new RegExp(`^ {2}${command}\\b`, 'm'));
  });

  it('exits 2 naming an unknown command, with the help after it', async () => {
    const result = await riposte(['valdiate']);

    expect(result.status).toBe(2);
    expect(result.stderr).toContain("error: unknown command 'valdiate'\n(Did you mean validate?)");
    expect(result.stderr).toContain('Usage: riposte');
  });

  it('writes a usage error quoting an option with an ESC sequence ("--x ESC[2J") as visible escapes', async () => {
    const result = await riposte(['intake', '--x\u001b[2J', 'event.json']);

    expect(result.status).toBe(2);
    expect(result.stderr).toContain("error: unknown option '--x\\u001b[2J'");
    expect(result.stderr).not.toContain('\u001b');
  });

  it('writes a typed error quoting a path with an ESC sequence ("playbooks ESC[2J") as one neutralised line, no stack', async () => {
    const result = await riposte(['validate', 'playbooks\u001b[2J']);

    expect(result.status).toBe(2);
    expect(result.stderr).toBe('FileNotFoundError: playbooks\\u001b[2J: no such file (ENOENT)\n');
  });
});
