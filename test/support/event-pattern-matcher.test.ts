import { describe, expect, it } from 'vitest';

import { InvalidEventPatternError, matchesAnyEventPattern, matchesEventPattern, operatorsIn, validateEventPattern } from './event-pattern-matcher.js';

/*
 * The examples come from the Amazon EventBridge user guide (event patterns,
 * content filtering, arrays, null values and empty strings) and from the Event
 * Ruler README (github.com/aws/event-ruler), the library whose semantics
 * EventBridge's patterns follow.
 */

/** EventBridge user guide, *Amazon EventBridge event patterns*. */
const EC2_STATE_CHANGE = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '111122223333',
  time: '2017-12-22T18:43:48Z',
  region: 'us-west-1',
  resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
  detail: { 'instance-id': 'i-1234567890abcdef0', state: 'terminated' },
};

/** Event Ruler README, *Ruler by Example*. */
const RULER_EVENT = {
  version: '0',
  id: 'ddddd4-aaaa-7777-4444-345dd43cc333',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '012345679012',
  time: '2017-10-02T16:24:49Z',
  region: 'us-east-1',
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000'],
  detail: { 'c-count': 5, 'd-count': 3, 'x-limit': 301.8, 'source-ip': '10.0.0.33', 'instance-id': 'i-000000aaaaaa00000', state: 'running' },
};

describe('exact values, AND across fields, OR within a field', () => {
  it('matches the user guide’s EC2 termination pattern, and not another state or source', () => {
    const pattern = { source: ['aws.ec2'], 'detail-type': ['EC2 Instance State-change Notification'], detail: { state: ['terminated'] } };
    expect(matchesEventPattern(pattern, EC2_STATE_CHANGE)).toBe(true);
    expect(matchesEventPattern(pattern, { ...EC2_STATE_CHANGE, detail: { state: 'running' } })).toBe(false);
    expect(matchesEventPattern(pattern, { ...EC2_STATE_CHANGE, source: 'aws.fargate' })).toBe(false);
  });

  it('any listed value matches (source is aws.ec2 or aws.fargate)', () => {
    expect(matchesEventPattern({ source: ['aws.ec2', 'aws.fargate'] }, EC2_STATE_CHANGE)).toBe(true);
    expect(matchesEventPattern({ source: ['aws.s3', 'aws.fargate'] }, EC2_STATE_CHANGE)).toBe(false);
  });

  it('a field named in the pattern must be present, with the same nesting', () => {
    expect(matchesEventPattern({ detail: { missing: ['x'] } }, EC2_STATE_CHANGE)).toBe(false);
    expect(matchesEventPattern({ state: ['terminated'] }, EC2_STATE_CHANGE)).toBe(false);
  });

  it('matches null and the empty string, which are not interchangeable (user guide, null values and empty strings)', () => {
    const event = { source: 'aws.autoscaling', detail: { eventVersion: '', responseElements: null } };
    expect(matchesEventPattern({ detail: { eventVersion: [''] } }, event)).toBe(true);
    expect(matchesEventPattern({ detail: { responseElements: [null] } }, event)).toBe(true);
    expect(matchesEventPattern({ detail: { eventVersion: [null] } }, event)).toBe(false);
    expect(matchesEventPattern({ detail: { responseElements: [''] } }, event)).toBe(false);
  });

  it('exact values keep their JSON type: "5" is not 5, "true" is not true', () => {
    expect(matchesEventPattern({ detail: { 'c-count': [5] } }, RULER_EVENT)).toBe(true);
    expect(matchesEventPattern({ detail: { 'c-count': ['5'] } }, RULER_EVENT)).toBe(false);
    expect(matchesEventPattern({ a: [true] }, { a: true })).toBe(true);
    expect(matchesEventPattern({ a: ['true'] }, { a: true })).toBe(false);
    expect(matchesEventPattern({ a: [false] }, { a: false })).toBe(true);
  });
});

describe('content filters', () => {
  it('prefix (user guide: "time" starting with 2017-10-02), on strings only', () => {
    expect(matchesEventPattern({ time: [{ prefix: '2017-10-02' }] }, { time: '2017-10-02T18:43:48Z' })).toBe(true);
    expect(matchesEventPattern({ time: [{ prefix: '2017-10-03' }] }, { time: '2017-10-02T18:43:48Z' })).toBe(false);
    expect(matchesEventPattern({ n: [{ prefix: '1' }] }, { n: 12 })).toBe(false);
  });

  it('suffix (user guide: FileName ending in .png), on strings only', () => {
    expect(matchesEventPattern({ FileName: [{ suffix: '.png' }] }, { FileName: 'image.png' })).toBe(true);
    expect(matchesEventPattern({ FileName: [{ suffix: '.png' }] }, { FileName: 'image.jpg' })).toBe(false);
    expect(matchesEventPattern({ n: [{ suffix: '2' }] }, { n: 12 })).toBe(false);
  });

  it('numeric ranges (Ruler README: c-count > 0 <= 5, d-count < 10, x-limit = 3.018e2), on JSON numbers only', () => {
    const pattern = {
      detail: {
        'c-count': [{ numeric: ['>', 0, '<=', 5] }],
        'd-count': [{ numeric: ['<', 10] }],
        'x-limit': [{ numeric: ['=', 3.018e2] }],
      },
    };
    expect(matchesEventPattern(pattern, RULER_EVENT)).toBe(true);
    expect(matchesEventPattern(pattern, { ...RULER_EVENT, detail: { ...RULER_EVENT.detail, 'c-count': 6 } })).toBe(false);
    expect(matchesEventPattern(pattern, { ...RULER_EVENT, detail: { ...RULER_EVENT.detail, 'c-count': 0 } })).toBe(false);
    expect(matchesEventPattern(pattern, { ...RULER_EVENT, detail: { ...RULER_EVENT.detail, 'c-count': '5' } })).toBe(false);
  });

  it('numeric band edges: >= and < are inclusive and exclusive as written', () => {
    const high = { severity: [{ numeric: ['>=', 7, '<', 9] }] };
    expect(matchesEventPattern(high, { severity: 7 })).toBe(true);
    expect(matchesEventPattern(high, { severity: 8.9 })).toBe(true);
    expect(matchesEventPattern(high, { severity: 9 })).toBe(false);
    expect(matchesEventPattern(high, { severity: 6.9 })).toBe(false);
  });

  it('numeric comparisons are precise to 6 decimal digits (Event Ruler ComparableNumber): 8.9999999 compares as 9', () => {
    expect(matchesEventPattern({ severity: [{ numeric: ['<', 9] }] }, { severity: 8.999999 })).toBe(true);
    expect(matchesEventPattern({ severity: [{ numeric: ['<', 9] }] }, { severity: 8.9999999 })).toBe(false);
    expect(matchesEventPattern({ severity: [{ numeric: ['=', 9] }] }, { severity: 8.9999999 })).toBe(true);
  });

  it('anything-but: a value, a list of strings or numbers, a prefix (user guide examples)', () => {
    expect(matchesEventPattern({ detail: { state: [{ 'anything-but': 'initializing' }] } }, RULER_EVENT)).toBe(true);
    expect(matchesEventPattern({ detail: { state: [{ 'anything-but': 'running' }] } }, RULER_EVENT)).toBe(false);
    expect(matchesEventPattern({ detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } }, RULER_EVENT)).toBe(true);
    expect(matchesEventPattern({ detail: { state: [{ 'anything-but': ['stopped', 'running'] }] } }, RULER_EVENT)).toBe(false);
    expect(matchesEventPattern({ detail: { 'x-limit': [{ 'anything-but': 123 }] } }, RULER_EVENT)).toBe(true);
    expect(matchesEventPattern({ detail: { 'x-limit': [{ 'anything-but': [100, 301.8] }] } }, RULER_EVENT)).toBe(false);
    expect(matchesEventPattern({ detail: { state: [{ 'anything-but': { prefix: 'init' } }] } }, RULER_EVENT)).toBe(true);
    expect(matchesEventPattern({ detail: { state: [{ 'anything-but': { prefix: 'run' } }] } }, RULER_EVENT)).toBe(false);
  });

  it('anything-but never matches a missing field', () => {
    expect(matchesEventPattern({ detail: { missing: [{ 'anything-but': 'x' }] } }, RULER_EVENT)).toBe(false);
  });
});

describe('exists', () => {
  it('exists: true matches a present field, exists: false an absent one (Ruler README: detail.c-count)', () => {
    expect(matchesEventPattern({ detail: { 'c-count': [{ exists: true }] } }, RULER_EVENT)).toBe(true);
    expect(matchesEventPattern({ detail: { 'c-count': [{ exists: false }] } }, RULER_EVENT)).toBe(false);
    expect(matchesEventPattern({ detail: { 'c-count': [{ exists: false }] } }, EC2_STATE_CHANGE)).toBe(true);
    expect(matchesEventPattern({ detail: { 'c-count': [{ exists: true }] } }, EC2_STATE_CHANGE)).toBe(false);
  });

  it('only works on leaf nodes: exists: false matches a field whose value is an object (Ruler README)', () => {
    const event = { detail: { state: 'running', 'c-count': { c1: 100 } } };
    expect(matchesEventPattern({ detail: { 'c-count': [{ exists: false }] } }, event)).toBe(true);
    expect(matchesEventPattern({ detail: { 'c-count': [{ exists: true }] } }, event)).toBe(false);
  });

  it('a missing parent object makes the leaf absent', () => {
    expect(matchesEventPattern({ detail: { service: { archived: [{ exists: false }] } } }, { detail: {} })).toBe(true);
    expect(matchesEventPattern({ detail: { service: { archived: [false, { exists: false }] } } }, { detail: { service: { archived: true } } })).toBe(false);
  });

  it('null is a value: the field exists', () => {
    expect(matchesEventPattern({ a: [{ exists: true }] }, { a: null })).toBe(true);
    expect(matchesEventPattern({ a: [{ exists: false }] }, { a: null })).toBe(false);
  });

  it('a value list may mix a value and exists: false ("ACTIVE, or absent")', () => {
    const pattern = { RecordState: ['ACTIVE', { exists: false }] };
    expect(matchesEventPattern(pattern, { RecordState: 'ACTIVE' })).toBe(true);
    expect(matchesEventPattern(pattern, {})).toBe(true);
    expect(matchesEventPattern(pattern, { RecordState: 'ARCHIVED' })).toBe(false);
  });
});

describe('arrays', () => {
  it('an event array matches if it intersects the pattern’s values (user guide, Arrays in event patterns)', () => {
    const pattern = {
      resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f', 'arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f', 'arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f'],
    };
    const event = {
      resources: [
        'arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate',
        'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
      ],
    };
    expect(matchesEventPattern(pattern, event)).toBe(true);
    expect(matchesEventPattern(pattern, { resources: [event.resources[0]] })).toBe(false);
    expect(matchesEventPattern({ resources: [{ suffix: '/i-b188560f' }] }, event)).toBe(true);
  });

  const employees = {
    employees: [
      { firstName: 'John', lastName: 'Doe' },
      { firstName: 'Anna', lastName: 'Smith' },
      { firstName: 'Peter', lastName: 'Jones' },
    ],
  };

  it('arrays of objects are flattened: a field matches if ANY element matches (Ruler README, employees)', () => {
    expect(matchesEventPattern({ employees: { firstName: ['Anna'] } }, employees)).toBe(true);
    expect(matchesEventPattern({ employees: { firstName: ['Anna'] } }, employees, { arrays: 'consistent' })).toBe(true);
    expect(matchesEventPattern({ employees: { firstName: ['Zoe'] } }, employees)).toBe(false);
  });

  it('multi-level arrays are flattened too', () => {
    const nested = { employees: [[employees.employees[0], employees.employees[1]], [employees.employees[2]]] };
    expect(matchesEventPattern({ employees: { firstName: ['Peter'] } }, nested)).toBe(true);
    expect(matchesEventPattern({ employees: { firstName: ['Peter'] } }, nested, { arrays: 'consistent' })).toBe(true);
  });

  it('flattened, two fields may come from different elements; array-consistent, they may not (Ruler README, Anna/Jones)', () => {
    const annaJones = { employees: { firstName: ['Anna'], lastName: ['Jones'] } };
    expect(matchesEventPattern(annaJones, employees)).toBe(true);
    expect(matchesEventPattern(annaJones, employees, { arrays: 'consistent' })).toBe(false);
    expect(matchesEventPattern({ employees: { firstName: ['Anna'], lastName: ['Smith'] } }, employees, { arrays: 'consistent' })).toBe(true);
  });

  it('exists: false on a field inside an array of objects: flattened, ANY element carrying it makes it exist', () => {
    const findings = { detail: { findings: [{ Severity: { Label: 'LOW' } }, { Severity: { Normalized: 70 } }] } };
    const pattern = { detail: { findings: { Severity: { Label: [{ exists: false }] } } } };
    expect(matchesEventPattern(pattern, findings)).toBe(false);
    // Array-consistent matching judges absence against the elements chosen so far; nothing chose one yet, so every element counts.
    expect(matchesEventPattern(pattern, findings, { arrays: 'consistent' })).toBe(false);
    // Absent from every element: absent either way.
    const none = { detail: { findings: [{ Severity: { Normalized: 1 } }, { Severity: { Normalized: 70 } }] } };
    expect(matchesEventPattern(pattern, none)).toBe(true);
    expect(matchesEventPattern(pattern, none, { arrays: 'consistent' })).toBe(true);
  });

  it('array-consistent absence depends on Event Ruler’s sorted field order: a field sorted before it picks the element', () => {
    const findings = {
      detail: {
        findings: [
          { Compliance: { Status: 'PASSED' }, Severity: { Label: 'LOW' }, Zone: 'a' },
          { Compliance: { Status: 'FAILED' }, Severity: { Normalized: 70 }, Zone: 'b' },
        ],
      },
    };
    // "Compliance.Status" < "Severity.Label": the FAILED element is chosen first, and it has no label.
    const before = { detail: { findings: { Compliance: { Status: ['FAILED'] }, Severity: { Label: [{ exists: false }] } } } };
    expect(matchesEventPattern(before, findings, { arrays: 'consistent' })).toBe(true);
    expect(matchesEventPattern(before, findings)).toBe(false);
    // "Severity.Label" < "Zone": absence is judged before any element is chosen, so the LOW label counts.
    const after = { detail: { findings: { Severity: { Label: [{ exists: false }] }, Zone: ['b'] } } };
    expect(matchesEventPattern(after, findings, { arrays: 'consistent' })).toBe(false);
    expect(matchesEventPattern(after, findings)).toBe(false);
  });

  it('an empty array holds no leaf: the field does not exist', () => {
    expect(matchesEventPattern({ resources: [{ exists: false }] }, { resources: [] })).toBe(true);
    expect(matchesEventPattern({ resources: [{ exists: true }] }, { resources: [] })).toBe(false);
    expect(matchesEventPattern({ findings: { a: [{ exists: false }] } }, { findings: [] }, { arrays: 'consistent' })).toBe(true);
  });

  it('an array of objects is not a leaf: a leaf pattern on it matches only exists: false', () => {
    expect(matchesEventPattern({ findings: [{ exists: false }] }, { findings: [{ a: 1 }] })).toBe(true);
    expect(matchesEventPattern({ findings: [{ exists: true }] }, { findings: [{ a: 1 }] })).toBe(false);
  });
});

describe('$or', () => {
  const metric = { source: 'aws.cloudwatch', metricName: 'NetworkIn', namespace: 'AWS/EC2', detail: { source: 'x', 'detail-type': 'CloudWatch Alarm State Change' } };

  it('source AND (metricName OR namespace) (Ruler README, normal "Or")', () => {
    const pattern = {
      source: ['aws.cloudwatch'],
      $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }],
    };
    expect(matchesEventPattern(pattern, metric)).toBe(true);
    expect(matchesEventPattern(pattern, { ...metric, namespace: 'AWS/S3' })).toBe(false);
    expect(matchesEventPattern(pattern, { ...metric, namespace: 'AWS/S3', metricName: 'ReadLatency' })).toBe(true);
    expect(matchesEventPattern(pattern, { ...metric, source: 'aws.ec2' })).toBe(false);
  });

  it('parallel $or at two levels (Ruler README)', () => {
    const pattern = {
      $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }],
      detail: { $or: [{ source: ['aws.cloudwatch'] }, { 'detail-type': ['CloudWatch Alarm State Change'] }] },
    };
    expect(matchesEventPattern(pattern, metric)).toBe(true);
    expect(matchesEventPattern(pattern, { ...metric, detail: { source: 'x', 'detail-type': 'y' } })).toBe(false);
  });

  it('nested $or inside an $or branch (Ruler README)', () => {
    const pattern = {
      source: ['aws.cloudwatch'],
      $or: [{ metricName: ['CPUUtilization'] }, { metricType: ['MetricType'], namespace: ['AWS/EC2'], $or: [{ metricId: [1234] }, { spaceId: [1000] }] }, { scope: ['Service'] }],
    };
    expect(matchesEventPattern(pattern, { source: 'aws.cloudwatch', metricType: 'MetricType', namespace: 'AWS/EC2', spaceId: 1000 })).toBe(true);
    expect(matchesEventPattern(pattern, { source: 'aws.cloudwatch', metricType: 'MetricType', namespace: 'AWS/EC2', spaceId: 1 })).toBe(false);
    expect(matchesEventPattern(pattern, { source: 'aws.cloudwatch', scope: 'Service' })).toBe(true);
  });

  it('a pattern that is only an $or matches nothing outside its branches', () => {
    const pattern = { $or: [{ source: ['aws.ec2'] }, { source: ['aws.s3'] }] };
    expect(matchesEventPattern(pattern, { source: 'my.app' })).toBe(false);
    expect(matchesEventPattern(pattern, { source: 'aws.s3' })).toBe(true);
  });

  it('$or inside an array of objects, flattened and consistent', () => {
    const pattern = { findings: { Status: ['FAILED'], $or: [{ Label: ['HIGH'] }, { Label: [{ exists: false }] }] } };
    const mixed = {
      findings: [
        { Status: 'FAILED', Label: 'LOW' },
        { Status: 'PASSED', Label: 'HIGH' },
      ],
    };
    expect(matchesEventPattern(pattern, mixed)).toBe(true);
    expect(matchesEventPattern(pattern, mixed, { arrays: 'consistent' })).toBe(false);
  });
});

describe('several patterns (one rule each)', () => {
  it('an event is delivered if it matches any of them', () => {
    expect(matchesAnyEventPattern([{ source: ['aws.s3'] }, { source: ['aws.ec2'] }], EC2_STATE_CHANGE)).toBe(true);
    expect(matchesAnyEventPattern([{ source: ['aws.s3'] }], EC2_STATE_CHANGE)).toBe(false);
    expect(matchesAnyEventPattern([], EC2_STATE_CHANGE)).toBe(false);
  });
});

describe('validation: patterns outside the modelled subset are refused, not silently matched', () => {
  it.each([
    ['a bare value instead of a list', { source: 'aws.ec2' }],
    ['an empty value list', { source: [] }],
    ['an unsupported operator (cidr)', { ip: [{ cidr: '10.0.0.0/24' }] }],
    ['an unsupported operator (wildcard)', { f: [{ wildcard: '*.png' }] }],
    ['an unsupported operator (equals-ignore-case)', { f: [{ 'equals-ignore-case': 'x' }] }],
    ['an operator object with two keys', { f: [{ prefix: 'a', suffix: 'b' }] }],
    ['a numeric operator it does not know', { n: [{ numeric: ['!=', 1] }] }],
    ['a numeric range written backwards', { n: [{ numeric: ['<', 1, '>', 0] }] }],
    ['a numeric range with low >= high', { n: [{ numeric: ['>', 5, '<', 1] }] }],
    ['exists with a non-boolean', { n: [{ exists: 'yes' }] }],
    ['prefix with a non-string', { n: [{ prefix: 1 }] }],
    ['$or with one branch (Event Ruler would read "$or" as a plain field name)', { $or: [{ a: [1] }] }],
    ['$or that is not a list', { $or: { a: [1] } }],
    ['a nested list value', { a: [[1]] }],
    ['anything-but with a mixed list', { a: [{ 'anything-but': ['x', 1] }] }],
    ['a pattern that is not an object', ['source']],
    ['an empty nested object', { detail: {} }],
  ])('%s', (_name, pattern) => {
    expect(() => validateEventPattern(pattern)).toThrow(InvalidEventPatternError);
    expect(() => matchesEventPattern(pattern, EC2_STATE_CHANGE)).toThrow(InvalidEventPatternError);
  });

  it('names the path of the problem', () => {
    expect(() => validateEventPattern({ detail: { findings: { ip: [{ cidr: '10.0.0.0/8' }] } } })).toThrow(/detail\.findings\.ip\[0\]/);
  });
});

describe('operatorsIn', () => {
  it('lists exact values, operator keys and $or, across nested objects and $or branches', () => {
    const pattern = {
      source: ['aws.securityhub'],
      detail: {
        findings: {
          RecordState: ['ACTIVE', { exists: false }],
          $or: [{ ProductArn: [{ suffix: '/guardduty' }] }, { Types: [{ prefix: 'TTPs/' }] }],
          severity: [{ numeric: ['>=', 7] }],
        },
      },
    };
    expect([...operatorsIn(pattern)].sort()).toEqual(['$or', 'exact', 'exists', 'numeric', 'prefix', 'suffix']);
  });
});
