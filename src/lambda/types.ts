/*
 * The shapes of what the Lambda runtime hands a handler, as far as Riposte
 * reads them. Declared here rather than taken from `@types/aws-lambda`, which
 * is not a dependency: each is a structural subset of AWS's own, so a real
 * event or context object satisfies it.
 */

/** The Lambda context: only what Riposte uses. */
export interface LambdaContext {
  /** The invocation's id: the correlation id of an API request when API Gateway gives none. */
  readonly awsRequestId: string;
  readonly functionName?: string;
  /** `arn:aws:lambda:<region>:<account>:function:<name>`: the account the function runs in. */
  readonly invokedFunctionArn?: string;
  /** Milliseconds before the runtime stops the invocation. */
  getRemainingTimeInMillis(): number;
}

/** One message of an SQS event source (AWS sends more fields; these are the ones read). */
export interface SqsRecord {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly messageAttributes: Readonly<Record<string, unknown>>;
  readonly md5OfBody: string;
  readonly eventSource: string;
  readonly eventSourceARN: string;
  readonly awsRegion: string;
}

export interface SqsEvent {
  readonly Records: readonly SqsRecord[];
}

/** What an SQS event source mapping with `ReportBatchItemFailures` reads back: the messages to redeliver. */
export interface SqsBatchResponse {
  readonly batchItemFailures: ReadonlyArray<{ readonly itemIdentifier: string }>;
}

/** An EventBridge event delivered to a Lambda target directly (custom actions). */
export interface EventBridgeEvent {
  readonly version?: string;
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  readonly time?: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: unknown;
}

/** `requestContext.identity` of a REST API (v1) proxy event: set by API Gateway from the SigV4 signature when the method uses IAM authorization. */
export interface ApiGatewayIdentity {
  readonly accountId?: string | null;
  readonly caller?: string | null;
  readonly user?: string | null;
  readonly userArn?: string | null;
  readonly accessKey?: string | null;
  readonly principalOrgId?: string | null;
  readonly sourceIp?: string | null;
  readonly userAgent?: string | null;
}

/** An API Gateway REST API (v1) Lambda proxy event. */
export interface ApiGatewayProxyEvent {
  readonly resource?: string;
  readonly path: string;
  readonly httpMethod: string;
  readonly headers?: Readonly<Record<string, string | undefined>> | null;
  readonly multiValueHeaders?: Readonly<Record<string, readonly string[] | undefined>> | null;
  readonly queryStringParameters?: Readonly<Record<string, string | undefined>> | null;
  readonly pathParameters?: Readonly<Record<string, string | undefined>> | null;
  readonly requestContext: {
    readonly requestId?: string;
    readonly stage?: string;
    readonly identity?: ApiGatewayIdentity | null;
    readonly [key: string]: unknown;
  };
  readonly body?: string | null;
  readonly isBase64Encoded?: boolean;
}

/** What a REST API (v1) proxy integration answers. */
export interface ApiGatewayProxyResult {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}
