/**
 * Security Hub names CIS AWS Foundations requirements two ways:
 * "CIS AWS Foundations 1.9" (CIS 1.2.0, the only version worded so) and
 * "CIS AWS Foundations Benchmark v1.4.0/1.8".
 */
const CIS_REQUIREMENT = /^CIS AWS Foundations(?: Benchmark)?(?: v(\d+\.\d+\.\d+))?[ /](\d+(?:\.\d+)+)$/;
const CIS_STANDARD = /cis-aws-foundations-benchmark\/v\/(\d+\.\d+\.\d+)/;

/** Version-qualified CIS rules (`1.2.0/1.9`) named by a finding's related requirements. */
export function cisRulesOfRequirements(requirements: readonly string[]): string[] {
  return requirements.flatMap((requirement) => {
    // Exact text, not trimmed: the delivery patterns match these strings by suffix.
    const match = CIS_REQUIREMENT.exec(requirement);
    return match?.[2] === undefined ? [] : [`${match[1] ?? '1.2.0'}/${match[2]}`];
  });
}

/** The CIS version of a standard id such as `cis-aws-foundations-benchmark/v/1.4.0`. */
export function cisVersionOfStandard(standard: string): string | undefined {
  return CIS_STANDARD.exec(standard)?.[1];
}
