import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

import {
  CreateActionTargetCommand,
  DeleteActionTargetCommand,
  DescribeActionTargetsCommand,
  ResourceConflictException,
  ResourceNotFoundException,
  SecurityHubClient,
  UpdateActionTargetCommand,
} from '@aws-sdk/client-securityhub';

import { describeError } from '../errors.js';
import { ActionTargetConflictError, ActionTargetsRequestError, CustomResourceResponseError } from './errors.js';

/** One Security Hub custom action, as the stack lists it (`ActionTargets` of the resource's properties). */
export interface ActionTargetSpec {
  readonly id: string;
  readonly name: string;
  readonly description: string;
}

/**
 * The request CloudFormation sends a Lambda-backed custom resource
 * (`Custom::SecurityHubActionTargets`). Property values other than lists
 * and maps arrive as strings.
 */
export interface CloudFormationCustomResourceEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResponseURL: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly ResourceType?: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: { readonly ServiceToken?: string; readonly ActionTargets?: unknown; readonly [key: string]: unknown };
  readonly OldResourceProperties?: { readonly ActionTargets?: unknown; readonly [key: string]: unknown };
}

/** The answer PUT to the ResponseURL. */
export interface CloudFormationCustomResourceResponse {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason?: string;
  readonly PhysicalResourceId: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly Data?: Readonly<Record<string, string>>;
}

/**
 * The physical id records the one thing later events cannot recompute: which
 * of the listed ids belonged to someone else when the resource was created.
 * Those are left alone for good; every other listed id is this resource's
 * own. It never changes after Create, so CloudFormation never sees a
 * replacement (whose clean-up Delete would remove actions still in use).
 */
const PHYSICAL_ID = 'riposte-action-targets';
const FOREIGN_MARK = ':foreign=';
/** A failed Create that undid its own work answers this id: the rollback's Delete then removes nothing. */
const NOTHING_CREATED = `${PHYSICAL_ID}:nothing-created`;
/** CloudFormation: "PhysicalResourceId … can be up to 1 KB in size". */
const MAX_PHYSICAL_ID_BYTES = 1024;
/** CloudFormation: the whole response body is at most 4096 bytes; the reason is cut well below. */
const MAX_REASON = 1_000;

/**
 * Security Hub endpoints and quotas: 50 custom actions per account and Region. The same number
 * as the playbook compiler's MAX_CUSTOM_ACTIONS (a test keeps them equal), held here so the
 * handler's bundle does not carry the playbook compiler.
 */
export const MAX_CUSTOM_ACTIONS = 50;
const ID_PATTERN = /^[A-Za-z0-9]{1,20}$/;
const MAX_NAME = 20;

/**
 * The `ActionTargets` property: `[{ Id, Name, Description }]` from the
 * playbooks' `customAction`s. Checked as Security Hub would (id 1–20 letters
 * and digits, name up to 20 characters) and against the limit of
 * {@link MAX_CUSTOM_ACTIONS}, before any call to AWS.
 *
 * @throws ActionTargetsRequestError naming the entry at fault.
 */
export function parseActionTargets(value: unknown, field = 'ResourceProperties.ActionTargets'): ActionTargetSpec[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ActionTargetsRequestError(`${field} must be a list of { Id, Name, Description }`, { field });
  if (value.length > MAX_CUSTOM_ACTIONS) {
    throw new ActionTargetsRequestError(`${field} lists ${value.length} custom actions; Security Hub allows at most ${MAX_CUSTOM_ACTIONS} per account and region`, {
      field,
      limit: MAX_CUSTOM_ACTIONS,
    });
  }
  const seen = new Set<string>();
  return value.map((entry: unknown, index) => {
    const at = `${field}[${index}]`;
    const { Id, Name, Description } = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
    if (typeof Id !== 'string' || !ID_PATTERN.test(Id)) throw new ActionTargetsRequestError(`${at}.Id must be 1–20 letters and digits (a Security Hub custom action id)`, { field: `${at}.Id` });
    if (seen.has(Id)) throw new ActionTargetsRequestError(`${at}.Id ${Id} is listed twice`, { field: `${at}.Id` });
    seen.add(Id);
    if (typeof Name !== 'string' || Name.trim() === '' || Name.length > MAX_NAME) {
      throw new ActionTargetsRequestError(`${at}.Name must be 1–${MAX_NAME} characters`, { field: `${at}.Name` });
    }
    const description = typeof Description === 'string' && Description.trim() !== '' ? Description : Name;
    return { id: Id, name: Name, description };
  });
}

/** The ids another owner held when the resource was created, from its physical id; undefined when the id is not one this handler gave. */
export function foreignIdsOf(physicalResourceId: string | undefined): ReadonlySet<string> | undefined {
  if (physicalResourceId === PHYSICAL_ID) return new Set();
  if (physicalResourceId?.startsWith(`${PHYSICAL_ID}${FOREIGN_MARK}`) === true) {
    return new Set(
      physicalResourceId
        .slice(PHYSICAL_ID.length + FOREIGN_MARK.length)
        .split(',')
        .filter(Boolean),
    );
  }
  return undefined;
}

function physicalIdFor(foreign: ReadonlySet<string>): string {
  const id = foreign.size === 0 ? PHYSICAL_ID : `${PHYSICAL_ID}${FOREIGN_MARK}${[...foreign].sort().join(',')}`;
  if (Buffer.byteLength(id) > MAX_PHYSICAL_ID_BYTES) {
    throw new ActionTargetsRequestError(`the ids of the custom actions other owners hold do not fit in a physical resource id (${MAX_PHYSICAL_ID_BYTES} bytes): rename those playbook actions`, {
      limit: MAX_PHYSICAL_ID_BYTES,
    });
  }
  return id;
}

/** `arn:<partition>:securityhub:<region>:<account>:action/custom/<Id>` (API_CreateActionTarget). */
function arnPrefixFrom(stackId: string): string {
  // arn:aws:cloudformation:us-east-1:123456789012:stack/name/guid — same partition, region and account.
  const [arn, partition, , region, account] = stackId.split(':');
  if (arn !== 'arn' || partition === undefined || region === undefined || account === undefined || region === '' || !/^\d{12}$/.test(account)) {
    throw new ActionTargetsRequestError(`StackId ${stackId} is not a CloudFormation stack ARN`, { field: 'StackId' });
  }
  return `arn:${partition}:securityhub:${region}:${account}:action/custom/`;
}

interface LiveTarget {
  readonly name: string;
  readonly description: string;
}

/** Every action target of the account and region, by ARN (DescribeActionTargets, all pages). */
export async function describeAllActionTargets(securityHub: SecurityHubClient): Promise<Map<string, LiveTarget>> {
  const targets = new Map<string, LiveTarget>();
  let NextToken: string | undefined;
  do {
    const page = await securityHub.send(new DescribeActionTargetsCommand({ MaxResults: 100, ...(NextToken === undefined ? {} : { NextToken }) }));
    for (const target of page.ActionTargets ?? []) {
      if (target.ActionTargetArn !== undefined) targets.set(target.ActionTargetArn, { name: target.Name ?? '', description: target.Description ?? '' });
    }
    NextToken = page.NextToken;
  } while (NextToken !== undefined && NextToken !== '');
  return targets;
}

/** What one event changed, for the answer's Reason and Data. */
export interface ActionTargetsChange {
  readonly created: readonly string[];
  readonly updated: readonly string[];
  readonly deleted: readonly string[];
  /** Listed ids another owner holds: neither changed nor ever deleted. */
  readonly leftAlone: readonly string[];
}

interface Plan {
  readonly create: ActionTargetSpec[];
  readonly update: ActionTargetSpec[];
  readonly remove: string[];
}

/**
 * Applies a plan in order (create, update, delete). When a step fails, the
 * actions this call created are deleted again (best effort), so a failed
 * request leaves the account as it found it as far as it can.
 */
async function apply(securityHub: SecurityHubClient, prefix: string, plan: Plan): Promise<ActionTargetsChange & { foreignFound: string[] }> {
  const created: string[] = [];
  const updated: string[] = [];
  const deleted: string[] = [];
  const foreignFound: string[] = [];
  try {
    for (const target of plan.create) {
      try {
        await securityHub.send(new CreateActionTargetCommand({ Id: target.id, Name: target.name, Description: target.description }));
        created.push(target.id);
      } catch (error) {
        // Created by someone else since it was listed: theirs, left alone.
        if (error instanceof ResourceConflictException) foreignFound.push(target.id);
        else throw error;
      }
    }
    for (const target of plan.update) {
      await securityHub.send(new UpdateActionTargetCommand({ ActionTargetArn: `${prefix}${target.id}`, Name: target.name, Description: target.description }));
      updated.push(target.id);
    }
    for (const id of plan.remove) {
      try {
        await securityHub.send(new DeleteActionTargetCommand({ ActionTargetArn: `${prefix}${id}` }));
      } catch (error) {
        // Already gone (deleted by hand, or by an earlier attempt): what Delete wants.
        if (!(error instanceof ResourceNotFoundException)) throw error;
      }
      deleted.push(id);
    }
  } catch (error) {
    await Promise.allSettled(created.map((id) => securityHub.send(new DeleteActionTargetCommand({ ActionTargetArn: `${prefix}${id}` }))));
    throw error;
  }
  return { created, updated, deleted, leftAlone: foreignFound, foreignFound };
}

function limitCheck(live: ReadonlyMap<string, LiveTarget>, plan: Plan): void {
  const after = live.size + plan.create.length - plan.remove.length;
  if (plan.create.length > 0 && after > MAX_CUSTOM_ACTIONS) {
    throw new ActionTargetsRequestError(
      `creating ${plan.create.length} custom actions would make ${after} in this account and region; Security Hub allows at most ${MAX_CUSTOM_ACTIONS} (${live.size} exist)`,
      { limit: MAX_CUSTOM_ACTIONS },
    );
  }
}

const changed = (live: LiveTarget | undefined, target: ActionTargetSpec): boolean => live !== undefined && (live.name !== target.name || live.description !== target.description);

/** The outcome of one event: what to answer, and what was done. */
export interface ActionTargetsResult {
  readonly physicalResourceId: string;
  readonly change: ActionTargetsChange;
}

/**
 * Brings the account's custom actions to what the event asks, touching only
 * this resource's own:
 *
 * - **Create**: creates each listed action that does not exist; a listed id
 *   another owner already holds is left alone and recorded in the physical
 *   id, so it is never updated or deleted later.
 * - **Update**: creates what is missing, renames or re-describes what
 *   changed, deletes the ids the old properties listed and the new ones do
 *   not. A newly listed id that already exists is someone else's: the
 *   update fails before changing anything ({@link ActionTargetConflictError}).
 * - **Delete**: deletes the listed ids that are its own; a physical id it did
 *   not give (a Create that never answered) deletes nothing.
 *
 * Running the same event again changes nothing more. Limits are checked
 * before any call that changes something.
 *
 * @throws ActionTargetsRequestError, ActionTargetConflictError, or the SDK's error.
 */
export async function applyActionTargetsEvent(securityHub: SecurityHubClient, event: CloudFormationCustomResourceEvent): Promise<ActionTargetsResult> {
  const prefix = arnPrefixFrom(event.StackId);
  if (event.RequestType === 'Delete' && foreignIdsOf(event.PhysicalResourceId) === undefined) {
    // Not an id this handler gave (a Create that failed or never answered): nothing here is this resource's own.
    return { physicalResourceId: event.PhysicalResourceId ?? NOTHING_CREATED, change: { created: [], updated: [], deleted: [], leftAlone: [] } };
  }
  const wanted = parseActionTargets(event.ResourceProperties.ActionTargets);
  if (event.RequestType === 'Create') {
    const live = await describeAllActionTargets(securityHub);
    const foreign = new Set(wanted.filter((target) => live.has(`${prefix}${target.id}`)).map((target) => target.id));
    const plan: Plan = { create: wanted.filter((target) => !foreign.has(target.id)), update: [], remove: [] };
    limitCheck(live, plan);
    physicalIdFor(foreign);
    // A failure undoes this call's creations; the FAILED answer then names NOTHING_CREATED.
    const change = await apply(securityHub, prefix, plan);
    for (const id of change.foreignFound) foreign.add(id);
    return { physicalResourceId: physicalIdFor(foreign), change: { ...change, leftAlone: [...foreign].sort() } };
  }

  const foreign = foreignIdsOf(event.PhysicalResourceId);
  if (event.RequestType === 'Delete' && foreign !== undefined) {
    const change = await apply(securityHub, prefix, { create: [], update: [], remove: wanted.filter((target) => !foreign.has(target.id)).map((target) => target.id) });
    return { physicalResourceId: event.PhysicalResourceId as string, change: { ...change, leftAlone: [...foreign].sort() } };
  }

  // Update.
  if (foreign === undefined) throw new ActionTargetsRequestError(`PhysicalResourceId ${event.PhysicalResourceId ?? '(none)'} was not given by this handler`, { field: 'PhysicalResourceId' });
  const previous = new Set(parseActionTargets(event.OldResourceProperties?.ActionTargets, 'OldResourceProperties.ActionTargets').map((target) => target.id));
  const live = await describeAllActionTargets(securityHub);
  const ours = wanted.filter((target) => !foreign.has(target.id));
  for (const target of ours) {
    if (!previous.has(target.id) && live.has(`${prefix}${target.id}`)) throw new ActionTargetConflictError(`${prefix}${target.id}`);
  }
  const wantedIds = new Set(wanted.map((target) => target.id));
  const plan: Plan = {
    create: ours.filter((target) => !live.has(`${prefix}${target.id}`)),
    update: ours.filter((target) => changed(live.get(`${prefix}${target.id}`), target)),
    remove: [...previous].filter((id) => !wantedIds.has(id) && !foreign.has(id)),
  };
  limitCheck(live, plan);
  const change = await apply(securityHub, prefix, plan);
  // A newly listed id claimed by someone else between the read and the create.
  if (change.foreignFound.length > 0) throw new ActionTargetConflictError(`${prefix}${change.foreignFound[0] as string}`);
  return { physicalResourceId: event.PhysicalResourceId as string, change: { ...change, leftAlone: [...foreign].sort() } };
}

const list = (ids: readonly string[]): string => (ids.length === 0 ? 'none' : ids.join(', '));

/**
 * The whole custom resource: applies the event, then PUTs the answer to the
 * pre-signed ResponseURL — SUCCESS with what changed, or FAILED with the
 * reason. It always answers, so CloudFormation never waits an hour for a
 * response that is not coming.
 *
 * @returns the answer sent.
 * @throws CustomResourceResponseError when the ResponseURL refuses the answer.
 */
export async function handleActionTargetsEvent(securityHub: SecurityHubClient, event: CloudFormationCustomResourceEvent): Promise<CloudFormationCustomResourceResponse> {
  const base = { StackId: event.StackId, RequestId: event.RequestId, LogicalResourceId: event.LogicalResourceId };
  let response: CloudFormationCustomResourceResponse;
  try {
    const { physicalResourceId, change } = await applyActionTargetsEvent(securityHub, event);
    response = {
      ...base,
      Status: 'SUCCESS',
      PhysicalResourceId: physicalResourceId,
      Reason:
        `${event.RequestType}: created ${list(change.created)}; updated ${list(change.updated)}; deleted ${list(change.deleted)}; left alone (not created by this stack) ${list(change.leftAlone)}`.slice(
          0,
          MAX_REASON,
        ),
      Data: { Created: change.created.join(','), Updated: change.updated.join(','), Deleted: change.deleted.join(','), LeftAlone: change.leftAlone.join(',') },
    };
  } catch (error) {
    response = {
      ...base,
      Status: 'FAILED',
      // A failed Create answers an id whose Delete removes nothing; a failed Update or Delete keeps the resource's id.
      PhysicalResourceId: event.RequestType === 'Create' ? NOTHING_CREATED : (event.PhysicalResourceId ?? NOTHING_CREATED),
      Reason: describeError(error).slice(0, MAX_REASON),
    };
  }
  await putResponse(event.ResponseURL, response);
  return response;
}

/**
 * PUTs the answer to the pre-signed URL as CloudFormation expects: JSON with
 * an empty Content-Type (the URL is signed without one).
 */
export async function putResponse(responseUrl: string, response: CloudFormationCustomResourceResponse): Promise<void> {
  let url: URL;
  try {
    url = new URL(responseUrl);
  } catch (error) {
    throw new CustomResourceResponseError(undefined, error);
  }
  const body = JSON.stringify(response);
  const request = url.protocol === 'http:' ? httpRequest : httpsRequest;
  const status = await new Promise<number | undefined>((resolve, reject) => {
    const outgoing = request(url, { method: 'PUT', headers: { 'content-type': '', 'content-length': Buffer.byteLength(body) }, timeout: 30_000 }, (incoming) => {
      incoming.resume();
      incoming.on('end', () => resolve(incoming.statusCode));
      incoming.on('error', reject);
    });
    outgoing.on('timeout', () => outgoing.destroy(new Error('no answer within 30 s')));
    outgoing.on('error', reject);
    outgoing.end(body);
  }).catch((error: unknown) => {
    throw new CustomResourceResponseError(undefined, error);
  });
  if (status === undefined || status < 200 || status >= 300) throw new CustomResourceResponseError(status);
}

/** What {@link actionTargetsHandler} may be given instead of what the Lambda environment describes (tests: the emulator's client). */
export interface ActionTargetsHandlerOptions {
  readonly securityHub?: SecurityHubClient;
}

/**
 * The Lambda handler of `Custom::SecurityHubActionTargets`. The Security Hub
 * client is made on the first event (region and credentials from the Lambda
 * environment) and kept for the container's life.
 */
export function actionTargetsHandler(options: ActionTargetsHandlerOptions = {}): (event: CloudFormationCustomResourceEvent) => Promise<CloudFormationCustomResourceResponse> {
  let securityHub = options.securityHub;
  return async (event) => {
    securityHub ??= new SecurityHubClient({});
    return handleActionTargetsEvent(securityHub, event);
  };
}
