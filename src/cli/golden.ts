import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import type { ActionDefinition, ActionRegistry } from '../actions/index.js';
import type { AutomaticMode } from '../config.js';
import type { Matcher } from '../engine/index.js';
import { RiposteError } from '../errors.js';
import { FileNotFoundError, LocalFileError, localFileError, readTextFile, type ReadLimits } from '../files.js';
import { eventOfRawFinding, IntakeError, MAX_EVENT_TEXT_BYTES, readEvent, type Finding } from '../intake/index.js';
import { claimTarget, shadowPlan, type ShadowPlaybook } from '../pipeline/index.js';
import type { CompiledPlaybook, PlaybookStep } from '../playbooks/index.js';
import { replayWorldSchema, type ReplayWorld } from './aws-replay.js';
import { replayCase } from './golden-replay.js';
import { unifiedDiff } from './text-diff.js';

/*
 * The playbook test harness's cases and golden files (`riposte test`).
 *
 * Layout, beside the library (the playbook loader reads only .yml/.yaml
 * files, so none of this is taken for a playbook):
 *
 *   playbooks/tests/<playbook-id>/<case>.event.json    an event intake reads, or a bare ASFF/OCSF finding
 *   playbooks/tests/<playbook-id>/<case>.golden.json   the settings the case runs under, and the outcome expected
 *   playbooks/tests/<playbook-id>/<case>.aws.json      optional: the answers the case's accounts give (src/cli/aws-replay.ts)
 *
 * The outcome is what Riposte decides offline — which playbooks of the
 * whole library match (not only the one under test), why, the decision
 * under the case's settings, and each step with its parameters, the target
 * the finding names and the IAM actions the step's action is allowed. When
 * the case has an AWS world, it also holds the run the pipeline makes
 * against it: every AWS call with its parameters, in order, and how each
 * run ended (src/cli/golden-replay.ts). Without one it holds no call: every
 * action reads the member account before it decides what to call.
 */

/** The directory under a library that holds its tests. */
export const TESTS_DIRECTORY = 'tests';
export const EVENT_SUFFIX = '.event.json';
export const GOLDEN_SUFFIX = '.golden.json';
export const WORLD_SUFFIX = '.aws.json';

/** A fixture is one event: as much text as intake reads from one file. */
const EVENT_FILE_LIMITS: ReadLimits = { maxBytes: MAX_EVENT_TEXT_BYTES, what: 'a test event file' };
/** A golden file describes one event's findings: a few KB each, so 16 MiB is only a guard against a runaway file. */
const GOLDEN_FILE_LIMITS: ReadLimits = { maxBytes: 16 * 1024 * 1024, what: 'a golden file' };

/** A test case or golden file that cannot be used as it is: bad input, never retryable. */
export class PlaybookTestCaseError extends RiposteError {
  override readonly name: string = 'PlaybookTestCaseError';
  readonly code = 'PLAYBOOK_TEST_INVALID_CASE';
  constructor(file: string, message: string, options: { field?: string; playbook?: string; cause?: unknown } = {}) {
    super(`${file}: ${message}`, { context: { file, field: options.field, playbook: options.playbook }, cause: options.cause, retryable: false });
  }
}

/** What a case runs under: the deployment's `automatic` setting, the accounts it excludes, and the time exemptions are judged at. */
export interface CaseSettings {
  readonly automatic: AutomaticMode;
  readonly excludedAccounts: readonly string[];
  /** ISO 8601; the time of the run when absent (only exemptions with an expiry depend on it). */
  readonly now?: string;
}

export const DEFAULT_CASE_SETTINGS: CaseSettings = { automatic: 'enforce', excludedAccounts: [] };

const AUTOMATIC_MODES: readonly AutomaticMode[] = ['off', 'plan', 'enforce'];

/** One case: an event fixture and its golden file, under the playbook it tests. */
export interface TestCase {
  /** `<playbook-id>/<case>`: how the case is named in output. */
  readonly name: string;
  readonly playbook: string;
  readonly eventFile: string;
  readonly goldenFile: string;
  /** `<case>.aws.json`, when the case describes its accounts: the case is then also run against them (src/cli/golden-replay.ts). */
  readonly worldFile?: string;
}

/** What a library's tests directory holds. */
export interface TestSuite {
  readonly cases: readonly TestCase[];
  /** Files or directories that are no case (a golden file without its event, tests of no playbook). */
  readonly problems: ReadonlyArray<{ readonly name: string; readonly error: string }>;
  /** Playbooks of the library with no case of their own. */
  readonly untested: readonly string[];
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch (error) {
    const refused = localFileError(path, error);
    if (refused instanceof FileNotFoundError) return false;
    throw refused;
  }
}

/**
 * The cases under `<library>/tests/`: one directory per playbook id, each
 * holding `<case>.event.json` files and their `<case>.golden.json`.
 *
 * @throws LocalFileError when the tests directory cannot be read.
 */
export async function findTestCases(library: string, playbookIds: readonly string[]): Promise<TestSuite> {
  const root = join(library, TESTS_DIRECTORY);
  if (!(await isDirectory(root))) return { cases: [], problems: [], untested: [...playbookIds].sort(byName) };
  const known = new Set(playbookIds);
  const cases: TestCase[] = [];
  const problems: Array<{ name: string; error: string }> = [];
  const tested = new Set<string>();
  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (error) {
    throw localFileError(root, error);
  }
  for (const entry of entries.sort((a, b) => byName(a.name, b.name))) {
    const directory = join(root, entry.name);
    // Files beside the playbook directories (the README) are no case.
    if (!(await isDirectory(directory))) continue;
    if (!known.has(entry.name)) {
      problems.push({
        name: entry.name,
        error: `${directory}: no playbook of the library has the id ${JSON.stringify(entry.name)} (each directory under ${root} holds the tests of the playbook it is named after)`,
      });
      continue;
    }
    let files: string[];
    try {
      files = (await readdir(directory)).sort(byName);
    } catch (error) {
      throw localFileError(directory, error);
    }
    const events = new Set(files.filter((file) => file.endsWith(EVENT_SUFFIX) && file.length > EVENT_SUFFIX.length).map((file) => file.slice(0, -EVENT_SUFFIX.length)));
    const worlds = new Set<string>();
    for (const [suffix, what] of [
      [GOLDEN_SUFFIX, 'a golden file'],
      [WORLD_SUFFIX, 'an AWS world'],
    ] as const) {
      for (const file of files.filter((candidate) => candidate.endsWith(suffix))) {
        const caseName = file.slice(0, -suffix.length);
        if (suffix === WORLD_SUFFIX) worlds.add(caseName);
        if (!events.has(caseName)) problems.push({ name: `${entry.name}/${caseName}`, error: `${join(directory, file)}: ${what} without its event (${caseName}${EVENT_SUFFIX})` });
      }
    }
    for (const caseName of events) {
      tested.add(entry.name);
      cases.push({
        name: `${entry.name}/${caseName}`,
        playbook: entry.name,
        eventFile: join(directory, `${caseName}${EVENT_SUFFIX}`),
        goldenFile: join(directory, `${caseName}${GOLDEN_SUFFIX}`),
        ...(worlds.has(caseName) ? { worldFile: join(directory, `${caseName}${WORLD_SUFFIX}`) } : {}),
      });
    }
  }
  return { cases, problems, untested: playbookIds.filter((id) => !tested.has(id)).sort(byName) };
}

/** The line width the repository's Prettier configuration formats JSON to (.prettierrc `printWidth`). */
const PRINT_WIDTH = 200;

const isScalar = (value: unknown): boolean => value === null || typeof value !== 'object';

/** `value` as JSON, starting at column `column` of a line indented by `indent`, followed by `after` characters (a comma) on that line. */
function render(value: unknown, indent: string, column: number, after: number): string {
  if (isScalar(value)) return JSON.stringify(value);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const inline = `[${value.map((item) => JSON.stringify(item)).join(', ')}]`;
    if (value.every(isScalar) && column + inline.length + after <= PRINT_WIDTH) return inline;
    return `[\n${value.map((item, index) => `${inner}${render(item, inner, inner.length, index < value.length - 1 ? 1 : 0)}`).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>).filter(([, field]) => field !== undefined);
  if (entries.length === 0) return '{}';
  entries.sort(([a], [b]) => byName(a, b));
  const lines = entries.map(([key, field], index) => {
    const head = `${inner}${JSON.stringify(key)}: `;
    return `${head}${render(field, inner, head.length, index < entries.length - 1 ? 1 : 0)}`;
  });
  return `{\n${lines.join(',\n')}\n${indent}}`;
}

/**
 * JSON with every object's keys sorted, ending in a newline: one text per
 * value, whatever order it was built in. Laid out as the repository's
 * Prettier formats JSON (objects one key a line, a list of plain values on
 * one line when it fits in 200 columns), so a golden file `--update` writes
 * passes `npm run format:check` as it is.
 */
export function canonicalJson(value: unknown): string {
  return `${render(value, '', 0, 0)}\n`;
}

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** The settings a golden file states, checked; defaults for what it leaves out. */
export function caseSettings(golden: unknown, file: string): CaseSettings {
  if (!isRecord(golden)) throw new PlaybookTestCaseError(file, 'is not a JSON object');
  const stated = golden.settings;
  if (stated === undefined) return DEFAULT_CASE_SETTINGS;
  if (!isRecord(stated)) throw new PlaybookTestCaseError(file, 'settings must be an object', { field: 'settings' });
  const unknown = Object.keys(stated).filter((key) => !['automatic', 'excludedAccounts', 'now'].includes(key));
  if (unknown.length > 0)
    throw new PlaybookTestCaseError(file, `settings has unknown field ${JSON.stringify(unknown[0])} (known: automatic, excludedAccounts, now)`, { field: `settings.${unknown[0]}` });
  const automatic = stated.automatic ?? DEFAULT_CASE_SETTINGS.automatic;
  if (typeof automatic !== 'string' || !(AUTOMATIC_MODES as readonly string[]).includes(automatic)) {
    throw new PlaybookTestCaseError(file, `settings.automatic must be off, plan or enforce (got ${JSON.stringify(automatic)})`, { field: 'settings.automatic' });
  }
  const excluded = stated.excludedAccounts ?? [];
  if (!Array.isArray(excluded) || !excluded.every((account) => typeof account === 'string' && /^\d{12}$/.test(account))) {
    throw new PlaybookTestCaseError(file, 'settings.excludedAccounts must be a list of 12-digit account ids', { field: 'settings.excludedAccounts' });
  }
  const now = stated.now;
  if (now !== undefined && (typeof now !== 'string' || !/^\d{4}-\d{2}-\d{2}T/.test(now) || Number.isNaN(Date.parse(now)))) {
    throw new PlaybookTestCaseError(file, `settings.now must be an ISO 8601 time (got ${JSON.stringify(now)})`, { field: 'settings.now' });
  }
  return { automatic: automatic as AutomaticMode, excludedAccounts: excluded as string[], ...(now === undefined ? {} : { now }) };
}

/**
 * What the finding names as a step's target, before AWS is asked: the run
 * resolves it live and acts on what AWS answers (or refuses a disputed one).
 */
function namedTarget(finding: Finding, action: ActionDefinition): Record<string, unknown> {
  const claim = claimTarget(finding, action);
  if (claim === undefined) return { kind: action.target, named: 'finding', resource: finding.id };
  const id = claim.kind === 'instance' || claim.kind === 'security-group' ? claim.id : claim.resource.id;
  return { kind: action.target, named: claim.kind, resource: id, ...(claim.kind === 'disputed' ? { disputed: claim.reasons } : {}) };
}

/** One step as the golden file holds it: what the playbook says, and what the registry says of its action. */
function stepOutcome(step: PlaybookStep, finding: Finding, registry: ActionRegistry): Record<string, unknown> {
  const action = registry.get(step.action);
  return {
    action: step.action,
    params: step.params,
    continueOnError: step.continueOnError,
    ...(step.concurrent ? { concurrent: true } : {}),
    target: namedTarget(finding, action),
    changesResources: action.changesResources,
    reversible: action.behaviour.rollback !== undefined,
    // A set, not a sequence: sorted so that reordering the registry's list changes nothing.
    permissions: { member: [...action.permissions.member].sort(byName), hosting: [...action.permissions.hosting].sort(byName) },
  };
}

function playbookOutcome(planned: ShadowPlaybook, finding: Finding, registry: ActionRegistry): Record<string, unknown> {
  return {
    playbook: planned.playbook,
    decision: planned.decision,
    reason: planned.reason,
    because: planned.because.map(({ fact, operator, value, factValue }) => ({ fact, operator, value, factValue })),
    steps: planned.steps.map((step) => stepOutcome(step, finding, registry)),
  };
}

/** What the library decides about one event under `settings`, as a golden file holds it (settings included). */
export async function caseOutcome(event: unknown, origin: string, settings: CaseSettings, matcher: Matcher, registry: ActionRegistry, clock: () => Date): Promise<Record<string, unknown>> {
  const intake = readEvent(eventOfRawFinding(event, origin), { origin });
  const shadowSettings = { automatic: settings.automatic, excludedAccounts: settings.excludedAccounts, now: settings.now === undefined ? clock() : new Date(settings.now) };
  const findings = [];
  for (const finding of intake.findings) {
    const shadow = await shadowPlan(finding, matcher, shadowSettings);
    findings.push({
      id: shadow.id,
      source: shadow.source,
      account: shadow.account,
      region: shadow.region,
      title: shadow.title,
      resources: shadow.resources,
      ...(shadow.skipped === undefined ? {} : { skipped: shadow.skipped }),
      playbooks: shadow.playbooks.map((planned) => playbookOutcome(planned, finding, registry)),
    });
  }
  return {
    settings: { automatic: settings.automatic, excludedAccounts: [...settings.excludedAccounts], ...(settings.now === undefined ? {} : { now: settings.now }) },
    findings,
    // Findings of the event intake refused (an untrusted product, a missing field): an outcome too.
    rejected: intake.rejected.map((error) => ({ error: error.name, message: error.message })),
  };
}

/** How one case ended: `ok`, `fail` (a diff), `error` (bad input), or, under `--update`, `created`/`updated`. */
export type CaseStatus = 'ok' | 'fail' | 'error' | 'created' | 'updated';

export interface CaseResult {
  readonly name: string;
  readonly status: CaseStatus;
  /** For `fail` (and `updated`): the unified diff from the golden file to the outcome. */
  readonly diff?: readonly string[];
  /** For `error`: what is wrong with the case. */
  readonly error?: string;
}

export interface RunCaseOptions {
  readonly matcher: Matcher;
  /** The library, for the pipeline a case with an AWS world runs through. */
  readonly playbooks: readonly CompiledPlaybook[];
  readonly registry: ActionRegistry;
  /** Write the outcome to the golden file instead of failing on a difference. */
  readonly update: boolean;
  readonly clock: () => Date;
}

async function readJson(file: string, limits: ReadLimits): Promise<unknown> {
  const text = await readTextFile(file, limits);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new PlaybookTestCaseError(file, `is not JSON (${(error as Error).message})`, { cause: error });
  }
}

/** A case's AWS world, checked. @throws PlaybookTestCaseError naming the field at fault, LocalFileError. */
export async function readWorld(file: string): Promise<ReplayWorld> {
  const parsed = replayWorldSchema.safeParse(await readJson(file, GOLDEN_FILE_LIMITS));
  if (!parsed.success) {
    const [issue] = parsed.error.issues;
    const field = issue === undefined ? '' : issue.path.join('.');
    throw new PlaybookTestCaseError(file, `is not an AWS world: ${field === '' ? '' : `${field}: `}${issue?.message ?? 'invalid'}`, { field });
  }
  return parsed.data;
}

async function readGolden(file: string): Promise<unknown> {
  try {
    return await readJson(file, GOLDEN_FILE_LIMITS);
  } catch (error) {
    if (error instanceof FileNotFoundError) return undefined;
    throw error;
  }
}

/** Runs one case: the outcome of its event compared with its golden file (or written there under `update`). */
export async function runCase(testCase: TestCase, options: RunCaseOptions): Promise<CaseResult> {
  const { name } = testCase;
  try {
    const event = await readJson(testCase.eventFile, EVENT_FILE_LIMITS);
    const golden = await readGolden(testCase.goldenFile);
    if (golden === undefined && !options.update) {
      return { name, status: 'error', error: `${testCase.goldenFile}: no golden file (riposte test --update writes it from what the library does now)` };
    }
    const settings = golden === undefined ? DEFAULT_CASE_SETTINGS : caseSettings(golden, testCase.goldenFile);
    // The origin names the fixture in intake's messages: relative, so the golden file holds no path of this machine.
    const origin = `${name}${EVENT_SUFFIX}`;
    const decided = await caseOutcome(event, origin, settings, options.matcher, options.registry, options.clock);
    if (testCase.worldFile !== undefined) {
      const world = await readWorld(testCase.worldFile);
      const replayed = await replayCase(eventOfRawFinding(event, origin), world, settings, options.playbooks);
      if (replayed.missing.length > 0) {
        const [first] = replayed.missing;
        return {
          name,
          status: 'error',
          error: `${testCase.worldFile}: ${first ?? ''}${replayed.missing.length > 1 ? ` (and ${replayed.missing.length - 1} more)` : ''}: answer it in the world, in the order AWS would (the last answer to a call repeats)`,
        };
      }
      decided.aws = { runs: replayed.runs, calls: replayed.calls };
    }
    const outcome = canonicalJson(decided);
    const expected = golden === undefined ? undefined : canonicalJson(golden);
    // Compared as canonical text, not as the file's: a golden file reformatted (by an editor, by Prettier) says the same thing, and is left as it is.
    if (expected === outcome) return { name, status: 'ok' };
    const diff = expected === undefined ? [] : unifiedDiff(expected, outcome, { from: `${name}${GOLDEN_SUFFIX} (expected)`, to: `${name} (what the library does)` });
    if (!options.update) return { name, status: 'fail', diff };
    await writeGolden(testCase.goldenFile, outcome);
    return expected === undefined ? { name, status: 'created' } : { name, status: 'updated', diff };
  } catch (error) {
    if (error instanceof LocalFileError || error instanceof IntakeError || error instanceof PlaybookTestCaseError) {
      return { name, status: 'error', error: `${error.name}: ${error.message}` };
    }
    throw error;
  }
}

async function writeGolden(file: string, text: string): Promise<void> {
  try {
    await writeFile(file, text, 'utf8');
  } catch (error) {
    throw localFileError(file, error);
  }
}
