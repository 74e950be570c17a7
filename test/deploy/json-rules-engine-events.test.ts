import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { build, type Plugin } from 'esbuild';
import * as installed from 'json-rules-engine';
import { afterAll, describe, expect, it } from 'vitest';

import { root } from './serverless-config.js';

/*
 * The functions' json-rules-engine runs on Node's EventEmitter with
 * eventemitter2's `emitAsync` (deploy/json-rules-engine-events.ts, through
 * deploy/esbuild-plugins.cjs's rulesEngineEventsOnNode) instead of
 * eventemitter2. json-rules-engine bundled so is run beside the installed
 * one on the same rules, with every kind of listener it supports (a rule's
 * onSuccess/onFailure, the engine's success, failure and event-type
 * listeners, an asynchronous one it must wait for) and with none, as Riposte
 * runs it: the same calls, in the same order, on the same emitters, and the
 * same results.
 */

const require = createRequire(import.meta.url);
const { rulesEngineEventsOnNode } = require(join(root, 'deploy', 'esbuild-plugins.cjs')) as { rulesEngineEventsOnNode: Plugin };

type RulesEngine = typeof installed;

const directory = mkdtempSync(join(tmpdir(), 'riposte-json-rules-engine-events-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

let built: Promise<{ engine: RulesEngine; inputs: string[] }> | undefined;

/** json-rules-engine bundled as the functions bundle it, loaded (built once). */
const bundledRulesEngine = (): Promise<{ engine: RulesEngine; inputs: string[] }> =>
  (built ??= (async () => {
    const outfile = join(directory, 'json-rules-engine.js');
    const { metafile } = await build({
      stdin: { contents: "module.exports = require('json-rules-engine');", resolveDir: root, loader: 'js' },
      bundle: true,
      format: 'cjs',
      platform: 'node',
      target: 'node22',
      outfile,
      metafile: true,
      logLevel: 'error',
      plugins: [rulesEngineEventsOnNode],
    });
    return { engine: require(outfile) as RulesEngine, inputs: Object.keys(metafile.inputs) };
  })());

const rules = [
  { name: 'matches', priority: 2, conditions: { all: [{ fact: 'kind', operator: 'equal', value: 'instance' }] }, event: { type: 'matched', params: { id: 'matches' } } },
  { name: 'fails', priority: 1, conditions: { any: [{ fact: 'severity', operator: 'greaterThan', value: 8 }] }, event: { type: 'matched', params: { id: 'fails' } } },
  { name: 'absent fact', priority: 1, conditions: { all: [{ fact: 'control', operator: 'equal', value: 'EC2.1' }] }, event: { type: 'other', params: { id: 'absent fact' } } },
];
const facts = { kind: 'instance', severity: 5 };

/** Runs the rules on `facts` with listeners everywhere, and what each listener saw, in order. */
async function runWithListeners(rulesEngine: RulesEngine): Promise<unknown> {
  const calls: unknown[] = [];
  const engine = new rulesEngine.Engine([], { allowUndefinedFacts: true });
  const seen = (source: string) =>
    function (this: unknown, event: { type?: string; params?: unknown }, almanac: unknown, result: { name?: string; result?: boolean }): void {
      calls.push({ source, on: this === engine ? 'engine' : typeof this, emitting: (this as { event?: unknown }).event, event, almanac: typeof almanac, rule: result?.name, result: result?.result });
    };
  for (const rule of rules) engine.addRule(new rulesEngine.Rule({ ...rule, onSuccess: seen(`${rule.name} onSuccess`), onFailure: seen(`${rule.name} onFailure`) }));
  // An asynchronous listener: the run waits for it.
  const afterATurn = async (event: unknown, _almanac: unknown, result: { name?: string }): Promise<void> => {
    await new Promise((resolve) => setImmediate(resolve));
    calls.push({ source: 'engine success (after a turn)', event, rule: result.name });
  };
  // eslint-disable-next-line @typescript-eslint/no-misused-promises -- a listener returning a promise is the point: emitAsync waits for it
  engine.on('success', afterATurn);
  engine.on('failure', seen('engine failure'));
  engine.on('matched', seen('engine matched'));
  const { results, failureResults, events, failureEvents } = await engine.run(facts);
  calls.push('run resolved');
  const outcome = (result: { name?: unknown; result?: unknown }): unknown[] => [result.name, result.result];
  return { calls, results: results.map(outcome), failures: failureResults.map(outcome), events, failureEvents };
}

/** Runs the rules as Riposte does: no listener at all. */
async function runAsRiposte(rulesEngine: RulesEngine): Promise<unknown> {
  const engine = new rulesEngine.Engine([], { allowUndefinedFacts: true });
  for (const rule of rules) engine.addRule(rule);
  const { results, failureResults } = await engine.run(facts);
  const outcome = (result: { name?: unknown; result?: unknown; conditions?: unknown }): unknown[] => [result.name, result.result, result.conditions];
  return { results: results.map(outcome), failures: failureResults.map(outcome) };
}

/** How a run ends whose matching rule's event is `error` with nobody listening (eventemitter2 rejects). */
async function unheardErrorEvent(rulesEngine: RulesEngine, params: unknown): Promise<unknown> {
  const engine = new rulesEngine.Engine([{ conditions: { all: [{ fact: 'kind', operator: 'equal', value: 'instance' }] }, event: { type: 'error', params } as never }]);
  return engine.run(facts).then(
    () => 'resolved',
    (reason: unknown) => (reason instanceof Error ? `Error: ${reason.message}` : reason),
  );
}

describe('json-rules-engine on Node events, as the functions bundle it (rulesEngineEventsOnNode)', () => {
  it('bundles no eventemitter2', async () => {
    const { inputs } = await bundledRulesEngine();

    expect(inputs.filter((input) => input.includes('eventemitter2'))).toEqual([]);
    expect(inputs).toContain('deploy/json-rules-engine-events.ts');
  });

  it('calls every listener as eventemitter2 does: same order, same emitter, same arguments, and waits for an asynchronous one', async () => {
    const { engine: bundled } = await bundledRulesEngine();

    const expected = await runWithListeners(installed);
    expect((expected as { calls: unknown[] }).calls.length).toBeGreaterThan(6);
    expect(await runWithListeners(bundled)).toEqual(expected);
  });

  it('gives the same results with no listener, as Riposte runs it', async () => {
    const { engine: bundled } = await bundledRulesEngine();

    expect(await runAsRiposte(bundled)).toEqual(await runAsRiposte(installed));
  });

  it('rejects an `error` event nobody listens to as eventemitter2 does', async () => {
    const { engine: bundled } = await bundledRulesEngine();

    for (const params of [new Error('params that are an error'), { id: 'plain params' }]) {
      const expected = await unheardErrorEvent(installed, params);
      expect(expected).not.toBe('resolved');
      expect(await unheardErrorEvent(bundled, params)).toEqual(expected);
    }
  });
});
