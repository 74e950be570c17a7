import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { expect } from 'vitest';
import { parse } from 'yaml';

export const root = join(import.meta.dirname, '..', '..');

/** serverless.yml with the Serverless variables a deploy would resolve replaced by sample values. */
export function serverlessConfig(): { provider: { environment: Record<string, unknown> }; resources: { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> } } {
  const text = readFileSync(join(root, 'serverless.yml'), 'utf8')
    .replaceAll('${self:service}', 'riposte')
    .replaceAll('${sls:stage}', 'dev')
    .replace(/\$\{(?:param|opt):\w+, '([^']*)'\}/g, '$1');
  expect(text, 'an unresolved Serverless variable the test does not know').not.toMatch(/\$\{/);
  return parse(text) as ReturnType<typeof serverlessConfig>;
}
