import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { afterEach, describe, expect, it, vi } from 'vitest';

import { ConfigError, loadConfig, PACKAGED_PLAYBOOK_LIBRARY } from '../../src/config.js';
import { containerRuntime, createLambdaRuntime, MemoryMetricsSink, MetricCounts, PowertoolsMetricsSink, RiposteMetric, type LambdaRuntime } from '../../src/lambda/index.js';
import { MemoryLogSink, RiposteLogger } from '../../src/log/index.js';
import { compiledLibraryText, PlaybookCompileError, type CompiledPlaybook } from '../../src/playbooks/index.js';
import { compiledDefaultLibrary, compiledLibraryFile } from '../support/compiled-library.js';

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

describe('loadConfig: where the compiled playbook library is', () => {
  it('reads RIPOSTE_PLAYBOOK_LIBRARY first, then the place serverless package gives it under LAMBDA_TASK_ROOT, else leaves it unset', () => {
    expect(loadConfig({ RIPOSTE_PLAYBOOK_LIBRARY: '/opt/library.json', LAMBDA_TASK_ROOT: '/var/task' }).playbookLibrary).toBe('/opt/library.json');
    expect(loadConfig({ LAMBDA_TASK_ROOT: '/var/task' }).playbookLibrary).toBe(`/var/task/${PACKAGED_PLAYBOOK_LIBRARY}`);
    expect(loadConfig({}).playbookLibrary).toBeUndefined();
  });
});

describe('createLambdaRuntime: the cold start', () => {
  it('reads the compiled library found in the Lambda package, as serverless package lays it out', async () => {
    const task = await mkdtemp(join(tmpdir(), 'riposte-task-'));
    temporary.push(task);
    await mkdir(join(task, dirname(PACKAGED_PLAYBOOK_LIBRARY)), { recursive: true });
    await writeFile(join(task, PACKAGED_PLAYBOOK_LIBRARY), compiledLibraryText(await compiledDefaultLibrary()));

    const runtime = await createLambdaRuntime({ environment: { ...base, LAMBDA_TASK_ROOT: task }, ...quiet });

    expect(runtime.playbooks.map((compiled) => compiled.playbook.id).sort()).toEqual([
      'cis-password-policy',
      'ec2-compromise-isolate',
      'empty-default-security-group',
      'revoke-unrestricted-admin-ingress',
    ]);
    // The same compiled playbooks as compiling the YAML now: rules, patterns, permissions and sources.
    expect(runtime.playbooks).toEqual(await compiledDefaultLibrary());
    expect(runtime.config.automatic).toBe('plan');
  });

  it('refuses a library that is not one, that runs an action this build does not have, or whose rule has a JSONPath path (the functions leave jsonpath-plus out), naming its file', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'riposte-library-'));
    temporary.push(directory);
    const file = join(directory, 'playbooks.json');
    const [first] = await compiledDefaultLibrary();
    const foreign = { ...first, playbook: { ...first?.playbook, steps: [{ action: 'ec2.no-such-action', params: {}, continueOnError: false }] } } as unknown as CompiledPlaybook;
    // Deep in the tree, as a hand-edited or foreign file might have it.
    const withPath = {
      ...first,
      rule: { ...first?.rule, conditions: { all: [first?.rule.conditions, { not: { any: [{ fact: 'resources', path: '$[0].id', operator: 'equal', value: 'x' }] } }] } },
    } as unknown as CompiledPlaybook;
    const cases: Array<[string, RegExp]> = [
      ['{"playbooks": []}', /is not a riposte\/compiled-playbooks@1 library/],
      ['{ not json', /is not JSON/],
      [compiledLibraryText([foreign]), /runs ec2\.no-such-action, which this build does not register/],
      [compiledLibraryText([withPath]), /has a condition with a JSONPath path, which Riposte never compiles/],
    ];
    for (const [text, message] of cases) {
      await writeFile(file, text);
      const attempt = createLambdaRuntime({ environment: { ...base, RIPOSTE_PLAYBOOK_LIBRARY: file }, ...quiet });
      await expect(attempt).rejects.toThrow(PlaybookCompileError);
      await expect(createLambdaRuntime({ environment: { ...base, RIPOSTE_PLAYBOOK_LIBRARY: file }, ...quiet })).rejects.toThrow(message);
      await expect(createLambdaRuntime({ environment: { ...base, RIPOSTE_PLAYBOOK_LIBRARY: file }, ...quiet })).rejects.toThrow(/playbooks\.json/);
    }
  });

  it('refuses a package without its library, no library named, and a missing ledger table', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'riposte-task-'));
    temporary.push(directory);
    await mkdir(join(directory, 'code'));

    await expect(createLambdaRuntime({ environment: { ...base, LAMBDA_TASK_ROOT: directory }, ...quiet })).rejects.toThrow(/playbooks\.json/);
    await expect(createLambdaRuntime({ environment: base, ...quiet })).rejects.toThrow(/RIPOSTE_PLAYBOOK_LIBRARY must name the compiled playbook library/);
    const library = await compiledLibraryFile();
    await expect(createLambdaRuntime({ environment: { ...base, RIPOSTE_LEDGER_TABLE: '', RIPOSTE_PLAYBOOK_LIBRARY: library }, ...quiet })).rejects.toThrow(ConfigError);
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
