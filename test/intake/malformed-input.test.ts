import { describe, expect, it } from 'vitest';

import {
  EventTooLargeError,
  ForbiddenKeyError,
  InvalidApiRequestError,
  InvalidFindingError,
  MalformedEventError,
  MAX_EVENT_BYTES,
  readApiGatewayEvent,
  readApiRequest,
  readEvent,
  UnsupportedEventError,
} from '../../src/intake/index.js';
import { fixture, fixtureText } from '../support/fixtures.js';

/** Fixtures are parsed JSON that each test mutates freely to make it malformed. */
type Json = any;

const OPEN_SSH = 'securityhub-imported-open-ssh.json';
const BATCH_TWO = 'securityhub-imported-batch-two.json';
const CUSTOM_ACTION = 'securityhub-custom-action.json';
const UNKNOWN_PRODUCT = 'securityhub-imported-unknown-product.json';
const OCSF_DETECTION = 'securityhub-v2-ocsf-detection.json';
const OCSF_COMPLIANCE = 'securityhub-v2-ocsf-compliance.json';
const GUARDDUTY_EC2 = 'guardduty-ec2-backdoor.json';
const CONFIG_SSH = 'config-compliance-restricted-ssh.json';
const API_REQUEST = 'api-request.json';
const APIGATEWAY = 'apigateway-api-request.json';

const ALICE = { principal: 'arn:aws:iam::999988887777:user/alice' } as const;

/** Runs `act`, fails the test unless it throws an instance of exactly `type`, and returns the error typed. */
function thrownBy<E extends Error>(type: abstract new (...args: never[]) => E, act: () => unknown): E {
  let caught: unknown;
  try {
    act();
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected ${type.name} to be thrown`).toBeInstanceOf(type);
  expect((caught as Error).constructor, `expected exactly ${type.name}`).toBe(type);
  return caught as E;
}

describe('readEvent on malformed input', () => {
  describe('not a JSON object', () => {
    it('rejects text that is not JSON, naming the default origin "event"', () => {
      const input = '{not json';

      const error = thrownBy(MalformedEventError, () => readEvent(input));

      expect(error.source).toBe('event');
      expect(error.field).toBeUndefined();
      expect(error.message).toContain('is not valid JSON');
    });

    it('names the origin option as the source when the input has no usable source', () => {
      const input = '{not json';

      const error = thrownBy(MalformedEventError, () => readEvent(input, { origin: 'sqs:msg-42' }));

      expect(error.source).toBe('sqs:msg-42');
      expect(error.field).toBeUndefined();
      expect(error.message).toMatch(/^sqs:msg-42: is not valid JSON/);
    });

    it.each([
      ['an empty string', ''],
      ['whitespace only', '  \n\t '],
      ['an empty Buffer', Buffer.alloc(0)],
    ])('rejects %s as empty', (_label, input) => {
      const error = thrownBy(MalformedEventError, () => readEvent(input));

      expect(error.source).toBe('event');
      expect(error.field).toBeUndefined();
      expect(error.message).toContain('is empty');
    });

    it.each([
      ['an array (text)', '[1, 2]', 'an array'],
      ['an array (parsed)', [{ source: 'aws.securityhub' }], 'an array'],
      ['a number (text)', '42', 'number'],
      ['a number (parsed)', 42, 'number'],
      ['null (text)', 'null', 'null'],
      ['null (parsed)', null, 'null'],
      ['a string (text)', '"Security Hub Findings - Imported"', 'string'],
      ['a boolean (parsed)', true, 'boolean'],
      ['undefined', undefined, 'undefined'],
    ])('rejects JSON that is %s', (_label, input, kind) => {
      const error = thrownBy(MalformedEventError, () => readEvent(input, { origin: 'events/x.json' }));

      expect(error.source).toBe('events/x.json');
      expect(error.field).toBeUndefined();
      expect(error.message).toContain(`must be a JSON object, got ${kind}`);
    });

    it('rejects an object that cannot be represented as JSON (a cycle) without a TypeError escaping', () => {
      const event: Json = fixture(OPEN_SSH);
      event.detail.self = event;

      const error = thrownBy(MalformedEventError, () => readEvent(event));

      expect(error.source).toBe('event');
      expect(error.field).toBeUndefined();
      expect(error.message).toContain('cannot be represented as JSON');
    });
  });

  describe('wrong envelope shape', () => {
    it('rejects a missing account, naming the field and the event source', () => {
      const event: Json = fixture(OPEN_SSH);
      delete event.account;

      const error = thrownBy(MalformedEventError, () => readEvent(event));

      expect(error.field).toBe('account');
      expect(error.source).toBe('aws.securityhub');
      expect(error.message).toContain('account is missing');
    });

    it.each(['99998888777', '9999888877770', '99998888777x', 999988887777])('rejects account %j (not 12 digits)', (account) => {
      const event: Json = fixture(OPEN_SSH);
      event.account = account;

      const error = thrownBy(MalformedEventError, () => readEvent(event));

      expect(error.field).toBe('account');
      expect(error.source).toBe('aws.securityhub');
      expect(error.message).toMatch(/account (must be a 12-digit AWS account id|is invalid)/);
    });

    it.each(['US_EAST_1', 'moon-1', 'us-east', ''])('rejects region %j', (region) => {
      const event: Json = fixture(GUARDDUTY_EC2);
      event.region = region;

      const error = thrownBy(MalformedEventError, () => readEvent(event));

      expect(error.field).toBe('region');
      expect(error.source).toBe('aws.guardduty');
      expect(error.message).toContain('region must be an AWS region');
    });

    it('rejects a detail that is a string', () => {
      const event: Json = fixture(OPEN_SSH);
      event.detail = JSON.stringify(event.detail);

      const error = thrownBy(MalformedEventError, () => readEvent(event));

      expect(error.field).toBe('detail');
      expect(error.source).toBe('aws.securityhub');
      expect(error.message).toContain('expected record, received string');
    });

    it('rejects a missing detail-type', () => {
      const event: Json = fixture(CONFIG_SSH);
      delete event['detail-type'];

      const error = thrownBy(MalformedEventError, () => readEvent(event));

      expect(error.field).toBe('detail-type');
      expect(error.source).toBe('aws.config');
      expect(error.message).toContain('detail-type is missing');
    });

    it('falls back to the origin as the source when source itself is missing', () => {
      const event: Json = fixture(CONFIG_SSH);
      delete event.source;

      const error = thrownBy(MalformedEventError, () => readEvent(event, { origin: 'fixture.json' }));

      expect(error.field).toBe('source');
      expect(error.source).toBe('fixture.json');
      expect(error.message).toContain('source is missing');
    });

    it('rejects resources that are not all strings', () => {
      const event: Json = fixture(OPEN_SSH);
      event.resources = ['arn:aws:securityhub:us-east-1::product/aws/securityhub', 7];

      const error = thrownBy(MalformedEventError, () => readEvent(event));

      expect(error.field).toBe('resources[1]');
      expect(error.source).toBe('aws.securityhub');
      expect(error.message).toContain('expected string, received number');
    });
  });

  describe('unsupported events', () => {
    it('rejects an aws.securityhub detail-type Riposte does not consume, listing the supported ones', () => {
      const event: Json = fixture(OPEN_SSH);
      event['detail-type'] = 'Security Hub Insight Results';

      const error = thrownBy(UnsupportedEventError, () => readEvent(event));

      expect(error.field).toBe('detail-type');
      expect(error.source).toBe('aws.securityhub');
      expect(error.detailType).toBe('Security Hub Insight Results');
      expect(error.message).toContain('unsupported event "Security Hub Insight Results"');
      expect(error.message).toContain('aws.securityhub "Security Hub Findings - Imported"');
      expect(error.message).toContain('aws.securityhub "Security Hub Findings - Custom Action"');
      expect(error.message).toContain('aws.securityhub "Findings Imported V2"');
      expect(error.message).toContain('aws.guardduty "GuardDuty Finding"');
      expect(error.message).toContain('aws.config "Config Rules Compliance Change"');
    });

    it('rejects a wholly unknown source', () => {
      const event: Json = fixture(OPEN_SSH);
      event.source = 'aws.s3';
      event['detail-type'] = 'Object Created';
      event.detail = { bucket: { name: 'logs' } };

      const error = thrownBy(UnsupportedEventError, () => readEvent(event));

      expect(error.field).toBe('detail-type');
      expect(error.source).toBe('aws.s3');
      expect(error.detailType).toBe('Object Created');
      expect(error.message).toMatch(/^aws\.s3: unsupported event "Object Created"; Riposte consumes: /);
    });

    it('does not match a supported detail-type under the wrong source', () => {
      const event: Json = fixture(GUARDDUTY_EC2);
      event.source = 'aws.securityhub';

      const error = thrownBy(UnsupportedEventError, () => readEvent(event));

      expect(error.field).toBe('detail-type');
      expect(error.source).toBe('aws.securityhub');
      expect(error.message).toContain('unsupported event "GuardDuty Finding"');
    });
  });

  describe('size limit', () => {
    function oversizedEvent(): Json {
      const event: Json = fixture(OPEN_SSH);
      event.detail.findings[0].Description = 'x'.repeat(MAX_EVENT_BYTES + 1);
      return event;
    }

    it('is the 256 KB EventBridge limit', () => {
      expect(MAX_EVENT_BYTES).toBe(262_144);
    });

    it('rejects an event over 256 KB given as text', () => {
      const text = JSON.stringify(oversizedEvent());

      const error = thrownBy(EventTooLargeError, () => readEvent(text));

      expect(error.limit).toBe(262_144);
      expect(error.bytes).toBe(Buffer.byteLength(text, 'utf8'));
      expect(error.bytes).toBeGreaterThan(error.limit);
      expect(error.source).toBe('event');
      expect(error.field).toBeUndefined();
      expect(error.message).toContain(`event is ${error.bytes} bytes, over the 262144-byte limit`);
    });

    it('rejects an event over 256 KB given as a parsed object', () => {
      const event = oversizedEvent();

      const error = thrownBy(EventTooLargeError, () => readEvent(event, { origin: 'sqs:big' }));

      expect(error.limit).toBe(262_144);
      expect(error.bytes).toBe(Buffer.byteLength(JSON.stringify(event), 'utf8'));
      expect(error.bytes).toBeGreaterThan(error.limit);
      expect(error.source).toBe('sqs:big');
      expect(error.field).toBeUndefined();
      expect(error.message).toContain('over the 262144-byte limit');
    });

    it('counts bytes, not characters (multi-byte text just over the limit)', () => {
      const event: Json = fixture(OPEN_SSH);
      event.detail.findings[0].Description = '';
      const base = Buffer.byteLength(JSON.stringify(event), 'utf8');
      // Each "é" is one UTF-16 unit but two UTF-8 bytes.
      event.detail.findings[0].Description = 'é'.repeat(Math.ceil((MAX_EVENT_BYTES - base) / 2) + 1);
      const text = JSON.stringify(event);
      expect(text.length).toBeLessThan(MAX_EVENT_BYTES);

      const error = thrownBy(EventTooLargeError, () => readEvent(Buffer.from(text, 'utf8')));

      expect(error.bytes).toBe(Buffer.byteLength(text, 'utf8'));
      expect(error.bytes).toBeGreaterThan(error.limit);
    });

    it('still reads a real event padded to just under the limit', () => {
      const event: Json = fixture(OPEN_SSH);
      const base = Buffer.byteLength(JSON.stringify(event), 'utf8');
      const description: string = event.detail.findings[0].Description;
      event.detail.findings[0].Description = description + 'x'.repeat(MAX_EVENT_BYTES - base);
      const text = JSON.stringify(event);
      expect(Buffer.byteLength(text, 'utf8')).toBe(MAX_EVENT_BYTES);

      const result = readEvent(text);

      expect(result.findings).toHaveLength(1);
      expect(result.rejected).toHaveLength(0);
    });
  });

  describe('forbidden keys', () => {
    const POLLUTION = 'riposteIntakePolluted';

    it('rejects __proto__ nested in ProductFields (an own property after JSON.parse) and does not pollute Object.prototype', () => {
      const text = fixtureText(OPEN_SSH).replace('"ProductFields": {', `"ProductFields": {"__proto__": {"${POLLUTION}": "yes", "toString": "boom"},`);
      expect(text).toContain('"__proto__"');

      const error = thrownBy(ForbiddenKeyError, () => readEvent(text));

      expect(error.field).toBe('detail.findings[0].ProductFields.__proto__');
      expect(error.source).toBe('event');
      expect(error.message).toContain('uses the forbidden key "__proto__"');
      expect(Object.prototype).not.toHaveProperty(POLLUTION);
      expect(({} as Record<string, unknown>)[POLLUTION]).toBeUndefined();
      expect(typeof ({} as { toString: unknown }).toString).toBe('function');
    });

    it('rejects the same __proto__ key when the event arrives already parsed', () => {
      const text = fixtureText(OPEN_SSH).replace('"ProductFields": {', `"ProductFields": {"__proto__": {"${POLLUTION}": "yes"},`);
      const parsed: unknown = JSON.parse(text);

      const error = thrownBy(ForbiddenKeyError, () => readEvent(parsed, { origin: 'lambda' }));

      expect(error.field).toBe('detail.findings[0].ProductFields.__proto__');
      expect(error.source).toBe('lambda');
      expect(Object.prototype).not.toHaveProperty(POLLUTION);
    });

    it('rejects a constructor key in Resources[0].Tags', () => {
      const event: Json = fixture(OPEN_SSH);
      event.detail.findings[0].Resources[0].Tags.constructor = { prototype: { [POLLUTION]: 'yes' } };

      const error = thrownBy(ForbiddenKeyError, () => readEvent(event));

      expect(error.field).toBe('detail.findings[0].Resources[0].Tags.constructor');
      expect(error.source).toBe('event');
      expect(error.message).toContain('uses the forbidden key "constructor"');
      expect(Object.prototype).not.toHaveProperty(POLLUTION);
    });

    it('rejects a prototype key at the top level', () => {
      const text = fixtureText(GUARDDUTY_EC2).replace('{', '{"prototype": {},');

      const error = thrownBy(ForbiddenKeyError, () => readEvent(text));

      expect(error.field).toBe('prototype');
      expect(error.source).toBe('event');
      expect(error.message).toContain('"prototype"');
    });
  });

  describe('nesting depth', () => {
    function nested(levels: number): unknown {
      let value: unknown = 'leaf';
      for (let level = 0; level < levels; level += 1) value = { x: value };
      return value;
    }

    it('rejects objects nested deeper than 64 levels, naming the path', () => {
      const event: Json = fixture(GUARDDUTY_EC2);
      event.detail.service.additionalInfo = nested(100);

      const error = thrownBy(MalformedEventError, () => readEvent(event));

      expect(error.source).toBe('event');
      expect(error.field).toMatch(/^detail\.service\.additionalInfo(\.x)+$/);
      expect(error.message).toContain('is nested deeper than 64 levels');
    });

    it('puts the limit at 64 levels below the root', () => {
      const atLimit: Json = fixture(GUARDDUTY_EC2);
      atLimit.detail = { ...atLimit.detail, extra: nested(63) }; // innermost object 64 levels below the root
      const overLimit: Json = fixture(GUARDDUTY_EC2);
      overLimit.detail = { ...overLimit.detail, extra: nested(64) };

      const result = readEvent(atLimit);
      const error = thrownBy(MalformedEventError, () => readEvent(overLimit));

      expect(result.findings).toHaveLength(1);
      expect(error.field).toBe(`detail.extra${'.x'.repeat(63)}`);
      expect(error.message).toContain('is nested deeper than 64 levels');
    });

    it('rejects deeply nested arrays in JSON text without overflowing the stack', () => {
      const depth = 100_000;
      const text = `{"id":"x","detail":${'['.repeat(depth)}${']'.repeat(depth)}}`;

      const error = thrownBy(MalformedEventError, () => readEvent(text));

      expect(error.source).toBe('event');
      expect(error.field).toMatch(/^detail(\[0\])+$/);
      expect(error.message).toContain('is nested deeper than 64 levels');
    });

    it('rejects a parsed object too deep to serialize without a RangeError escaping', () => {
      const event: Json = fixture(GUARDDUTY_EC2);
      event.detail.service.additionalInfo = nested(200_000);

      const error = thrownBy(MalformedEventError, () => readEvent(event));

      expect(error.source).toBe('event');
      expect(error.message).toMatch(/cannot be represented as JSON|nested deeper than 64 levels/);
    });
  });

  describe('wrong types inside ASFF findings', () => {
    const OPEN_SSH_ID = 'arn:aws:securityhub:us-east-1:111122223333:security-control/EC2.13/finding/353804ef-ffb5-480c-a695-746b180e3ca5';

    it.each([
      ['Severity.Normalized as a string', (f: Json) => void (f.Severity.Normalized = '70'), 'Severity.Normalized', 'expected number, received string'],
      ['Severity with neither Label nor Normalized', (f: Json) => void (f.Severity = { Original: 'HIGH' }), 'Severity', 'needs Label or Normalized'],
      ['Severity.Normalized above 100', (f: Json) => void (f.Severity.Normalized = 101), 'Severity.Normalized', '<=100'],
      ['Resources empty', (f: Json) => void (f.Resources = []), 'Resources', 'must list at least one resource'],
      ['AwsAccountId not 12 digits', (f: Json) => void (f.AwsAccountId = '1111222233'), 'AwsAccountId', 'must be a 12-digit AWS account id'],
      ['AwsAccountId a number', (f: Json) => void (f.AwsAccountId = 111122223333), 'AwsAccountId', 'expected string, received number'],
      ['Resources[0].Region invalid', (f: Json) => void (f.Resources[0].Region = 'moon-1'), 'Resources[0].Region', 'must be an AWS region'],
      ['ProductArn not an ARN', (f: Json) => void (f.ProductArn = 'securityhub'), 'ProductArn', 'must be an ARN'],
    ])('rejects a finding with %s, keeping the error instead of an empty result', (_label, mutate, field, fragment) => {
      const event: Json = fixture(OPEN_SSH);
      mutate(event.detail.findings[0]);

      const result = readEvent(event);

      expect(result.findings).toEqual([]);
      expect(result.rejected).toHaveLength(1);
      const [error] = result.rejected;
      expect(error).toBeInstanceOf(InvalidFindingError);
      expect(error?.field).toBe(`detail.findings[0].${field}`);
      expect(error?.source).toBe('aws.securityhub');
      expect(error?.index).toBe(0);
      expect(error?.findingId).toBe(OPEN_SSH_ID);
      expect(error?.message).toContain(fragment);
      expect(error?.message).toContain(`(finding ${OPEN_SSH_ID})`);
    });

    it('rejects a finding that is not an object', () => {
      const event: Json = fixture(OPEN_SSH);
      event.detail.findings = ['not a finding'];

      const result = readEvent(event);

      expect(result.findings).toEqual([]);
      expect(result.rejected).toHaveLength(1);
      expect(result.rejected[0]).toBeInstanceOf(InvalidFindingError);
      expect(result.rejected[0]?.field).toBe('detail.findings[0]');
      expect(result.rejected[0]?.findingId).toBeUndefined();
    });

    it('keeps the good findings of a batch where one of three is bad, naming index 1', () => {
      const event: Json = fixture(BATCH_TWO);
      const [inspectorGood, inspectorBad] = event.detail.findings;
      const openSsh = fixture<Json>(OPEN_SSH).detail.findings[0];
      event.detail.findings = [inspectorGood, inspectorBad, openSsh];

      const result = readEvent(event);

      expect(result.findings.map((finding) => finding.id)).toEqual(['arn:aws:inspector2:us-east-1:111122223333:finding/d256890c46554f6b1773e511f52e9851', OPEN_SSH_ID]);
      expect(result.findings.map((finding) => finding.raw.index)).toEqual([0, 2]);
      expect(result.rejected).toHaveLength(1);
      const [error] = result.rejected;
      expect(error).toBeInstanceOf(InvalidFindingError);
      expect(error?.index).toBe(1);
      expect(error?.field).toBe('detail.findings[1].AwsAccountId');
      expect(error?.source).toBe('aws.securityhub');
      expect(error?.findingId).toBe('arn:aws:inspector2:us-east-1:111122223333:finding/a788bd4fe448f460ac41ed1b4e3e3531');
      expect(error?.message).toContain('AwsAccountId is missing');
    });

    it('rejects a missing detail.findings', () => {
      const event: Json = fixture(OPEN_SSH);
      delete event.detail.findings;

      const error = thrownBy(MalformedEventError, () => readEvent(event));

      expect(error.field).toBe('detail.findings');
      expect(error.source).toBe('aws.securityhub');
      expect(error.message).toContain('detail.findings is missing');
    });

    it('rejects an empty detail.findings', () => {
      const event: Json = fixture(OPEN_SSH);
      event.detail.findings = [];

      const error = thrownBy(MalformedEventError, () => readEvent(event));

      expect(error.field).toBe('detail.findings');
      expect(error.source).toBe('aws.securityhub');
      expect(error.message).toContain('is empty: the event carries no finding');
    });

    it('rejects a detail.findings that is not an array', () => {
      const event: Json = fixture(OPEN_SSH);
      event.detail.findings = event.detail.findings[0];

      const error = thrownBy(MalformedEventError, () => readEvent(event));

      expect(error.field).toBe('detail.findings');
      expect(error.source).toBe('aws.securityhub');
      expect(error.message).toContain('must be an array of ASFF findings');
    });
  });

  describe('GuardDuty native findings', () => {
    it.each([
      ['severity 11', (d: Json) => void (d.severity = 11), 'detail.severity', '<=10'],
      ['severity -1', (d: Json) => void (d.severity = -1), 'detail.severity', '>=0'],
      ['severity as a string', (d: Json) => void (d.severity = '8'), 'detail.severity', 'expected number, received string'],
      ['no accountId', (d: Json) => void delete d.accountId, 'detail.accountId', 'is missing'],
      ['instanceId "not-an-id"', (d: Json) => void (d.resource.instanceDetails.instanceId = 'not-an-id'), 'detail.resource.instanceDetails.instanceId', 'must be an EC2 instance id'],
      ['no resource', (d: Json) => void delete d.resource, 'detail.resource', 'is missing'],
      ['partition "aws-moon"', (d: Json) => void (d.partition = 'aws-moon'), 'detail.partition', 'must be one of aws, aws-us-gov, aws-cn'],
    ])('rejects a GuardDuty finding with %s', (_label, mutate, field, fragment) => {
      const event: Json = fixture(GUARDDUTY_EC2);
      mutate(event.detail);

      const error = thrownBy(MalformedEventError, () => readEvent(event));

      expect(error.field).toBe(field);
      expect(error.source).toBe('aws.guardduty');
      expect(error.message).toContain(`${field} `);
      expect(error.message).toContain(fragment);
    });
  });

  describe('Config compliance changes', () => {
    it('rejects complianceType MAYBE', () => {
      const event: Json = fixture(CONFIG_SSH);
      event.detail.newEvaluationResult.complianceType = 'MAYBE';

      const error = thrownBy(MalformedEventError, () => readEvent(event));

      expect(error.field).toBe('detail.newEvaluationResult.complianceType');
      expect(error.source).toBe('aws.config');
      expect(error.message).toContain('NON_COMPLIANT');
    });

    it('rejects a missing awsAccountId', () => {
      const event: Json = fixture(CONFIG_SSH);
      delete event.detail.awsAccountId;

      const error = thrownBy(MalformedEventError, () => readEvent(event));

      expect(error.field).toBe('detail.awsAccountId');
      expect(error.source).toBe('aws.config');
      expect(error.message).toContain('is missing');
    });
  });

  describe('Security Hub custom actions', () => {
    it('rejects an event without the action ARN in resources', () => {
      const event: Json = fixture(CUSTOM_ACTION);
      event.resources = [];

      const error = thrownBy(MalformedEventError, () => readEvent(event));

      expect(error.field).toBe('resources');
      expect(error.source).toBe('aws.securityhub');
      expect(error.message).toContain('must include the custom action ARN');
    });

    it('rejects an action id longer than 20 characters', () => {
      const event: Json = fixture(CUSTOM_ACTION);
      event.resources = ['arn:aws:securityhub:us-east-1:999988887777:action/custom/IsolateEc2InstanceNowPlease'];

      const error = thrownBy(MalformedEventError, () => readEvent(event));

      expect(error.field).toBe('resources');
      expect(error.source).toBe('aws.securityhub');
      expect(error.message).toContain('invalid custom action id');
    });

    it('rejects a missing detail.actionName', () => {
      const event: Json = fixture(CUSTOM_ACTION);
      delete event.detail.actionName;

      const error = thrownBy(MalformedEventError, () => readEvent(event));

      expect(error.field).toBe('detail.actionName');
      expect(error.source).toBe('aws.securityhub');
      expect(error.message).toContain('detail.actionName is missing');
    });

    it('rejects an actionDescription that is not a string', () => {
      const event: Json = fixture(CUSTOM_ACTION);
      event.detail.actionDescription = 42;

      const error = thrownBy(MalformedEventError, () => readEvent(event));

      expect(error.field).toBe('detail.actionDescription');
      expect(error.source).toBe('aws.securityhub');
      expect(error.message).toContain('must be a string');
    });
  });

  describe('Security Hub V2 (OCSF) findings', () => {
    const DETECTION_ID = 'arn:aws:guardduty:us-east-1:111122223333:detector/6c026564701ee0fc8cb85156519b43b8/finding/5a82ee9adccd84d14d108fae10cd4bb8';

    it('rejects class_uid 3001 (not a Findings class)', () => {
      const event: Json = fixture(OCSF_DETECTION);
      event.detail.findings[0].class_uid = 3001;

      const result = readEvent(event);

      expect(result.findings).toEqual([]);
      expect(result.rejected).toHaveLength(1);
      const [error] = result.rejected;
      expect(error).toBeInstanceOf(InvalidFindingError);
      expect(error?.field).toBe('detail.findings[0].class_uid');
      expect(error?.source).toBe('aws.securityhub');
      expect(error?.findingId).toBe(DETECTION_ID);
      expect(error?.message).toContain('must be an OCSF Findings class (2000–2099)');
    });

    it('rejects a finding without cloud.account.uid', () => {
      const event: Json = fixture(OCSF_COMPLIANCE);
      delete event.detail.findings[0].cloud.account.uid;

      const result = readEvent(event);

      expect(result.findings).toEqual([]);
      expect(result.rejected).toHaveLength(1);
      const [error] = result.rejected;
      expect(error).toBeInstanceOf(InvalidFindingError);
      expect(error?.field).toBe('detail.findings[0].cloud.account.uid');
      expect(error?.source).toBe('aws.securityhub');
      expect(error?.index).toBe(0);
      expect(error?.message).toContain('cloud.account.uid is missing');
    });

    it('rejects an empty OCSF findings array', () => {
      const event: Json = fixture(OCSF_DETECTION);
      event.detail.findings = [];

      const error = thrownBy(MalformedEventError, () => readEvent(event));

      expect(error.field).toBe('detail.findings');
      expect(error.source).toBe('aws.securityhub');
      expect(error.message).toContain('is empty');
    });
  });
});

describe('readApiRequest on malformed input', () => {
  function request(): Json {
    return fixture(API_REQUEST);
  }

  it('reads the valid fixture (baseline)', () => {
    const body = request();

    const result = readApiRequest(body, ALICE, { requestId: 'req-1' });

    expect(result.findings).toHaveLength(1);
    expect(result.findings[0]?.resources[0]?.instanceId).toBe('i-0a1b2c3d4e5f60718');
    expect(result.findings[0]?.trigger).toMatchObject({ kind: 'api', requestedBy: ALICE, requestId: 'req-1', dryRun: true });
  });

  it('rejects an unknown field, naming it', () => {
    const body = { ...request(), instanceID: 'i-0a1b2c3d4e5f60718' };

    const error = thrownBy(InvalidApiRequestError, () => readApiRequest(body, ALICE));

    expect(error.field).toBe('instanceID');
    expect(error.source).toBe('api');
    expect(error.message).toContain('is not a known field (unknown: "instanceID")');
  });

  // Reported: when the typo *replaces* the real key, zod's first issue is "instanceId is missing" and
  // describeIssue reports only that, so the message never names the misspelt key the caller sent.
  it('rejects a misspelt instanceID (replacing instanceId), naming the misspelt key', () => {
    const { instanceId, ...rest } = request();
    const body = { ...rest, instanceID: instanceId };

    const error = thrownBy(InvalidApiRequestError, () => readApiRequest(body, ALICE));

    expect(error.source).toBe('api');
    expect(error.message).toContain('instanceID');
  });

  it.each([
    ['instanceId', 'i-123', 'must be an EC2 instance id'],
    ['instanceId', 'i-0A1B2C3D4E5F60718', 'must be an EC2 instance id'],
    ['account', '12345', 'must be a 12-digit AWS account id'],
    ['region', 'moon-1', 'must be an AWS region'],
    ['dryRun', 'yes', 'expected boolean, received string'],
    ['playbook', 'Isolate Now', 'must be a playbook id'],
    ['reason', '   ', 'must not be empty'],
  ])('rejects %s = %j', (field, value, fragment) => {
    const body = { ...request(), [field]: value };

    const error = thrownBy(InvalidApiRequestError, () => readApiRequest(body, ALICE));

    expect(error.field).toBe(field);
    expect(error.source).toBe('api');
    expect(error.message).toContain(`api request: ${field} `);
    expect(error.message).toContain(fragment);
  });

  it('rejects a missing instanceId', () => {
    const { instanceId: _omitted, ...body } = request();

    const error = thrownBy(InvalidApiRequestError, () => readApiRequest(body, ALICE));

    expect(error.field).toBe('instanceId');
    expect(error.source).toBe('api');
    expect(error.message).toContain('instanceId is missing');
  });

  it.each([
    ['empty', ''],
    ['blank', '   '],
  ])('rejects a requester whose principal is %s', (_label, principal) => {
    const body = request();

    const error = thrownBy(InvalidApiRequestError, () => readApiRequest(body, { principal }));

    expect(error.field).toBe('requestedBy.principal');
    expect(error.source).toBe('api');
    expect(error.message).toContain('must name who asked');
  });

  it('rejects a body that is not JSON', () => {
    const body = '{"instanceId": "i-0a1b2c3d4e5f60718",';

    const error = thrownBy(InvalidApiRequestError, () => readApiRequest(body, ALICE));

    expect(error.field).toBeUndefined();
    expect(error.source).toBe('api');
    expect(error.message).toMatch(/^api request: is not valid JSON/);
  });

  it('rejects a body that is a JSON array', () => {
    const body = JSON.stringify([request()]);

    const error = thrownBy(InvalidApiRequestError, () => readApiRequest(body, ALICE));

    expect(error.field).toBeUndefined();
    expect(error.source).toBe('api');
    expect(error.message).toContain('must be a JSON object, got an array');
  });

  it('rejects a __proto__ key in the body as an API error, naming it', () => {
    const body = `{"__proto__": {"dryRun": false}, ${JSON.stringify(request()).slice(1)}`;

    const error = thrownBy(InvalidApiRequestError, () => readApiRequest(body, ALICE));

    expect(error.field).toBe('__proto__');
    expect(error.source).toBe('api');
    expect(error.message).toContain('forbidden key "__proto__"');
  });
});

describe('readApiGatewayEvent on malformed input', () => {
  it('rejects an event with no authenticated identity', () => {
    const event: Json = fixture(APIGATEWAY);
    delete event.requestContext.identity;

    const error = thrownBy(InvalidApiRequestError, () => readApiGatewayEvent(event));

    expect(error.field).toBe('requestContext.identity');
    expect(error.source).toBe('api');
    expect(error.message).toContain('carries no authenticated identity');
  });

  it('rejects an identity whose every principal field is null', () => {
    const event: Json = fixture(APIGATEWAY);
    event.requestContext.identity = { userArn: null, caller: null, user: null, sourceIp: '203.0.113.42' };

    const error = thrownBy(InvalidApiRequestError, () => readApiGatewayEvent(event));

    expect(error.field).toBe('requestContext.identity');
    expect(error.source).toBe('api');
  });

  it('rejects an event with no body', () => {
    const event: Json = fixture(APIGATEWAY);
    event.body = null;

    const error = thrownBy(InvalidApiRequestError, () => readApiGatewayEvent(event));

    expect(error.field).toBe('body');
    expect(error.source).toBe('api');
    expect(error.message).toContain('body is missing');
  });

  it('rejects an event without requestContext as malformed', () => {
    const event: Json = fixture(APIGATEWAY);
    delete event.requestContext;

    const error = thrownBy(MalformedEventError, () => readApiGatewayEvent(event));

    expect(error.field).toBe('requestContext');
    expect(error.source).toBe('apigateway');
    expect(error.message).toContain('requestContext is missing');
  });

  it('reads a base64-encoded body', () => {
    const event: Json = fixture(APIGATEWAY);
    event.body = Buffer.from(event.body as string, 'utf8').toString('base64');
    event.isBase64Encoded = true;

    const result = readApiGatewayEvent(event);

    expect(result.findings).toHaveLength(1);
    expect(result.rejected).toEqual([]);
    const [finding] = result.findings;
    expect(finding?.resources[0]?.instanceId).toBe('i-0a1b2c3d4e5f60718');
    expect(finding?.account).toBe('111122223333');
    expect(finding?.trigger).toMatchObject({
      kind: 'api',
      requestId: 'f3a1c2d4-5b6e-4f70-8a91-b2c3d4e5f607',
      requestedBy: { principal: 'arn:aws:sts::999988887777:assumed-role/SecOpsResponder/alice@example.com', sourceIp: '203.0.113.42' },
    });
  });

  it('reports an invalid field inside a base64-encoded body', () => {
    const event: Json = fixture(APIGATEWAY);
    event.body = Buffer.from(JSON.stringify({ ...fixture<Json>(API_REQUEST), region: 'moon-1' }), 'utf8').toString('base64');
    event.isBase64Encoded = true;

    const error = thrownBy(InvalidApiRequestError, () => readApiGatewayEvent(event));

    expect(error.field).toBe('region');
    expect(error.source).toBe('api');
    expect(error.message).toContain('must be an AWS region');
  });
});

describe('values that would send a remediation to the wrong place', () => {
  it('ignores a ProductArn region that is not an AWS region and falls back to the event region', () => {
    const event: Json = fixture(UNKNOWN_PRODUCT); // the finding has no Region; its resource has no Region either
    event.detail.findings[0].ProductArn = 'arn:aws:securityhub:moon::product/123456789012/default';

    const [finding] = readEvent(event).findings;

    expect(finding?.region).toBe('us-east-1');
    expect(finding?.resources[0]?.region).toBe('us-east-1');
  });

  it('rejects a Config EC2 instance evaluation whose resource id is not an instance id', () => {
    const event: Json = fixture(CONFIG_SSH);
    event.detail.resourceType = 'AWS::EC2::Instance';
    event.detail.resourceId = 'not-an-instance';

    const error = thrownBy(MalformedEventError, () => readEvent(event));

    expect(error).toMatchObject({ field: 'detail.resourceId', source: 'aws.config' });
  });

  it('rejects a Config security group evaluation whose resource id is not a group id', () => {
    const event: Json = fixture(CONFIG_SSH);
    event.detail.resourceId = 'x';

    expect(thrownBy(MalformedEventError, () => readEvent(event))).toMatchObject({ field: 'detail.resourceId' });
  });

  it("takes the finding's account when a resource ARN names no valid account", () => {
    const event: Json = fixture(OPEN_SSH);
    event.detail.findings[0].Resources[0].Id = 'arn:aws:ec2:us-east-1:evil:security-group/sg-0f1e2d3c4b5a69788';

    const [finding] = readEvent(event).findings;

    expect(finding?.resources[0]?.account).toBe('111122223333');
  });

  it('rejects an OCSF finding whose resource owner account is not an account id', () => {
    const event: Json = fixture(OCSF_DETECTION);
    event.detail.findings[0].resources[0].owner.account.uid = 'nope';

    const result = readEvent(event);

    expect(result.findings).toEqual([]);
    expect(result.rejected[0]).toMatchObject({ field: 'detail.findings[0].resources[0].owner.account.uid' });
  });

  it('quotes keys that are not plain names in error paths', () => {
    const error = thrownBy(ForbiddenKeyError, () => readEvent('{"": {"__proto__": 1}}'));

    expect(error).toMatchObject({ field: '[""].__proto__' });
  });
});

describe('input that is not a finding event says what it is and what Riposte expected (test/fixtures/events/poison)', () => {
  const poison = (name: string): Json => fixture(`poison/${name}`);

  it.each([
    ['bare-asff-finding.json', /bare ASFF finding.*"Security Hub Findings - Imported" event/],
    ['bare-guardduty-finding.json', /bare GuardDuty finding.*"GuardDuty Finding" event/],
    ['boto3-put-events-entry.json', /PutEvents request entry/],
    ['pascalcase-envelope-asff.json', /PascalCase keys/],
    ['config-rule-lambda-invocation.json', /AWS Config invokes a custom rule's Lambda function.*"Config Rules Compliance Change" event/],
  ])('%s is refused as no EventBridge event, naming the kind', (name, message) => {
    const error = thrownBy(MalformedEventError, () => readEvent(poison(name), { origin: `sqs:${name}` }));
    expect(error.message).toMatch(message);
    expect(error.message.startsWith(`sqs:${name}`)).toBe(true);
  });

  it.each([
    ['cloudtrail-guardduty-archive-findings.json', /a CloudTrail record of the API call guardduty:ArchiveFindings, not a finding/],
    ['securityhub-insight-results.json', /results of a Security Hub insight/],
    ['guardduty-runtime-protection-unhealthy.json', /Runtime Monitoring coverage/],
    ['inspector2-finding.json', /in aws\.inspector2's own format.*"Security Hub Findings - Imported" event/],
  ])('%s is refused as an unsupported event, saying what it is', (name, message) => {
    const error = thrownBy(UnsupportedEventError, () => readEvent(poison(name)));
    expect(error.message).toMatch(message);
    expect(error.message).toContain('Riposte consumes:');
  });

  it('an event missing only its detail-type still names that field', () => {
    const event: Json = fixture(GUARDDUTY_EC2);
    delete event['detail-type'];
    const error = thrownBy(MalformedEventError, () => readEvent(event));
    expect(error.message).toMatch(/detail-type/);
  });
});
