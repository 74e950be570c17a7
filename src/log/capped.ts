import type { LogAttributes, RunLogger } from './types.js';

/**
 * How many lines one kind of event gets one by one before the rest are only
 * counted: enough to see what went wrong, far too few for one delivery to
 * flood the logs (an event of 85,000 empty findings wrote 34 MB, one line
 * per rejection).
 */
export const MAX_LINES_PER_KIND = 20;

export interface CappedLogOptions<Item> {
  /** The level of every line: `error`, `warn`, `info` or `debug`. */
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  /** The message of each line; the count line says `<message>: N more not logged one by one`. */
  readonly message: string;
  /** The attributes of an item's own line. */
  readonly attributes: (item: Item) => LogAttributes;
  /** Counts the items not logged by this key (an error code), in the count line's `notLoggedBy`. */
  readonly countBy?: (item: Item) => string;
  /** Lines one by one; {@link MAX_LINES_PER_KIND} unless given. */
  readonly max?: number;
}

/**
 * Logs the first `max` items one line each, then one line counting the rest
 * (`notLogged`, `total`, and `notLoggedBy` when `countBy` is given): the
 * log of a delivery stays bounded whatever the delivery holds.
 *
 * ```ts
 * logCapped(logger, intake.rejected, { level: 'error', message: 'finding rejected by intake', attributes: (error) => ({ error }), countBy: (error) => error.code });
 * // 20 lines "finding rejected by intake" {error}, then
 * // "finding rejected by intake: 84980 more not logged one by one" {notLogged: 84980, total: 85000, notLoggedBy: {INTAKE_INVALID_FINDING: 84980}}
 * ```
 *
 * @returns how many items were logged one by one.
 */
export function logCapped<Item>(logger: RunLogger, items: readonly Item[], options: CappedLogOptions<Item>): number {
  const max = Math.max(0, Math.floor(options.max ?? MAX_LINES_PER_KIND));
  const logged = Math.min(items.length, max);
  for (let index = 0; index < logged; index += 1) logger[options.level](options.message, options.attributes(items[index] as Item));
  const notLogged = items.length - logged;
  if (notLogged === 0) return logged;
  const counts = new Map<string, number>();
  if (options.countBy !== undefined) {
    for (let index = logged; index < items.length; index += 1) {
      const key = options.countBy(items[index] as Item);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  logger[options.level](`${options.message}: ${notLogged} more not logged one by one`, {
    notLogged,
    total: items.length,
    // A Map turned into an object by entries: a key such as `__proto__` is a plain key there.
    ...(options.countBy === undefined ? {} : { notLoggedBy: Object.fromEntries(counts) }),
  });
  return logged;
}
