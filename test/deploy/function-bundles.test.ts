import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

import { deployedBundleOptions } from '../../deploy/bundle-options.js';
import { root } from './serverless-config.js';

/**
 * What each function's bundle carries, built with serverless.yml's own
 * esbuild options: the sizes are figures for `npm run bench`; these tests
 * pin what must stay out, so a change that drags a parser or a whole SDK
 * schema back into the deployed code fails here rather than in a cold start.
 */

/** Bytes each input contributes to a bundle of `entry` built as deployed, by input path. */
async function bundleInputs(entry: string): Promise<Map<string, number>> {
  const { metafile } = await build({ ...deployedBundleOptions(root), entryPoints: [entry], outfile: join(root, '.riposte', 'bundle-test.js'), write: false, metafile: true, logLevel: 'error' });
  const [output] = Object.values(metafile.outputs);
  return new Map(Object.entries(output?.inputs ?? {}).map(([path, { bytesInOutput }]) => [path, bytesInOutput]));
}

let findings: Promise<Map<string, number>> | undefined;
/** The findings function's bundle (built once for the tests that read it). */
const findingsInputs = (): Promise<Map<string, number>> => (findings ??= bundleInputs(join(root, 'handlers', 'findings.ts')));

const bytesUnder = (inputs: Map<string, number>, prefix: string): number => [...inputs].filter(([path]) => path.startsWith(prefix)).reduce((sum, [, bytes]) => sum + bytes, 0);

describe('the deployed bundles', () => {
  it('a pipeline function carries neither the YAML parser nor the playbook compiler: it reads the compiled library', async () => {
    const inputs = await findingsInputs();

    expect(bytesUnder(inputs, 'node_modules/yaml/')).toBe(0);
    expect([...inputs.keys()].filter((path) => /^src\/playbooks\/(source|compile|load|schema|json-schema)\.ts$/.test(path))).toEqual([]);
    expect(inputs.has('src/playbooks/compiled-library.ts')).toBe(true);
  });

  it('imports zod by name, so its locales and JSON Schema converters stay out', async () => {
    const inputs = await findingsInputs();

    expect(bytesUnder(inputs, 'node_modules/zod/v4/locales/')).toBeLessThan(5_000);
    expect(bytesUnder(inputs, 'node_modules/zod/v4/classic/from-json-schema')).toBe(0);
  });

  it('keeps only the SDK schemas a function uses (the literal-keys plugin): EC2 for ten commands, not all of its API', async () => {
    const inputs = await findingsInputs();
    const ec2Schemas = bytesUnder(inputs, 'node_modules/@aws-sdk/client-ec2/dist-es/schemas/');

    // Without the plugin every EC2 schema stays: about 560 KB. With it, what the actions send: about 60 KB.
    expect(ec2Schemas).toBeGreaterThan(0);
    expect(ec2Schemas).toBeLessThan(150_000);
  });

  it("carries the Lambda credential chain, not the node chain's SSO, profile, process, web-identity and login providers nor their STS/SSO-OIDC/signin clients (the lambda-credential-chain plugin)", async () => {
    const inputs = await findingsInputs();

    // Without the plugin these come to about 107 KB: @aws-sdk/credential-provider-node inlines each through a dynamic import.
    for (const unused of ['node', 'ini', 'sso', 'process', 'web-identity', 'login']) expect(bytesUnder(inputs, `node_modules/@aws-sdk/credential-provider-${unused}/`), unused).toBe(0);
    expect(bytesUnder(inputs, 'node_modules/@aws-sdk/nested-clients/')).toBe(0);
    expect(bytesUnder(inputs, 'node_modules/@smithy/credential-provider-imds/')).toBe(0);
    expect(inputs.get('deploy/lambda-credential-provider.ts')).toBeGreaterThan(0);
    expect(bytesUnder(inputs, 'node_modules/@aws-sdk/credential-provider-env/')).toBeGreaterThan(0);
  });

  it('reads Security Hub findings as documents: the ASFF schema tree (613 structures, about 110 KB) stays out', async () => {
    const inputs = await findingsInputs();

    // With the whole tree: about 119 KB. With each finding a document: the filters and the update requests.
    expect(bytesUnder(inputs, 'node_modules/@aws-sdk/client-securityhub/dist-es/schemas/')).toBeLessThan(30_000);
  });

  it('leaves jsonpath-plus out of the pipeline functions (Riposte compiles no JSONPath condition): deploy/no-jsonpath.ts stands in', async () => {
    const inputs = await findingsInputs();

    expect(bytesUnder(inputs, 'node_modules/jsonpath-plus/')).toBe(0);
    expect(inputs.has('deploy/no-jsonpath.ts')).toBe(true);
    expect(bytesUnder(inputs, 'node_modules/json-rules-engine/')).toBeGreaterThan(0);
  });

  it('makes each SDK error class by one call (the sdk-error-classes-compact plugin): SSM’s 140 classes in about a quarter of their bytes', async () => {
    const inputs = await findingsInputs();
    const errorModules = [...inputs].filter(([path]) => /^node_modules\/@aws-sdk\/client-[^/]+\/dist-es\/models\/errors\.js$/.test(path)).reduce((sum, [, bytes]) => sum + bytes, 0);

    // As the SDK writes them: SSM's 39 KB, 121 KB for the thirteen clients of a pipeline function. Made by one call each: about 25 KB.
    expect(inputs.get('node_modules/@aws-sdk/client-ssm/dist-es/models/errors.js')).toBeLessThan(15_000);
    expect(errorModules).toBeLessThan(40_000);
    expect(inputs.get('deploy/sdk-error-classes.ts')).toBeGreaterThan(0);
  });

  it('runs json-rules-engine on Node’s EventEmitter, without eventemitter2 (the rules-engine-events-on-node plugin)', async () => {
    const inputs = await findingsInputs();

    expect(bytesUnder(inputs, 'node_modules/eventemitter2/')).toBe(0);
    expect(inputs.get('deploy/json-rules-engine-events.ts')).toBeGreaterThan(0);
  });

  it('gives each SDK client only the version of its package.json, the one field any of them reads (the sdk-client-version-only plugin)', () => {
    const clients = Object.keys((JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies).filter((name) =>
      name.startsWith('@aws-sdk/client-'),
    );
    const fieldsRead = new Set<string>();
    const importers = new Set<string>();
    for (const client of clients) {
      const dist = join(root, 'node_modules', client, 'dist-es');
      for (const file of readdirSync(dist).filter((name) => name.endsWith('.js'))) {
        const text = readFileSync(join(dist, file), 'utf8');
        for (const [, name] of text.matchAll(/^import (\w+) from "\.\.\/package\.json";$/gm)) {
          importers.add(client);
          for (const [, field] of text.matchAll(new RegExp(`\\b${name as string}\\.(\\w+)`, 'g'))) fieldsRead.add(field as string);
        }
      }
    }

    expect([...importers].sort()).toEqual(clients.sort());
    expect([...fieldsRead]).toEqual(['version']);
  });

  it('the record-retry function, which updates findings, carries no playbook engine and no EC2 client', async () => {
    const inputs = await bundleInputs(join(root, 'handlers', 'record-retry.ts'));

    expect(bytesUnder(inputs, 'node_modules/json-rules-engine/')).toBe(0);
    expect(bytesUnder(inputs, 'node_modules/@aws-sdk/client-ec2/')).toBe(0);
  });
});
