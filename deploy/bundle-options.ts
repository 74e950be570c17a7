import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

import type { BuildOptions, Plugin } from 'esbuild';
import { parse } from 'yaml';

/**
 * The esbuild options serverless.yml gives every function (`custom.esbuild`),
 * as esbuild takes them: its `plugins` is the file that exports them. The
 * benchmarks and the bundle tests build with these, so their figures and
 * checks follow the deployment.
 */
export function deployedBundleOptions(root: string): BuildOptions {
  const { custom } = parse(readFileSync(join(root, 'serverless.yml'), 'utf8')) as { custom: { esbuild: Record<string, unknown> } };
  const { bundle, format, platform, target, mainFields, minify, keepNames, sourcemap, external, plugins } = custom.esbuild;
  const loaded = typeof plugins === 'string' ? (createRequire(import.meta.url)(join(root, plugins)) as Plugin[]) : [];
  return { bundle, format, platform, target, mainFields, minify, keepNames, sourcemap, external, plugins: [...loaded] } as BuildOptions;
}
