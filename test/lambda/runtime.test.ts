import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it, vi } from 'vitest';

import { ConfigError, loadConfig } from '../../src/config.js';
import { containerRuntime, createLambdaRuntime, MemoryMetricsSink, MetricCounts, PowertoolsMetricsSink, RiposteMetric, type LambdaRuntime } from '../../src/lambda/index.js';
import { MemoryLogSink, RiposteLogger } from '../../src/log/index.js';
import { PlaybookCompileError } from '../../src/playbooks/index.js';

const root = join(import.meta.dirname, '..', '..');
/** Nothing listens on port 9 (discard): a call that escaped would fail at once, never reach AWS. */
const base = {
  AWS_REGION: 'us-east-1',
  RIPOSTE_AWS_ENDPOINT: 'http://127.0.0.1:9',
  RIPOSTE_LEDGER_TABLE: 'riposte-ledger',
  RIPOSTE_RESUME_QUEUE_URL: 'http://127.0.0.1:9/123456789012/riposte-resume',
};
const quiet = { logger: new RiposteLogger({ logLevel: 'error', stream: new MemoryLogSink() }), metrics: new MemoryMetricsSink() };

const temporary: string[] = [];
afterEach(async () => {
  for (const directory of temporary.splice(0)) await rm(directory, { recursive: true, force: true });
});

describe('loadConfig: where the playbooks are', () => {
  it('reads RIPOSTE_PLAYBOOKS_DIR first, then LAMBDA_TASK_ROOT/playbooks, else leaves it to the caller', () => {
    expect(loadConfig({ RIPOSTE_PLAYBOOKS_DIR: '/opt/playbooks', LAMBDA_TASK_ROOT: '/var/task' }).playbooksDirectory).toBe('/opt/playbooks');
    expect(loadConfig({ LAMBDA_TASK_ROOT: '/var/task' }).playbooksDirectory).toBe('/var/task/playbooks');
    expect(loadConfig({}).playbooksDirectory).toBeUndefined();
  });
});

describe('createLambdaRuntime: the cold start', () => {
  it('compiles the packaged library found at LAMBDA_TASK_ROOT/playbooks, as the Lambda package lays it out', async () => {
    const runtime = await createLambdaRuntime({ environment: { ...base, LAMBDA_TASK_ROOT: root }, ...quiet });

    expect(runtime.playbooks.map((compiled) => compiled.playbook.id).sort()).toEqual([
      'cis-password-policy',
      'ec2-compromise-isolate',
      'empty-default-security-group',
      'revoke-unrestricted-admin-ingress',
    ]);
    expect(runtime.config.automatic).toBe('plan');
  });

  it('refuses a library with a broken playbook, naming its file', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'riposte-playbooks-'));
    temporary.push(directory);
    await writeFile(join(directory, 'broken.yml'), 'id: broken\ntitle: Broken\ntriggers: { automatic: true }\nsteps:\n  - ec2.no-such-action: {}\n');

    await expect(createLambdaRuntime({ environment: { ...base, RIPOSTE_PLAYBOOKS_DIR: directory }, ...quiet })).rejects.toThrow(PlaybookCompileError);
    await expect(createLambdaRuntime({ environment: { ...base, RIPOSTE_PLAYBOOKS_DIR: directory }, ...quiet })).rejects.toThrow(/broken\.yml/);
  });

  it('refuses a missing playbooks directory and a missing ledger table', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'riposte-task-'));
    temporary.push(directory);
    await mkdir(join(directory, 'code'));

    await expect(createLambdaRuntime({ environment: { ...base, LAMBDA_TASK_ROOT: directory }, ...quiet })).rejects.toThrow(/playbooks/);
    await expect(createLambdaRuntime({ environment: { ...base, RIPOSTE_LEDGER_TABLE: '', RIPOSTE_PLAYBOOKS_DIR: join(root, 'playbooks') }, ...quiet })).rejects.toThrow(ConfigError);
  });
});

describe('containerRuntime', () => {
  it('builds once for every invocation of a container, and again after a failed build', async () => {
    const built = { value: 1 } as unknown as LambdaRuntime;
    const build = vi.fn<() => Promise<LambdaRuntime>>().mockRejectedValueOnce(new Error('throttled')).mockResolvedValue(built);
    const runtime = containerRuntime(build);

    await expect(runtime()).rejects.toThrow('throttled');
    const [first, second] = await Promise.all([runtime(), runtime()]);

    expect(first).toBe(built);
    expect(second).toBe(built);
    expect(build).toHaveBeenCalledTimes(2);
  });
});

describe('PowertoolsMetricsSink', () => {
  it('prints the counts as CloudWatch EMF lines in namespace Riposte, one dimension each besides the service', () => {
    const lines: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      const counts = new MetricCounts();
      counts.add(RiposteMetric.Runs, 1, { name: 'outcome', value: 'succeeded' });
      counts.add(RiposteMetric.Runs, 1, { name: 'outcome', value: 'succeeded' });
      counts.add(RiposteMetric.LimitTrips);
      new PowertoolsMetricsSink().publish(counts.points());
    } finally {
      write.mockRestore();
    }

    const emf = lines
      .flatMap((line) => line.split('\n'))
      .filter((line) => line.includes('"_aws"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(emf).toHaveLength(2);
    expect(emf).toContainEqual(expect.objectContaining({ Runs: 2, outcome: 'succeeded', service: 'riposte' }));
    expect(emf).toContainEqual(expect.objectContaining({ LimitTrips: 1, service: 'riposte' }));
    for (const line of emf) expect((line._aws as { CloudWatchMetrics: Array<{ Namespace: string }> }).CloudWatchMetrics[0]?.Namespace).toBe('Riposte');
  });
});
