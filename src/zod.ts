/**
 * The one door to zod: `zod/mini`, with its English messages, and only the
 * parts Riposte uses.
 *
 * Riposte's schemas are built when a Lambda function starts, so their cost is
 * paid on every cold start. `zod/mini` builds schemas from functions rather
 * than from classes carrying every method: it tree-shakes to about a third of
 * classic zod and builds a schema about three times faster (measured on the
 * configuration schema bundled alone: 98 KB and 28 ms against 35 KB and
 * 10 ms). It ships without messages, and Riposte's errors quote zod's, so the
 * English locale is configured here, before any schema can parse.
 *
 * The names are listed rather than re-exported as a namespace: a namespace
 * re-export keeps all of `zod/mini` in a bundle, every locale included
 * (260 KB). Import it as `import * as z from '../zod.js'`.
 */
import { en } from 'zod/locales';
import { config } from 'zod/mini';

config(en());

export {
  _default,
  array,
  boolean,
  coerce,
  core,
  enum,
  flattenError,
  int,
  literal,
  looseObject,
  maximum,
  maxLength,
  meta,
  minimum,
  minLength,
  nullable,
  number,
  object,
  optional,
  pipe,
  prettifyError,
  record,
  refine,
  regex,
  startsWith,
  strictObject,
  string,
  toJSONSchema,
  transform,
  trim,
  union,
  unknown,
  url,
} from 'zod/mini';
export type { infer, input, output, ZodMiniType } from 'zod/mini';

/**
 * A schema built on its first use rather than when its module loads. Each
 * schema costs its construction at every cold start (Riposte builds nearly
 * 600); a format's schemas deferred this way are built only by a function
 * whose events are in that format.
 */
export function deferred<T>(build: () => T): () => T {
  let built: T | undefined;
  return () => (built ??= build());
}
