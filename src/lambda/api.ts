import * as z from '../zod.js';

import { principalAdmits, type PrincipalList } from '../aws-names.js';
import { isRetryableError, serializeError, type SerializedError } from '../errors.js';
import { describeIssue, InvalidApiRequestError, readApiRequest, type IntakeResult, type Requester } from '../intake/index.js';
import { isTerminal, type RunRecord } from '../ledger/index.js';
import { neutraliseJson } from '../neutralise.js';
import {
  findingRecordStatus,
  RollbackRefusedError,
  RunUnknownError,
  StoredTargetsInvalidError,
  type OnDemandAmbiguousError,
  type OnDemandRefusedError,
  type PipelineResult,
  type PlaybookRunResult,
} from '../pipeline/index.js';
import { MetricCounts } from './metrics.js';
import { containerRuntime, type LambdaRuntime } from './runtime.js';
import type { ApiGatewayProxyEvent, ApiGatewayProxyResult, LambdaContext } from './types.js';

/** The largest request body taken (a request is a few hundred bytes; the reason at most 1000 characters). */
export const API_MAX_BODY_BYTES = 16 * 1024;

/**
 * How long a request may run the pipeline: under API Gateway's 29 s
 * integration timeout. The pipeline starts no step with less than 30 s
 * left, so a run that changes something is claimed, resolved, guarded and
 * planned here — an unknown instance is a 404, a duplicate a 409 — and its
 * steps are carried out by the resume function (the run is `in-progress`,
 * hence 202). A dry run ends with its plan, within the request.
 */
export const API_TIME_BUDGET_MS = 28_000;

/** What an error answer's `error.code` says. */
export const ApiErrorCode = {
  InvalidRequest: 'INVALID_REQUEST',
  Forbidden: 'FORBIDDEN',
  RouteNotFound: 'ROUTE_NOT_FOUND',
  RunNotFound: 'RUN_NOT_FOUND',
  /** 400: no playbook taking on-demand requests (or not the one named) accepts the request's account, region or instance by its match. */
  NotMatched: 'NOT_MATCHED',
  /** 409: several playbooks' matches accept the request, it names none, and not exactly one of them is the library's default: name one. */
  PlaybookAmbiguous: 'PLAYBOOK_AMBIGUOUS',
  InstanceNotFound: 'INSTANCE_NOT_FOUND',
  MethodNotAllowed: 'METHOD_NOT_ALLOWED',
  RunInProgress: 'RUN_IN_PROGRESS',
  AlreadyHandled: 'ALREADY_HANDLED',
  RollbackRefused: 'ROLLBACK_REFUSED',
  PayloadTooLarge: 'PAYLOAD_TOO_LARGE',
  UnsupportedMediaType: 'UNSUPPORTED_MEDIA_TYPE',
  Unavailable: 'UNAVAILABLE',
  Internal: 'INTERNAL',
} as const;
export type ApiErrorCode = (typeof ApiErrorCode)[keyof typeof ApiErrorCode];

/**
 * Every error answer: `{ error: { code, message, field?, candidates? } }`, with the run concerned where there is one;
 * `candidates`: the playbooks a refused on-demand request could name (`NOT_MATCHED`, `PLAYBOOK_AMBIGUOUS`).
 */
export interface ApiErrorBody {
  readonly error: { readonly code: ApiErrorCode; readonly message: string; readonly field?: string; readonly candidates?: readonly string[] };
  readonly runId?: string;
}

/** A run as `POST /respond` and `POST /runs/{id}/rollback` report it. */
export interface ApiRunView {
  readonly runId?: string;
  readonly playbookId: string;
  readonly status: PlaybookRunResult['status'];
  readonly mode: PlaybookRunResult['mode'];
  readonly summary: string;
  readonly guard?: PlaybookRunResult['guard'];
  readonly duplicateOf?: string;
  readonly resume?: PlaybookRunResult['resume'];
}

/** A run id as `newRunId` makes them: `r-20261124T101500Z-3f9a1c2b4d5e`. */
const RUN_ID = /^r-\d{8}T\d{6}Z-[0-9a-f]{12}$/;

/** The body `POST /runs/{id}/rollback` may carry. */
const rollbackBodySchema = z.strictObject({
  reason: z.optional(z.string().check(z.trim(), z.minLength(1, 'must not be empty'), z.maxLength(1_000, 'must be at most 1000 characters'))),
});

interface Route {
  readonly name: 'respond' | 'get-run' | 'rollback';
  readonly pattern: RegExp;
  readonly method: 'GET' | 'POST';
}

const ROUTES: readonly Route[] = [
  { name: 'respond', pattern: /^\/respond$/, method: 'POST' },
  { name: 'get-run', pattern: /^\/runs\/([^/]+)$/, method: 'GET' },
  { name: 'rollback', pattern: /^\/runs\/([^/]+)\/rollback$/, method: 'POST' },
];

/**
 * An answer as JSON. A run carries its finding's text (titles, a request's
 * reason, who asked and with what User-Agent) as it came, and a person reads
 * the answer in a terminal (`curl`, `awscurl`): every control, bidi and
 * separator character is written as a JSON escape, which parses back to
 * the very same value.
 */
const json = (statusCode: number, body: unknown, correlationId: string, headers: Record<string, string> = {}): ApiGatewayProxyResult => ({
  statusCode,
  headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', 'X-Correlation-Id': correlationId, ...headers },
  body: neutraliseJson(JSON.stringify(body)),
});

function failure(
  statusCode: number,
  code: ApiErrorCode,
  message: string,
  correlationId: string,
  extra: { readonly field?: string; readonly runId?: string; readonly headers?: Record<string, string>; readonly candidates?: readonly string[] } = {},
): ApiGatewayProxyResult {
  const body: ApiErrorBody = {
    error: { code, message, ...(extra.field === undefined ? {} : { field: extra.field }), ...(extra.candidates === undefined ? {} : { candidates: extra.candidates }) },
    ...(extra.runId === undefined ? {} : { runId: extra.runId }),
  };
  return json(statusCode, body, correlationId, extra.headers);
}

/**
 * Who asked: the IAM identity API Gateway put in the request context after
 * checking the SigV4 signature — never anything the body says. Without a
 * caller ARN there is no IAM identity (the method was deployed without IAM
 * authorization, or the event was not made by API Gateway): refused.
 */
export function callerOf(event: ApiGatewayProxyEvent): Requester | undefined {
  const identity = event.requestContext?.identity ?? undefined;
  const userArn = identity?.userArn;
  if (typeof userArn !== 'string' || !/^arn:aws[\w-]*:(iam|sts)::\d{12}:\S+$/.test(userArn)) return undefined;
  const { sourceIp, userAgent } = identity ?? {};
  return {
    principal: userArn,
    ...(typeof sourceIp === 'string' && sourceIp !== '' ? { sourceIp } : {}),
    ...(typeof userAgent === 'string' && userAgent !== '' ? { userAgent } : {}),
  };
}

/** The principals an API admits, for a refusal's message. */
const describePrincipals = (list: PrincipalList): string =>
  list.accounts.length === 0 && list.arns.length === 0 ? 'its own account only' : [...list.accounts.map((account) => `account ${account}`), ...list.arns].join(', ');

/** A header's value, whatever case the client wrote its name in. */
function header(event: ApiGatewayProxyEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) if (key.toLowerCase() === wanted && typeof value === 'string') return value;
  for (const [key, values] of Object.entries(event.multiValueHeaders ?? {})) if (key.toLowerCase() === wanted && values?.[0] !== undefined) return values[0];
  return undefined;
}

/** The body as text, or the answer refusing it: too large (413), or not JSON (415). An empty body is `undefined`. */
function bodyOf(event: ApiGatewayProxyEvent, correlationId: string): { text: string | undefined } | { refused: ApiGatewayProxyResult } {
  const raw = event.body;
  if (raw === undefined || raw === null || raw === '') return { text: undefined };
  const bytes = event.isBase64Encoded === true ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (bytes.byteLength > API_MAX_BODY_BYTES) {
    return { refused: failure(413, ApiErrorCode.PayloadTooLarge, `the body is ${bytes.byteLength} bytes; at most ${API_MAX_BODY_BYTES} are taken`, correlationId, { field: 'body' }) };
  }
  const type = header(event, 'content-type');
  if (type === undefined || !/^application\/json\s*(;|$)/i.test(type.trim())) {
    return {
      refused: failure(
        415,
        ApiErrorCode.UnsupportedMediaType,
        `the body must be JSON sent as Content-Type: application/json (got ${type === undefined ? 'none' : JSON.stringify(type.slice(0, 100))})`,
        correlationId,
        {
          field: 'Content-Type',
        },
      ),
    };
  }
  return { text: bytes.toString('utf8') };
}

const runView = (run: PlaybookRunResult): ApiRunView => ({
  ...(run.runId === undefined ? {} : { runId: run.runId }),
  playbookId: run.playbookId,
  status: run.status,
  mode: run.mode,
  summary: run.summary,
  ...(run.guard === undefined ? {} : { guard: run.guard }),
  ...(run.duplicateOf === undefined ? {} : { duplicateOf: run.duplicateOf }),
  ...(run.resume === undefined ? {} : { resume: run.resume }),
});

/**
 * A run as `GET /runs/{id}` returns it: the ledger's record whole — steps
 * with their changes and undo, targets, outcome, history, who asked (the
 * finding's `trigger.requestedBy`) — except `receivedEvent`, the raw
 * delivery kept for audit: up to 256 KB of third-party text, which the
 * normalized `finding` already carries in the form the run used. The
 * record holds no credential: member sessions are never written down.
 */
export function publicRun(record: RunRecord): Omit<RunRecord, 'receivedEvent'> {
  const { receivedEvent: _raw, ...rest } = record;
  return rest;
}

/** Runs the API may start: the playbooks whose `triggers.api` is true. */
const apiPlaybookIds = (runtime: LambdaRuntime): string[] => runtime.playbooks.filter((compiled) => compiled.playbook.triggers.api).map((compiled) => compiled.playbook.id);

interface RequestScope {
  readonly event: ApiGatewayProxyEvent;
  readonly context: LambdaContext;
  readonly runtime: LambdaRuntime;
  readonly caller: Requester;
  readonly correlationId: string;
  readonly started: number;
}

/** `POST /respond`: runs on an instance the playbook named, or the one whose match accepts the request (of several, the default). */
async function respond(scope: RequestScope, text: string | undefined): Promise<ApiGatewayProxyResult> {
  const { runtime, caller, correlationId, context, started } = scope;
  if (text === undefined) return failure(400, ApiErrorCode.InvalidRequest, 'is missing: send { instanceId, account, region, playbook?, reason?, dryRun? } as JSON', correlationId, { field: 'body' });
  let intake: IntakeResult;
  try {
    intake = readApiRequest(text, caller, { requestId: correlationId });
  } catch (error) {
    if (!(error instanceof InvalidApiRequestError)) throw error;
    return failure(400, ApiErrorCode.InvalidRequest, error.message, correlationId, { field: error.field ?? 'body' });
  }
  const accepting = apiPlaybookIds(runtime);
  const trigger = intake.findings[0]?.trigger;
  const named = trigger?.kind === 'api' ? trigger.playbook : undefined;
  if (accepting.length === 0) return failure(400, ApiErrorCode.InvalidRequest, 'no playbook of this deployment takes on-demand requests (triggers.api)', correlationId, { field: 'playbook' });
  if (named !== undefined && !accepting.includes(named)) {
    return failure(400, ApiErrorCode.InvalidRequest, `api request: playbook "${named}" is not a playbook that takes on-demand requests; these do: ${accepting.join(', ')}`, correlationId, {
      field: 'playbook',
    });
  }
  const deadline = started + API_TIME_BUDGET_MS;
  const result = await runtime.pipeline.handleIntake(intake, {
    correlationId,
    remainingTimeMs: () => Math.min(context.getRemainingTimeInMillis(), deadline - Date.now()),
  });
  const counts = new MetricCounts();
  counts.addDelivery(result);
  runtime.metrics.publish(counts.points());
  return respondResult(scope, result);
}

/** The codes of the pipeline's refusals of an on-demand request (src/pipeline/on-demand.ts), checked against the classes by tsc. */
const ON_DEMAND_AMBIGUOUS: OnDemandAmbiguousError['code'] = 'ON_DEMAND_AMBIGUOUS';
const ON_DEMAND_REFUSED: OnDemandRefusedError['code'] = 'ON_DEMAND_REFUSED';

/**
 * A refused on-demand request, answered with the candidates: several accept
 * it and none is the default is 409 `PLAYBOOK_AMBIGUOUS` — the body is valid
 * and the same body is taken by a library with a default, so it conflicts
 * with the library's present state, and the caller resolves it by sending it
 * again naming one of `candidates` (RFC 9110's use of 409); none accepts it
 * is 400 `NOT_MATCHED`, as a playbook that takes no requests is 400: sent
 * again it is refused again, whatever the caller chooses among these.
 */
function refusal(error: SerializedError, correlationId: string): ApiGatewayProxyResult | undefined {
  const candidates = error.context.candidates ?? [];
  if (error.code === ON_DEMAND_AMBIGUOUS) return failure(409, ApiErrorCode.PlaybookAmbiguous, error.message, correlationId, { field: 'playbook', candidates });
  if (error.code === ON_DEMAND_REFUSED) {
    return failure(400, ApiErrorCode.NotMatched, error.message, correlationId, { ...(error.context.playbook === undefined ? {} : { field: 'playbook' }), candidates });
  }
  return undefined;
}

/** What `POST /respond` answers for what the pipeline made of the request. */
async function respondResult(scope: RequestScope, result: PipelineResult): Promise<ApiGatewayProxyResult> {
  const { runtime, caller, correlationId } = scope;
  const finding = result.findings[0];
  const refused = finding?.error === undefined ? undefined : refusal(finding.error, correlationId);
  if (refused !== undefined) return refused;
  if (finding?.error !== undefined) {
    runtime.logger.error('on-demand request failed before any run', { correlationId, error: finding.error });
    return finding.error.retryable
      ? failure(503, ApiErrorCode.Unavailable, `the request could not be handled now; try again (correlation id ${correlationId})`, correlationId, { headers: { 'Retry-After': '5' } })
      : failure(500, ApiErrorCode.Internal, `internal error (correlation id ${correlationId})`, correlationId);
  }
  const runs = finding?.runs ?? [];
  // The instance is every run's primary target: one run finding it gone is enough.
  const stale = runs.find((run) => run.guard?.code === 'target-stale');
  if (stale !== undefined) {
    return failure(404, ApiErrorCode.InstanceNotFound, stale.guard?.reason ?? 'the instance does not exist', correlationId, {
      field: 'instanceId',
      ...(stale.runId === undefined ? {} : { runId: stale.runId }),
    });
  }
  const duplicates = runs.filter((run) => run.status === 'duplicate');
  if (runs.length > 0 && duplicates.length === runs.length) {
    const existingId = duplicates[0]?.duplicateOf;
    const existing = existingId === undefined ? undefined : await runtime.ledger.getRun(existingId);
    const running = existing === undefined || !isTerminal(existing.status);
    return failure(
      409,
      running ? ApiErrorCode.RunInProgress : ApiErrorCode.AlreadyHandled,
      running
        ? `run ${existingId ?? '(unknown)'} is already responding to this instance; GET /runs/${existingId ?? '{id}'} to follow it`
        : `run ${existingId ?? '(unknown)'} already responded to this instance (${existing?.status}) within the last ${runtime.config.run.apiIdempotencyWindowSeconds} s`,
      correlationId,
      existingId === undefined ? {} : { runId: existingId },
    );
  }
  const unrecorded = runs.filter((run) => run.status === 'failed' && run.runId === undefined);
  if (runs.length > 0 && unrecorded.length === runs.length) {
    runtime.logger.error('on-demand request failed before any run was recorded', { correlationId, errors: unrecorded.map((run) => run.error) });
    return unrecorded.some((run) => run.error?.retryable === true)
      ? failure(503, ApiErrorCode.Unavailable, `the request could not be handled now; try again (correlation id ${correlationId})`, correlationId, { headers: { 'Retry-After': '5' } })
      : failure(500, ApiErrorCode.Internal, `internal error (correlation id ${correlationId})`, correlationId);
  }
  const recorded = runs.find((run) => run.runId !== undefined);
  return json(202, { ...(recorded?.runId === undefined ? {} : { runId: recorded.runId }), correlationId, requestedBy: caller.principal, runs: runs.map(runView) }, correlationId);
}

/** `GET /runs/{id}`: the run as recorded. */
async function getRun(scope: RequestScope, runId: string): Promise<ApiGatewayProxyResult> {
  const record = await scope.runtime.ledger.getRun(runId);
  if (record === undefined) return failure(404, ApiErrorCode.RunNotFound, `no run ${runId} is recorded`, scope.correlationId, { field: 'id', runId });
  // Whether the finding's note and workflow landed, as a record retry may have settled it after the run ended.
  const findingUpdate = await findingRecordStatus(scope.runtime.ledger, runId);
  return json(200, { run: publicRun(record), ...(findingUpdate === undefined ? {} : { findingUpdate }) }, scope.correlationId);
}

/** `POST /runs/{id}/rollback`: undoes a run's changes, as a run of its own. */
async function rollback(scope: RequestScope, runId: string, text: string | undefined): Promise<ApiGatewayProxyResult> {
  const { runtime, caller, correlationId } = scope;
  let reason: string | undefined;
  if (text !== undefined) {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return failure(400, ApiErrorCode.InvalidRequest, 'is not valid JSON', correlationId, { field: 'body' });
    }
    const parsed = rollbackBodySchema.safeParse(body);
    if (!parsed.success) {
      // Named as intake names a field (a key that is not a plain name, even "", is quoted: `[""]`).
      const { field, message } = describeIssue(parsed.error);
      const unknown = parsed.error.issues.some((issue) => issue.code === 'unrecognized_keys');
      return failure(400, ApiErrorCode.InvalidRequest, `${field} ${message}${unknown ? '; a rollback takes only "reason"' : ''}`, correlationId, { field });
    }
    reason = parsed.data.reason;
  }
  let result: PlaybookRunResult;
  try {
    result = await runtime.pipeline.rollback(runId, { requestedBy: caller.principal, correlationId, ...(reason === undefined ? {} : { reason }) });
  } catch (error) {
    if (error instanceof RunUnknownError) return failure(404, ApiErrorCode.RunNotFound, `no run ${runId} is recorded`, correlationId, { field: 'id', runId });
    if (error instanceof RollbackRefusedError || error instanceof StoredTargetsInvalidError) return failure(409, ApiErrorCode.RollbackRefused, error.message, correlationId, { runId });
    throw error;
  }
  const counts = new MetricCounts();
  counts.addRun(result);
  runtime.metrics.publish(counts.points());
  return json(202, { ...(result.runId === undefined ? {} : { runId: result.runId }), rollbackOf: runId, correlationId, requestedBy: caller.principal, ...runView(result) }, correlationId);
}

/**
 * One API Gateway REST (v1) proxy request, start to answer:
 *
 * | route | answers |
 * |---|---|
 * | `POST /respond` `{ instanceId, account, region, playbook?, reason?, dryRun? }` | 202 `{ runId, correlationId, requestedBy, runs }` |
 * | `GET /runs/{id}` | 200 `{ run, findingUpdate? }` (see {@link publicRun}; `findingUpdate`: whether the finding's note and workflow landed, as a record retry may have settled it) |
 * | `POST /runs/{id}/rollback` `{ reason? }` | 202 `{ runId, rollbackOf, status, summary, … }` |
 *
 * Errors are `{ error: { code, message, field?, candidates? } }`: 400 naming the field
 * at fault (formats, unknown fields, a playbook that takes no requests),
 * 400 `NOT_MATCHED` when no API playbook's match (or not the named one's)
 * accepts the request's account, region or instance, 409
 * `PLAYBOOK_AMBIGUOUS` when several do, none is named and not exactly one
 * is the default (both list `candidates`),
 * 403 without an IAM identity, 404 for an unknown route, run or instance
 * (one AWS does not show: the run was refused as `target-stale`), 405 for
 * a wrong method (with `Allow`), 409 for a request another run already
 * has (`RUN_IN_PROGRESS`, `ALREADY_HANDLED`) or a refused rollback, 413
 * over {@link API_MAX_BODY_BYTES}, 415 for a body that is not JSON, 503
 * when AWS or the ledger may answer later, 500 otherwise — never with
 * internals (they are in the logs, under the correlation id).
 */
export async function handleApiRequest(event: ApiGatewayProxyEvent, context: LambdaContext, runtime: () => Promise<LambdaRuntime>): Promise<ApiGatewayProxyResult> {
  const started = Date.now();
  const correlationId = event?.requestContext?.requestId ?? context.awsRequestId;
  let loaded: LambdaRuntime | undefined;
  try {
    const caller = callerOf(event);
    if (caller === undefined) {
      return failure(403, ApiErrorCode.Forbidden, 'the request carries no IAM identity: sign it with SigV4 (the API takes IAM-authorized requests only)', correlationId, {
        field: 'requestContext.identity',
      });
    }
    // API Gateway's resource policy admits only the deployment's principals; the function holds to the same list (RIPOSTE_API_PRINCIPALS), so a policy edited by hand or an invocation from elsewhere is refused here too.
    loaded = await runtime();
    const ownAccount = /^arn:aws[\w-]*:lambda:[\w-]+:(\d{12}):/.exec(context.invokedFunctionArn ?? '')?.[1] ?? '';
    if (!principalAdmits(loaded.config.apiPrincipals, caller.principal, ownAccount)) {
      return failure(403, ApiErrorCode.Forbidden, `${caller.principal} may not call this API: it admits ${describePrincipals(loaded.config.apiPrincipals)}`, correlationId, {
        field: 'requestContext.identity.userArn',
      });
    }
    const path = (event.path ?? '').length > 1 ? event.path.replace(/\/+$/, '') : (event.path ?? '');
    const found = ROUTES.map((route) => ({ route, match: route.pattern.exec(path) })).filter((candidate) => candidate.match !== null);
    if (found.length === 0) return failure(404, ApiErrorCode.RouteNotFound, `no route ${path}: the API serves POST /respond, GET /runs/{id} and POST /runs/{id}/rollback`, correlationId);
    const chosen = found.find((candidate) => candidate.route.method === event.httpMethod?.toUpperCase());
    if (chosen === undefined) {
      const allowed = found.map((candidate) => candidate.route.method).join(', ');
      return failure(405, ApiErrorCode.MethodNotAllowed, `${event.httpMethod} is not allowed on ${path}; use ${allowed}`, correlationId, { headers: { Allow: allowed } });
    }
    const body = bodyOf(event, correlationId);
    if ('refused' in body) return body.refused;
    let runId: string | undefined;
    if (chosen.route.name !== 'respond') {
      const raw = chosen.match?.[1] ?? '';
      let decoded: string;
      try {
        decoded = decodeURIComponent(raw);
      } catch {
        decoded = raw;
      }
      if (!RUN_ID.test(decoded)) {
        return failure(400, ApiErrorCode.InvalidRequest, `id must be a run id such as r-20260314T092107Z-3f9a1c2b4d5e (got ${JSON.stringify(decoded.slice(0, 100))})`, correlationId, { field: 'id' });
      }
      runId = decoded;
    }
    const scope: RequestScope = { event, context, runtime: loaded, caller, correlationId, started };
    switch (chosen.route.name) {
      case 'respond':
        return await respond(scope, body.text);
      case 'get-run':
        return await getRun(scope, runId as string);
      case 'rollback':
        return await rollback(scope, runId as string, body.text);
    }
  } catch (error) {
    loaded?.logger.error('API request failed', { correlationId, error });
    // Before the runtime (and its logger) exists, a failed cold start still leaves a JSON line in the function's log.
    if (loaded === undefined)
      console.error(neutraliseJson(JSON.stringify({ level: 'ERROR', message: 'API request failed before the runtime was ready', correlationId, error: serializeError(error) })));
    return isRetryableError(error)
      ? failure(503, ApiErrorCode.Unavailable, `the request could not be handled now; try again (correlation id ${correlationId})`, correlationId, { headers: { 'Retry-After': '5' } })
      : failure(500, ApiErrorCode.Internal, `internal error (correlation id ${correlationId})`, correlationId);
  }
}

/**
 * The API function: API Gateway (REST, IAM authorization) → here.
 *
 * ```ts
 * // handlers/api.ts
 * export const handler = apiHandler();
 * ```
 */
export function apiHandler(runtime: () => Promise<LambdaRuntime> = containerRuntime()): (event: ApiGatewayProxyEvent, context: LambdaContext) => Promise<ApiGatewayProxyResult> {
  return async (event, context) => handleApiRequest(event, context, runtime);
}
