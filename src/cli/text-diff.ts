/**
 * A unified line diff, as `diff -u` prints it, of two texts: what
 * `riposte test` shows when a case's outcome is not its golden file.
 *
 * Written here rather than taken from a package: the one installed (`diff`)
 * is a development-only dependency of a test library, and the compiled CLI
 * may not rely on it. The texts compared are pretty-printed golden files (a
 * few hundred lines), so the longest common subsequence is computed
 * directly, after the common head and tail are set aside.
 */

/** Lines of context shown around each change, as `diff -u` does by default. */
export const DIFF_CONTEXT_LINES = 3;

/**
 * The most lines a diff compares line by line (after the common head and
 * tail are set aside): the table grows with the square of it. Beyond it,
 * the differing middle is shown as removed then added, which stays correct,
 * only less precise.
 */
const MAX_COMPARED_LINES = 4000;

/** One line of the edit script: kept (` `), removed from the first text (`-`), or added in the second (`+`). */
interface Edit {
  readonly kind: ' ' | '-' | '+';
  readonly text: string;
  /** Line number (1-based) in the first text for ` ` and `-`, and in the second for `+`; the other side's is kept too. */
  readonly before: number;
  readonly after: number;
}

/** The lines of a text, a final newline ending the last line rather than starting an empty one. */
function linesOf(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** The edit script from `a` to `b`: longest common subsequence, removals before additions at each change. */
function editScript(a: readonly string[], b: readonly string[]): Edit[] {
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head += 1;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail += 1;
  const middleA = a.slice(head, a.length - tail);
  const middleB = b.slice(head, b.length - tail);

  const edits: Edit[] = [];
  for (let i = 0; i < head; i += 1) edits.push({ kind: ' ', text: a[i] as string, before: i + 1, after: i + 1 });

  const n = middleA.length;
  const m = middleB.length;
  let i = 0;
  let j = 0;
  if (n > 0 && m > 0 && n <= MAX_COMPARED_LINES && m <= MAX_COMPARED_LINES) {
    // lcs[x * (m + 1) + y]: the longest common subsequence of middleA[x..] and middleB[y..].
    const width = m + 1;
    const lcs = new Uint32Array((n + 1) * width);
    for (let x = n - 1; x >= 0; x -= 1) {
      for (let y = m - 1; y >= 0; y -= 1) {
        lcs[x * width + y] = middleA[x] === middleB[y] ? (lcs[(x + 1) * width + y + 1] as number) + 1 : Math.max(lcs[(x + 1) * width + y] as number, lcs[x * width + y + 1] as number);
      }
    }
    while (i < n && j < m) {
      if (middleA[i] === middleB[j]) {
        edits.push({ kind: ' ', text: middleA[i] as string, before: head + i + 1, after: head + j + 1 });
        i += 1;
        j += 1;
      } else if ((lcs[(i + 1) * width + j] as number) >= (lcs[i * width + j + 1] as number)) {
        edits.push({ kind: '-', text: middleA[i] as string, before: head + i + 1, after: head + j });
        i += 1;
      } else {
        edits.push({ kind: '+', text: middleB[j] as string, before: head + i, after: head + j + 1 });
        j += 1;
      }
    }
  }
  for (; i < n; i += 1) edits.push({ kind: '-', text: middleA[i] as string, before: head + i + 1, after: head + j });
  for (; j < m; j += 1) edits.push({ kind: '+', text: middleB[j] as string, before: head + n, after: head + j + 1 });

  for (let k = 0; k < tail; k += 1) edits.push({ kind: ' ', text: a[a.length - tail + k] as string, before: a.length - tail + k + 1, after: b.length - tail + k + 1 });
  return sortRuns(edits);
}

/** Within each run of changes, removals first, then additions: how `diff -u` shows a replaced block. */
function sortRuns(edits: Edit[]): Edit[] {
  const out: Edit[] = [];
  let run: Edit[] = [];
  const flush = (): void => {
    out.push(...run.filter((edit) => edit.kind === '-'), ...run.filter((edit) => edit.kind === '+'));
    run = [];
  };
  for (const edit of edits) {
    if (edit.kind === ' ') {
      flush();
      out.push(edit);
    } else run.push(edit);
  }
  flush();
  return out;
}

/** `start,count` of a hunk side, as `diff -u` writes it (an empty side starts at the line before it). */
const range = (start: number, count: number): string => (count === 1 ? `${start}` : `${count === 0 ? start - 1 : start},${count}`);

export interface UnifiedDiffOptions {
  /** Names of the two texts, for the `---` and `+++` lines. */
  readonly from: string;
  readonly to: string;
  /** Lines of context around each change; {@link DIFF_CONTEXT_LINES} by default. */
  readonly context?: number;
}

/**
 * The unified diff from `before` to `after`, one string a line (no line
 * ends), or an empty list when the texts are the same.
 *
 * ```ts
 * unifiedDiff('a\nb\n', 'a\nc\n', { from: 'golden', to: 'actual' });
 * // ['--- golden', '+++ actual', '@@ -1,2 +1,2 @@', ' a', '-b', '+c']
 * ```
 */
export function unifiedDiff(before: string, after: string, options: UnifiedDiffOptions): string[] {
  const edits = editScript(linesOf(before), linesOf(after));
  const context = options.context ?? DIFF_CONTEXT_LINES;
  const changed = edits.flatMap((edit, index) => (edit.kind === ' ' ? [] : [index]));
  if (changed.length === 0) return [];

  // Hunks: each change with its context, changes closer than twice the context joined into one.
  const hunks: Array<{ first: number; last: number }> = [];
  for (const index of changed) {
    const first = Math.max(0, index - context);
    const last = Math.min(edits.length - 1, index + context);
    const previous = hunks[hunks.length - 1];
    if (previous !== undefined && first <= previous.last + 1) previous.last = last;
    else hunks.push({ first, last });
  }

  const lines = [`--- ${options.from}`, `+++ ${options.to}`];
  for (const { first, last } of hunks) {
    const slice = edits.slice(first, last + 1);
    const beforeLines = slice.filter((edit) => edit.kind !== '+');
    const afterLines = slice.filter((edit) => edit.kind !== '-');
    const beforeStart = beforeLines[0]?.before ?? (slice[0] as Edit).before + 1;
    const afterStart = afterLines[0]?.after ?? (slice[0] as Edit).after + 1;
    lines.push(`@@ -${range(beforeStart, beforeLines.length)} +${range(afterStart, afterLines.length)} @@`);
    for (const edit of slice) lines.push(`${edit.kind}${edit.text}`);
  }
  return lines;
}
