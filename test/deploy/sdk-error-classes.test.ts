import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { build, type Plugin } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';

import { root } from './serverless-config.js';

/*
 * The functions' build makes each SDK error class by one call to
 * deploy/sdk-error-classes.ts instead of the twelve lines the SDK writes
 * (deploy/esbuild-plugins.cjs, sdkErrorClassesCompact). For every client the
 * functions depend on, its errors module is built both ways and every class
 * compared: its own properties (name, shapeId…), its base, and instances
 * built from the same options, property by property in order. A release that
 * writes its classes otherwise fails the count here instead of silently
 * growing the bundles.
 */

const require = createRequire(import.meta.url);
const plugins = require(join(root, 'deploy', 'esbuild-plugins.cjs')) as { sdkErrorClassesCompact: Plugin; withCompactErrorClasses: (text: string, helperPath: string) => string };

/** The SDK clients the functions depend on (package.json), each with a models/errors.js. */
const CLIENTS = Object.keys((JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies).filter((name) => {
  if (!name.startsWith('@aws-sdk/client-')) return false;
  try {
    readFileSync(join(root, 'node_modules', name, 'dist-es', 'models', 'errors.js'));
    return true;
  } catch {
    return false;
  }
});

const directory = mkdtempSync(join(tmpdir(), 'riposte-sdk-error-classes-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

type ErrorClass = (new (options: Record<string, unknown>) => Error) & Record<string, unknown>;

/** A client's errors module (its classes, and its service exception), built as the SDK writes it or as the functions' build makes it. */
async function errorsModule(client: string, compact: boolean): Promise<Record<string, ErrorClass>> {
  const models = join(root, 'node_modules', client, 'dist-es', 'models');
  const contents = `export * from ${JSON.stringify(join(models, 'errors.js'))};`;
  const outfile = join(directory, `${client.replace('@aws-sdk/', '')}-${compact ? 'compact' : 'as-written'}.js`);
  await build({
    stdin: { contents, resolveDir: root, loader: 'js' },
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node22',
    mainFields: ['module', 'main'],
    // Names as the SDK writes them (a bundle otherwise renames a class it refers to inside itself).
    keepNames: true,
    outfile,
    logLevel: 'error',
    plugins: compact ? [plugins.sdkErrorClassesCompact] : [],
  });
  return require(outfile) as Record<string, ErrorClass>;
}

/** An own property as compared: its flags, and its value (for `stack`, only that it is a string). */
function property(of: object, key: string | symbol): unknown {
  const descriptor = Object.getOwnPropertyDescriptor(of, key) as PropertyDescriptor;
  const value: unknown = descriptor.value;
  return {
    key: String(key),
    value: key === 'stack' ? typeof value : value,
    writable: descriptor.writable,
    enumerable: descriptor.enumerable,
    configurable: descriptor.configurable,
    accessor: 'get' in descriptor,
  };
}

/** What can be seen of an error class and of instances of it. */
function observed(ErrorClass: ErrorClass, members: readonly string[]): unknown {
  const full = Object.fromEntries(members.map((member) => [member, `${member} given`]));
  const instances = [{ $metadata: { httpStatusCode: 400, requestId: 'request-1' }, message: 'a message', ...full }, { $metadata: {} }].map((options) => {
    const error = new ErrorClass(options);
    return {
      properties: Reflect.ownKeys(error).map((key) => property(error, key)),
      prototype: Object.getPrototypeOf(error) === ErrorClass.prototype,
      instanceOf: error instanceof ErrorClass,
      baseInstanceOf: error instanceof (Object.getPrototypeOf(ErrorClass) as ErrorClass),
      text: String(error),
    };
  });
  return {
    own: Reflect.ownKeys(ErrorClass)
      .filter((key) => key !== 'prototype')
      .map((key) => property(ErrorClass, key)),
    prototypeKeys: Reflect.ownKeys(ErrorClass.prototype as object),
    base: (Object.getPrototypeOf(ErrorClass) as ErrorClass).name,
    instances,
  };
}

/** The members the SDK declares on each class (`    Member;` lines), by class name. */
function declaredMembers(client: string): Map<string, string[]> {
  const text = readFileSync(join(root, 'node_modules', client, 'dist-es', 'models', 'errors.js'), 'utf8');
  return new Map(
    text
      .split(/\n(?=export class )/)
      .slice(1)
      .map((block) => [/^export class (\w+)/.exec(block)?.[1] as string, [...block.matchAll(/^ {4}(\w+);$/gm)].map(([, member]) => member as string)]),
  );
}

describe('SDK error classes as the functions build them (sdkErrorClassesCompact)', () => {
  it('depends on the clients it is checked against', () => {
    expect(CLIENTS.length).toBeGreaterThanOrEqual(12);
  });

  it.each(CLIENTS)('%s: every class behaves as the SDK writes it: its name, shapeId and base, and instances property by property', async (client) => {
    const [original, compact] = await Promise.all([errorsModule(client, false), errorsModule(client, true)]);
    const members = declaredMembers(client);

    expect(Object.keys(compact).sort()).toEqual(Object.keys(original).sort());
    expect(members.size).toBeGreaterThan(0);
    for (const [name, declared] of members) {
      expect(observed(compact[name] as ErrorClass, declared), `${client} ${name}`).toEqual(observed(original[name] as ErrorClass, declared));
    }
  });

  it.each(CLIENTS)('%s: makes every class the SDK writes as the template by one call (only those with $retryable stay as written)', (client) => {
    const text = readFileSync(join(root, 'node_modules', client, 'dist-es', 'models', 'errors.js'), 'utf8');
    const compact = plugins.withCompactErrorClasses(text, '/deploy/sdk-error-classes.ts');
    const kept = compact.split(/\n(?=export class )/).slice(1);

    expect(compact.match(/^export const \w+ = \/\* @__PURE__ \*\/ __errorClass\(/gm)?.length ?? 0).toBe(declaredMembers(client).size - kept.length);
    for (const block of kept) expect(block).toContain('$retryable = {};');
    expect(compact.length).toBeLessThan(text.length / 2);
  });

  it('keeps a class written otherwise as written: a shapeId outside the namespace, a member not read from its option, a $retryable', () => {
    const written = (name: string, body: { shapeId?: string; fields?: string; assign?: string }): string =>
      [
        `export class ${name} extends __BaseException {`,
        ...(body.shapeId === undefined ? [] : [`    static shapeId = "${body.shapeId}";`]),
        `    name = "${name}";`,
        '    $fault = "client";',
        ...(body.fields === undefined ? [] : [body.fields]),
        '    constructor(opts) {',
        '        super({',
        `            name: "${name}",`,
        '            $fault: "client",',
        '            ...opts,',
        '        });',
        `        Object.setPrototypeOf(this, ${name}.prototype);`,
        ...(body.assign === undefined ? [] : [body.assign]),
        '    }',
        '}',
      ].join('\n');
    const text = [
      'import { ExampleServiceException as __BaseException } from "./ExampleServiceException";',
      written('Plain', { shapeId: 'com.example#Plain', fields: '    Message;', assign: '        this.Message = opts.Message;' }),
      written('Elsewhere', { shapeId: 'com.other#Elsewhere' }),
      written('Renamed', { shapeId: 'com.example#Renamed', fields: '    Message;', assign: '        this.Message = opts.Reason;' }),
      written('Retryable', { shapeId: 'com.example#Retryable', fields: '    $retryable = {};' }),
      '',
    ].join('\n');

    const compact = plugins.withCompactErrorClasses(text, '/deploy/sdk-error-classes.ts');

    expect(compact).toContain('const __errorClass = /* @__PURE__ */ __sdkErrorClasses(__BaseException, "com.example#");');
    expect(compact).toContain('export const Plain = /* @__PURE__ */ __errorClass("Plain", "client", "Message");');
    for (const name of ['Elsewhere', 'Renamed', 'Retryable']) expect(compact).toContain(`export class ${name} extends __BaseException {`);
    // A module that is not a list of classes after its base's import is kept whole.
    expect(plugins.withCompactErrorClasses(`export const x = 1;\n${text}`, '/deploy/sdk-error-classes.ts')).toBe(`export const x = 1;\n${text}`);
  });
});
