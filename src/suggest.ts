import { distance } from 'fastest-levenshtein';

/**
 * The known name nearest to `name`, if it is close enough to be what was
 * meant: within a third of its length in edits (at least 1, at most 4), or
 * the same ignoring case and separators.
 */
export function nearest(name: string, known: Iterable<string>): string | undefined {
  const squash = (text: string): string => text.toLowerCase().replace(/[-_.\s]/g, '');
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    if (squash(candidate) === squash(name)) return candidate;
    const d = distance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  const allowed = Math.min(4, Math.max(1, Math.floor(name.length / 3)));
  return bestDistance <= allowed ? best : undefined;
}
