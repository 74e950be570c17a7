import { distance } from 'fastest-levenshtein';

/**
 * The known name nearest to `name`, if it is close enough to be what was
 * meant: within a third of its length in edits (at least 2 — a swapped pair
 * of letters is 2 edits — at most 4; 1 for names under 4 letters), or the
 * same ignoring case and separators.
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
  const allowed = name.length < 4 ? 1 : Math.min(4, Math.max(2, Math.floor(name.length / 3)));
  return bestDistance <= allowed ? best : undefined;
}
