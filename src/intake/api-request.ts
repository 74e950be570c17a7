import { randomUUID } from 'node:crypto';

import * as z from '../zod.js';

import { accountIdSchema, ec2Arn, isKnownRegion, partitionOfRegion, regionSchema } from '../aws-names.js';
import { InvalidApiRequestError, IntakeError, MalformedEventError } from './errors.js';
import { parseOrThrow } from './field-path.js';
import { readJsonObject } from './raw-input.js';
import { assumedSeverity } from './severity.js';
import { FindingFormat, FindingSource, RecordState, SeverityLabel, WorkflowStatus, type EventEnvelope, type Finding, type IntakeResult, type Requester } from './types.js';

/** The body of an on-demand request. Strict: a misspelt field is an error, not a silently ignored option. */
export const apiRequestSchema = z.strictObject({
  instanceId: z.string().check(z.regex(/^i-[0-9a-f]{8}([0-9a-f]{9})?$/, 'must be an EC2 instance id: i- and 8 or 17 hex digits')),
  account: accountIdSchema,
  // A region of the right shape is not enough: no client, role session or run is made for one AWS does not have.
  region: regionSchema.check(z.refine((region: string) => isKnownRegion(partitionOfRegion(region), region), 'is not an AWS region Riposte knows (see KNOWN_REGIONS in src/aws-names.ts)')),
  playbook: z.optional(z.string().check(z.regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'must be a playbook id: lowercase letters, digits and dashes, at most 64'))),
  reason: z.optional(z.string().check(z.trim(), z.minLength(1, 'must not be empty'), z.maxLength(1_000, 'must be at most 1000 characters'))),
  dryRun: z._default(z.boolean(), false),
});
export type ApiRequest = z.infer<typeof apiRequestSchema>;

const requesterSchema = z.object({
  principal: z.string().check(z.trim(), z.minLength(1, 'must name who asked')),
  sourceIp: z.optional(z.string()),
  userAgent: z.optional(z.string()),
});

export const API_SOURCE = 'riposte.api';
export const API_DETAIL_TYPE = 'On-demand Response Request';

export interface ApiRequestOptions {
  /** API Gateway's request id; a fresh UUID when absent (the CLI). */
  readonly requestId?: string;
}

/**
 * An on-demand request to respond to one EC2 instance, with who asked.
 * It becomes a finding like any other, triggered by `api`.
 */
export function readApiRequest(body: unknown, requester: Requester, options: ApiRequestOptions = {}): IntakeResult {
  let object;
  try {
    object = readJsonObject(body, 'api request');
  } catch (error) {
    if (error instanceof IntakeError) throw new InvalidApiRequestError(error.message.replace(/^api request: /, ''), error.field);
    throw error;
  }
  const invalid = (message: string, field: string): InvalidApiRequestError => new InvalidApiRequestError(message, field);
  const request = parseOrThrow(apiRequestSchema, object, invalid);
  const requestedBy = parseOrThrow(requesterSchema, requester, invalid, 'requestedBy');
  const requestId = options.requestId ?? randomUUID();
  const partition = partitionOfRegion(request.region);
  const arn = ec2Arn(partition, request.region, request.account, 'instance', request.instanceId);
  const envelope: EventEnvelope = {
    id: requestId,
    source: API_SOURCE,
    detailType: API_DETAIL_TYPE,
    account: request.account,
    region: request.region,
    resources: [arn],
  };
  const finding: Finding = {
    // One request, one finding; idempotency for API requests keys on the resource, not this id.
    id: `riposte-api/${request.account}/${request.region}/${request.instanceId}/${requestId}`,
    source: FindingSource.Api,
    format: FindingFormat.ApiRequest,
    product: { id: 'riposte', owner: 'riposte', name: 'Riposte', company: 'Riposte' },
    title: `On-demand incident response for ${request.instanceId}`,
    ...(request.reason === undefined ? {} : { description: request.reason }),
    types: ['Riposte/On-demand/Incident response'],
    // A person asking for incident response on an instance is treated as a high-severity incident.
    severity: assumedSeverity(SeverityLabel.High),
    workflow: WorkflowStatus.New,
    recordState: RecordState.Active,
    account: request.account,
    region: request.region,
    partition,
    resources: [
      {
        type: 'AwsEc2Instance',
        id: arn,
        arn,
        account: request.account,
        region: request.region,
        partition,
        instanceId: request.instanceId,
        securityGroupIds: [],
        networkInterfaces: [],
      },
    ],
    trigger: {
      kind: 'api',
      requestedBy,
      requestId,
      ...(request.playbook === undefined ? {} : { playbook: request.playbook }),
      ...(request.reason === undefined ? {} : { reason: request.reason }),
      dryRun: request.dryRun,
    },
    raw: { envelope, record: object },
  };
  return { envelope, findings: [finding], rejected: [] };
}

const apiGatewayEventSchema = z.looseObject({
  body: z.optional(z.nullable(z.string())),
  isBase64Encoded: z.optional(z.boolean()),
  requestContext: z.looseObject({
    requestId: z.optional(z.string()),
    // REST API (v1) with IAM authorization
    identity: z.optional(
      z.looseObject({
        userArn: z.optional(z.nullable(z.string())),
        caller: z.optional(z.nullable(z.string())),
        user: z.optional(z.nullable(z.string())),
        sourceIp: z.optional(z.nullable(z.string())),
        userAgent: z.optional(z.nullable(z.string())),
      }),
    ),
    // HTTP API (v2) and custom/Cognito authorizers
    http: z.optional(z.looseObject({ sourceIp: z.optional(z.string()), userAgent: z.optional(z.string()) })),
    authorizer: z.optional(
      z.nullable(
        z.looseObject({
          principalId: z.optional(z.string()),
          iam: z.optional(z.looseObject({ userArn: z.optional(z.string()) })),
          claims: z.optional(z.looseObject({ sub: z.optional(z.string()), email: z.optional(z.string()) })),
          jwt: z.optional(z.looseObject({ claims: z.optional(z.looseObject({ sub: z.optional(z.string()) })) })),
        }),
      ),
    ),
  }),
});

/**
 * An API Gateway proxy event (REST v1 or HTTP v2) carrying an on-demand
 * request. Who asked comes from the authenticated identity API Gateway
 * attached, never from the body.
 */
export function readApiGatewayEvent(event: unknown): IntakeResult {
  const object = readJsonObject(event, 'apigateway');
  const { body, isBase64Encoded, requestContext } = parseOrThrow(apiGatewayEventSchema, object, (message, field) => new MalformedEventError(message, 'apigateway', field));
  if (body === undefined || body === null || body === '') throw new InvalidApiRequestError('is missing: send the request as a JSON body', 'body');
  const text = isBase64Encoded === true ? Buffer.from(body, 'base64').toString('utf8') : body;
  const identity = requestContext.identity;
  const authorizer = requestContext.authorizer ?? undefined;
  const principal =
    identity?.userArn ??
    authorizer?.iam?.userArn ??
    authorizer?.claims?.email ??
    authorizer?.claims?.sub ??
    authorizer?.jwt?.claims?.sub ??
    authorizer?.principalId ??
    identity?.caller ??
    identity?.user ??
    undefined;
  if (principal === undefined || principal === null) {
    throw new InvalidApiRequestError('is unknown: the request carries no authenticated identity (deploy the API with IAM or an authorizer)', 'requestContext.identity');
  }
  const sourceIp = identity?.sourceIp ?? requestContext.http?.sourceIp ?? undefined;
  const userAgent = identity?.userAgent ?? requestContext.http?.userAgent ?? undefined;
  const requester: Requester = {
    principal,
    ...(sourceIp === undefined || sourceIp === null ? {} : { sourceIp }),
    ...(userAgent === undefined || userAgent === null ? {} : { userAgent }),
  };
  return readApiRequest(text, requester, requestContext.requestId === undefined ? {} : { requestId: requestContext.requestId });
}
