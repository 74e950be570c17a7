/**
 * Runs `assertion` (an `expect`) only when `holds` is false.
 *
 * For the checks a property makes hundreds of thousands of times: `holds` is
 * a plain check that implies the assertion passes, so whether the test
 * passes is still the assertion's to say, and its report is the same; what
 * is saved is the assertion's message (JSON of a finding, of a rule) and
 * vitest's own work for each call, made once per failure instead of once per
 * check that passes.
 *
 * ```ts
 * unless(sameIds(got, want), () => expect(got, describeFinding(finding)).toEqual(want));
 * ```
 */
export function unless(holds: boolean, assertion: () => void): void {
  if (!holds) assertion();
}
