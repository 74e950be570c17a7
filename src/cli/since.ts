import { InvalidArgumentError } from 'commander';

/** How long each duration unit `--since` takes is, in milliseconds. */
const UNIT_MS: Readonly<Record<string, number>> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * `--since`'s value as a time: an ISO 8601 time (`2025-03-14`,
 * `2025-03-14T09:00:00Z`), or a duration back from `now` (`90m`, `24h`,
 * `7d`, `2w`).
 *
 * @throws InvalidArgumentError (commander reports it as a usage error, exit 2) for anything else.
 */
export function parseSince(value: string, now: Date = new Date()): Date {
  const duration = /^(\d{1,6})([mhdw])$/.exec(value);
  if (duration !== null) return new Date(now.getTime() - Number(duration[1]) * (UNIT_MS[duration[2] as string] as number));
  // Date.parse reads many shapes; only ISO 8601's are taken, so `3/4` never means a date in some locale.
  const time = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(time)) throw new InvalidArgumentError('an ISO 8601 time (2025-03-14T09:00:00Z) or a duration back from now (90m, 24h, 7d, 2w) is expected.');
  return new Date(time);
}
