import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { root } from './serverless-config.js';

/*
 * Why the functions may read a Security Hub finding as a JSON document
 * (deploy/esbuild-plugins.cjs, securityHubFindingsAsDocuments): in the
 * installed SDK's schema of AwsSecurityFinding, every value is a plain JSON
 * value. A timestamp, a blob, a big number or a renamed member would be read
 * differently as a document: a release that adds one fails here, naming it.
 */

/** Schema type codes a document reads exactly as the typed schema does: string, number, boolean, document, and lists and maps of them. */
const PLAIN = new Set([0, 1, 2, 15, 64 | 0, 64 | 1, 64 | 2, 64 | 15, 128 | 0, 128 | 1, 128 | 2, 128 | 15]);

type Schema = number | readonly unknown[] | (() => Schema);

describe('the AwsSecurityFinding schema of the installed @aws-sdk/client-securityhub', () => {
  it('holds only plain JSON values, with no member renamed: a finding read as a document is the same object', async () => {
    const schemas = (await import(join(root, 'node_modules/@aws-sdk/client-securityhub/dist-es/schemas/schemas_0.js'))) as Record<string, Schema>;
    const seen = new Set<unknown>();
    const notPlain: string[] = [];
    let structures = 0;
    const walk = (schema: Schema, at: string): void => {
      const resolved = typeof schema === 'function' ? schema() : schema;
      if (typeof resolved === 'number') {
        if (!PLAIN.has(resolved)) notPlain.push(`${at}: type ${resolved}`);
        return;
      }
      if (seen.has(resolved)) return;
      seen.add(resolved);
      const [kind, , name, traits] = resolved as [number, string, string, unknown];
      if (traits !== 0 && typeof traits === 'object') notPlain.push(`${at} (${name}): traits ${JSON.stringify(traits)}`);
      if (kind === 3) {
        structures += 1;
        const [, , , , members, types] = resolved as [number, string, string, unknown, string[], Schema[]];
        types.forEach((type, index) => walk(type, `${name}.${members[index] ?? index}`));
      } else if (kind === 1) walk((resolved as Schema[])[4] as Schema, `${name}[]`);
      else if (kind === 2) walk((resolved as Schema[])[5] as Schema, `${name}{}`);
      else notPlain.push(`${at} (${name}): schema kind ${kind}`);
    };

    walk(schemas.AwsSecurityFinding$ as Schema, 'AwsSecurityFinding');

    expect(structures).toBeGreaterThan(500);
    expect(notPlain).toEqual([]);
  });
});
