/*
 * The forwarder template (StackSets, every region but the home one) and the
 * EventBridge patterns the stack and the forwarders share: deploy-time
 * logic, printed by `riposte forwarders` and used by deploy/stack.ts.
 */
import type { CompiledPlaybook, EventPattern } from '../playbooks/index.js';

/** EventBridge's limit on the size of an event pattern (characters of its JSON). */
export const MAX_EVENT_PATTERN_CHARACTERS = 2_048;

/** The detail-type of Security Hub's custom-action events: delivered to their own function, never through the findings queue. */
export const CUSTOM_ACTION_DETAIL_TYPE = 'Security Hub Findings - Custom Action';

/** The regional sources Security Hub's cross-region aggregation does not bring home: their events are forwarded. */
export const FORWARDED_SOURCES: readonly string[] = ['aws.guardduty', 'aws.config'];

const BASE_KEYS = new Set(['source', 'detail-type']);

/** The first detail-type a pattern names (every pattern Riposte writes names one). */
export const detailTypeOf = (pattern: EventPattern): string => String((pattern['detail-type'] as readonly string[] | undefined)?.[0] ?? 'Event');

/** One kind of event: its source and detail-type, and the patterns' narrowings of it. */
interface Kind {
  readonly source: unknown;
  readonly detailType: unknown;
  /** `undefined` once a pattern accepts every event of the kind. */
  bodies: EventPattern[] | undefined;
  /** Bodies that cannot be joined to others (an `$or` beside other fields): a rule each. */
  readonly alone: EventPattern[];
}

const sizeOf = (pattern: EventPattern): number => JSON.stringify(pattern).length;

/**
 * The automatic (not custom-action) patterns of a library, joined per event
 * kind (source and detail-type) with `$or`, so that an event matching
 * several playbooks is delivered once, not once per playbook. A kind whose
 * joined pattern would pass EventBridge's size limit is split into several
 * rules (an event matching two of them is delivered twice, which the
 * pipeline's idempotency claims absorb). Never narrower than the patterns:
 * every event one of them accepts, one of the results accepts.
 *
 * @param finish what is done to each joined pattern (fields every rule of a
 *   deployment adds): the size limit is checked on its result.
 */
export function joinPatternsByKind(patterns: readonly EventPattern[], finish: (pattern: EventPattern) => EventPattern = (pattern) => pattern): EventPattern[] {
  const kinds = new Map<string, Kind>();
  for (const pattern of patterns) {
    const key = JSON.stringify([pattern.source, pattern['detail-type']]);
    const kind: Kind = kinds.get(key) ?? { source: pattern.source, detailType: pattern['detail-type'], bodies: [], alone: [] };
    kinds.set(key, kind);
    const body: EventPattern = Object.fromEntries(Object.entries(pattern).filter(([name]) => !BASE_KEYS.has(name)));
    const names = Object.keys(body);
    if (names.length === 0) kind.bodies = undefined;
    else if (kind.bodies === undefined) continue;
    else if (names.length === 1 && names[0] === '$or') kind.bodies.push(...(body.$or as readonly EventPattern[]));
    else if (names.includes('$or')) kind.alone.push(body);
    else kind.bodies.push(body);
  }
  const joined: EventPattern[] = [];
  for (const { source, detailType, bodies, alone } of kinds.values()) {
    const base = { source, 'detail-type': detailType } as EventPattern;
    if (bodies === undefined) {
      joined.push(finish(base));
      continue;
    }
    const of = (chunk: readonly EventPattern[]): EventPattern => (chunk.length === 1 ? { ...base, ...chunk[0] } : { ...base, $or: chunk });
    // A playbook's own pattern that passes the limit only with what `finish` adds goes without it (broader, never narrower).
    const finished = (chunk: readonly EventPattern[]): EventPattern => {
      const pattern = finish(of(chunk));
      return sizeOf(pattern) > MAX_EVENT_PATTERN_CHARACTERS && chunk.length === 1 ? of(chunk) : pattern;
    };
    const unique = [...new Map(bodies.map((body) => [JSON.stringify(body), body])).values()];
    let chunk: EventPattern[] = [];
    for (const body of unique) {
      if (chunk.length > 0 && sizeOf(finish(of([...chunk, body]))) > MAX_EVENT_PATTERN_CHARACTERS) {
        joined.push(finished(chunk));
        chunk = [];
      }
      chunk.push(body);
    }
    if (chunk.length > 0) joined.push(finished(chunk));
    joined.push(...alone.map((body) => finished([body])));
  }
  return joined;
}

/** The automatic patterns of a library (custom-action patterns left out). */
export function automaticPatternsOf(playbooks: readonly CompiledPlaybook[]): EventPattern[] {
  return playbooks
    .filter((compiled) => compiled.playbook.triggers.automatic)
    .flatMap((compiled) => compiled.eventPatterns)
    .filter((pattern) => !(pattern['detail-type'] as readonly unknown[]).includes(CUSTOM_ACTION_DETAIL_TYPE));
}

/** The patterns a forwarder sends home: the library's GuardDuty and Config patterns, joined per kind. */
export function forwardedPatterns(playbooks: readonly CompiledPlaybook[]): EventPattern[] {
  const regional = automaticPatternsOf(playbooks).filter((pattern) => (pattern.source as readonly unknown[]).every((source) => FORWARDED_SOURCES.includes(source as string)));
  return joinPatternsByKind(regional);
}

export interface ForwarderTemplateOptions {
  /** The region Riposte runs in: the default of the template's `HomeRegion`. */
  readonly homeRegion?: string;
  /** The bus Riposte's rules read in the home region (`default` unless given). */
  readonly busName?: string;
}

/** `GuardDutyFindingForwarder`, `ConfigRulesComplianceChangeForwarder2`: a rule's logical id, from its kind. */
function ruleName(pattern: EventPattern, index: number): string {
  const words = detailTypeOf(pattern)
    .replace(/[^A-Za-z0-9]+/g, ' ')
    .trim()
    .split(' ');
  return `${words.map((word) => `${word.charAt(0).toUpperCase()}${word.slice(1)}`).join('')}Forwarder${index === 0 ? '' : index + 1}`;
}

/**
 * A CloudFormation template, for StackSets over the accounts and regions
 * GuardDuty and Config report in: in each region but the home one, an
 * EventBridge rule per joined pattern that sends the matching events to
 * Riposte's bus in the home region, through a role allowed only
 * `events:PutEvents` on that bus. In the home region nothing is created (a
 * rule may not send to the bus it reads): a no-op resource keeps the stack
 * valid there.
 */
export function forwarderTemplate(playbooks: readonly CompiledPlaybook[], options: ForwarderTemplateOptions = {}): Record<string, unknown> {
  const patterns = forwardedPatterns(playbooks);
  const counts = new Map<string, number>();
  const rules = Object.fromEntries(
    patterns.map((pattern) => {
      const kind = detailTypeOf(pattern);
      const index = counts.get(kind) ?? 0;
      counts.set(kind, index + 1);
      return [
        ruleName(pattern, index),
        {
          Type: 'AWS::Events::Rule',
          Condition: 'ForwardHere',
          Properties: {
            Description: `Riposte: forwards ${kind} events its playbooks act on to the home region`,
            EventPattern: pattern,
            State: 'ENABLED',
            Targets: [
              {
                Id: 'riposte-home-bus',
                Arn: { 'Fn::Sub': 'arn:${AWS::Partition}:events:${HomeRegion}:${RiposteAccountId}:event-bus/${HomeBusName}' },
                RoleArn: { 'Fn::GetAtt': ['ForwarderRole', 'Arn'] },
              },
            ],
          },
        },
      ];
    }),
  );
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: 'Riposte forwarders: GuardDuty and Config events its playbooks act on, sent from this region to the home region bus (generated by `riposte forwarders`).',
    Parameters: {
      HomeRegion: {
        Type: 'String',
        AllowedPattern: '^[a-z]{2}(-[a-z]+)+-\\d$',
        Description: 'The region Riposte runs in',
        ...(options.homeRegion === undefined ? {} : { Default: options.homeRegion }),
      },
      RiposteAccountId: { Type: 'String', AllowedPattern: '^\\d{12}$', Description: 'The AWS account Riposte runs in (its bus must allow this account to put events)' },
      HomeBusName: { Type: 'String', Default: options.busName ?? 'default', AllowedPattern: '^[\\w.-]{1,256}$', Description: 'The bus the rules of Riposte read in the home region' },
    },
    Conditions: { ForwardHere: { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'AWS::Region' }, { Ref: 'HomeRegion' }] }] } },
    Resources: {
      // A stack needs one resource: in the home region every other one is left out.
      Placeholder: { Type: 'AWS::CloudFormation::WaitConditionHandle' },
      // No RoleName: IAM is global, and a generated name keeps each region's stack from colliding with another's.
      ForwarderRole: {
        Type: 'AWS::IAM::Role',
        Condition: 'ForwardHere',
        Properties: {
          Description: 'Lets EventBridge forward GuardDuty and Config events to the home bus of Riposte',
          AssumeRolePolicyDocument: {
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } }],
          },
          Policies: [
            {
              PolicyName: 'put-events-home',
              PolicyDocument: {
                Version: '2012-10-17',
                Statement: [{ Effect: 'Allow', Action: 'events:PutEvents', Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:events:${HomeRegion}:${RiposteAccountId}:event-bus/${HomeBusName}' } }],
              },
            },
          ],
          Tags: [{ Key: 'riposte:managed', Value: 'true' }],
        },
      },
      ...rules,
    },
  };
}
