import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

/*
 * The deployed bundles are minified without keeping names (serverless.yml),
 * so an error's name must be written out: each error class of src/ declares
 * `override readonly name = '<its class name>'` (RiposteError makes it
 * abstract, so TypeScript refuses a class without one; this checks the text
 * is the class's own name, not a copied one).
 */

function sources(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(directory, entry.name)) : entry.name.endsWith('.ts') ? [join(directory, entry.name)] : [],
  );
}

describe('error classes name themselves', () => {
  it('every class of src/ that extends an error declares its own class name as its name', () => {
    const classes: Array<{ file: string; name: string; declared: string | undefined }> = [];
    for (const file of sources('src')) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(
        /^\s*(?:export )?(?:abstract )?class (\w+) extends \w*Error\b[^{]*\{\n\s*override readonly name(?:: string)? = '([^']*)'|^\s*(?:export )?(?:abstract )?class (\w+) extends \w*Error\b/gm,
      )) {
        classes.push({ file, name: match[1] ?? match[3] ?? '', declared: match[2] });
      }
    }

    expect(classes.length).toBeGreaterThan(60);
    expect(classes.filter(({ name, declared }) => declared !== name && name !== 'RiposteError')).toEqual([]);
  });
});
