/*
 * GuardDuty's "Generate sample findings" (console, or CreateSampleFindings)
 * marks each sample in `service.additionalInfo`. GuardDuty has written that
 * block two ways: as an object (`"additionalInfo": { "sample": true }`) and,
 * in current events, as a JSON text in `value` beside a `type`
 * (`{ "value": "{\"sample\":true}", "type": "default" }`). Security Hub
 * flattens either into ASFF `ProductFields` under
 * `aws/guardduty/service/additionalInfo/…`. A sample never changes anything
 * unless a playbook opts in, so any of these marks is honoured.
 */

export interface SampleMark {
  readonly reason: string;
}

const isTrue = (value: unknown): boolean => value === true || value === 'true';
/** A value quoted into a reason, cut short: the reason names it, the raw record keeps it whole. */
const quoted = (value: unknown): string => JSON.stringify(typeof value === 'string' && value.length > 120 ? `${value.slice(0, 120)}…` : value);

/** The `sample` flag inside GuardDuty's `additionalInfo.value` JSON text, if it says true. */
function sampleInValue(text: unknown): boolean {
  if (typeof text !== 'string' || !text.includes('sample')) return false;
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) && Object.hasOwn(parsed, 'sample') && isTrue((parsed as { sample: unknown }).sample);
  } catch {
    // Not JSON: GuardDuty's other additional info, nothing about samples.
    return false;
  }
}

/** A native GuardDuty finding's sample mark (`detail.service.additionalInfo`). */
export function guardDutySample(additionalInfo: unknown, field = 'detail.service.additionalInfo'): SampleMark | undefined {
  if (additionalInfo === null || typeof additionalInfo !== 'object' || Array.isArray(additionalInfo)) return undefined;
  const info = additionalInfo as Record<string, unknown>;
  if (Object.hasOwn(info, 'sample') && isTrue(info.sample)) return { reason: `${field}.sample is ${quoted(info.sample)}: GuardDuty generated this finding as a sample` };
  if (Object.hasOwn(info, 'value') && sampleInValue(info.value)) {
    return { reason: `${field}.value ${quoted(info.value)} says "sample": true: GuardDuty generated this finding as a sample` };
  }
  return undefined;
}

const ASFF_SAMPLE = 'aws/guardduty/service/additionalInfo/sample';
const ASFF_VALUE = 'aws/guardduty/service/additionalInfo/value';

/** A GuardDuty finding's sample mark as Security Hub carries it in ASFF `ProductFields`. */
export function asffGuardDutySample(productFields: Readonly<Record<string, string>> | undefined, field: string): SampleMark | undefined {
  if (productFields === undefined) return undefined;
  if (Object.hasOwn(productFields, ASFF_SAMPLE) && isTrue(productFields[ASFF_SAMPLE])) {
    return { reason: `${field}["${ASFF_SAMPLE}"] is "true": GuardDuty generated this finding as a sample` };
  }
  if (Object.hasOwn(productFields, ASFF_VALUE) && sampleInValue(productFields[ASFF_VALUE])) {
    return { reason: `${field}["${ASFF_VALUE}"] ${quoted(productFields[ASFF_VALUE])} says "sample": true: GuardDuty generated this finding as a sample` };
  }
  return undefined;
}
