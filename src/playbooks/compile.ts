import type * as z from '../zod.js';

import { builtInActions, type ActionRegistry } from '../actions/index.js';
import { nearest } from '../suggest.js';
import { apiMatchOf } from './api-match.js';
import { bindToTrustedProducts, type ImplicitBinding } from './bindings.js';
import { factNamesIn, type Condition, type FactCondition } from './conditions.js';
import { formatProblem, PlaybookCompileError, type PlaybookProblem } from './errors.js';
import { customActionEventPattern, eventPatternsForMatch, type EventPattern } from './event-patterns.js';
import { compileMatch } from './match.js';
import { formatDocumentPath, problem, type DocumentPath, type Problem } from './problems.js';
import { playbookSchema, type PlaybookDocument } from './schema.js';
import { parseSource, type ParsedSource } from './source.js';
import type { CompiledPlaybook, CompiledRule, Playbook, PlaybookStep } from './types.js';

export interface PlaybookFile {
  readonly path: string;
  readonly text: string;
}

export interface CompileResult {
  readonly playbooks: readonly CompiledPlaybook[];
  readonly problems: readonly PlaybookProblem[];
}

/** Security Hub allows this many custom actions per account and region. */
export const MAX_CUSTOM_ACTIONS = 50;

/** Keys each mapping of the playbook language allows, for "did you mean" on unknown keys (by the parent key a playbook wrote: a `Map`). */
const KNOWN_KEYS: ReadonlyMap<string, readonly string[]> = new Map<string, readonly string[]>([
  ['', Object.keys(playbookSchema.shape)],
  ['triggers', ['automatic', 'customAction', 'api']],
  ['api', ['default']],
  ['customAction', ['id', 'name', 'description']],
  ['exempt', ['accounts', 'tags']],
  ['limits', ['maxResourcesPerHour']],
]);

function schemaProblems(error: z.core.$ZodError, base: DocumentPath): Problem[] {
  return error.issues.flatMap((issue): Problem[] => {
    const path = [...base, ...issue.path.filter((part): part is string | number => typeof part !== 'symbol')];
    if (issue.code === 'unrecognized_keys') {
      const parent = [...path].reverse().find((part) => typeof part === 'string') ?? '';
      const known = KNOWN_KEYS.get(path.length === base.length ? '' : parent) ?? [];
      return issue.keys.map((key) =>
        problem([...path, key], `"${key}" is not a known field here${known.length > 0 ? ` (${known.join(', ')})` : ''}`, { suggestion: nearest(key, known), atKey: true }),
      );
    }
    // Steps are checked against the registry below, with better messages.
    if (path[base.length] === 'steps' && path.length > base.length + 1) return [];
    const missing = issue.code === 'invalid_type' && issue.message.includes('received undefined');
    return [problem(path, missing ? 'is missing' : issue.message.replace(/^Invalid input: /, ''))];
  });
}

/** Keys of a step that are options, not its action. */
const STEP_OPTIONS: ReadonlySet<string> = new Set(['continueOnError', 'concurrent']);

function compileSteps(raw: unknown, base: DocumentPath, registry: ActionRegistry, problems: Problem[]): PlaybookStep[] {
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((step: unknown, index): PlaybookStep[] => {
    const path = [...base, 'steps', index];
    if (step === null || typeof step !== 'object' || Array.isArray(step)) {
      problems.push(problem(path, 'must be "- action.name: { parameters }"'));
      return [];
    }
    const entries = Object.entries(step as Record<string, unknown>);
    const continueOnError = entries.find(([key]) => key === 'continueOnError')?.[1];
    const concurrent = entries.find(([key]) => key === 'concurrent')?.[1];
    const actions = entries.filter(([key]) => !STEP_OPTIONS.has(key));
    if (continueOnError !== undefined && typeof continueOnError !== 'boolean') {
      problems.push(problem([...path, 'continueOnError'], 'must be true or false'));
    }
    if (concurrent !== undefined && typeof concurrent !== 'boolean') {
      problems.push(problem([...path, 'concurrent'], 'must be true or false'));
    } else if (concurrent === true && index === 0) {
      problems.push(problem([...path, 'concurrent'], 'the first step has no step before it to run beside: remove concurrent'));
    }
    if (actions.length !== 1) {
      problems.push(problem(path, actions.length === 0 ? 'names no action' : `names ${actions.length} actions (${actions.map(([key]) => key).join(', ')}); give each its own step`));
      return [];
    }
    const [name, rawParams] = actions[0] as [string, unknown];
    const action = registry.find(name);
    if (action === undefined) {
      problems.push(problem([...path, name], `"${name}" is not a known action (${registry.names().join(', ')})`, { suggestion: registry.suggest(name), atKey: true }));
      return [];
    }
    const parsed = action.params.safeParse(rawParams ?? {});
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const issuePath = [...path, name, ...issue.path.filter((part): part is string | number => typeof part !== 'symbol')];
        if (issue.code === 'unrecognized_keys') {
          const known = Object.keys((action.params as unknown as { shape?: Record<string, unknown> }).shape ?? {});
          for (const key of issue.keys) {
            problems.push(
              problem([...issuePath, key], `"${key}" is not a parameter of ${name}${known.length > 0 ? ` (${known.join(', ')})` : ' (it takes none)'}`, {
                suggestion: nearest(key, known),
                atKey: true,
              }),
            );
          }
        } else {
          problems.push(problem(issuePath, issue.message.replace(/^Invalid input: /, '')));
        }
      }
      return [];
    }
    return [{ action: name, params: parsed.data as Record<string, unknown>, continueOnError: continueOnError === true, concurrent: concurrent === true }];
  });
}

const fact = (name: string, operator: string, value: unknown): FactCondition => ({ fact: name, operator, value });

/**
 * The rule: one branch per trigger. Automatic and custom-action branches
 * also require the playbook's match (bound to trusted products); an API
 * request names its instance and, optionally, the playbook, and must meet
 * what the match asks of the facts a request carries (`apiMatch`: see
 * src/playbooks/api-match.ts).
 */
function ruleOf(playbook: Playbook, match: Condition | undefined, apiMatch: Condition | undefined): CompiledRule {
  const withMatch = (conditions: Condition[]): Condition => ({ all: match === undefined ? conditions : [...conditions, match] });
  const branches: Condition[] = [];
  if (playbook.triggers.automatic) branches.push(withMatch([fact('trigger.kind', 'equal', 'automatic')]));
  if (playbook.triggers.customAction !== undefined) {
    branches.push(withMatch([fact('trigger.kind', 'equal', 'custom-action'), fact('trigger.actionId', 'equal', playbook.triggers.customAction.id)]));
  }
  if (playbook.triggers.api) {
    branches.push({
      all: [fact('trigger.kind', 'equal', 'api'), { any: [fact('trigger.playbook', 'exists', false), fact('trigger.playbook', 'equal', playbook.id)] }, ...(apiMatch === undefined ? [] : [apiMatch])],
    });
  }
  return {
    name: playbook.id,
    priority: playbook.priority,
    conditions: branches.length === 1 ? (branches[0] as Condition) : { any: branches },
    event: { type: 'playbook-matched', params: { playbookId: playbook.id } },
  };
}

/**
 * The exempting tags as written: zod copies a record by assignment, so a tag
 * key `__proto__` (a valid AWS tag key) would set the copy's prototype and
 * vanish from the exemption. The schema has checked every value is text.
 */
function exemptTagsOf(raw: Record<string, unknown>): Record<string, string> {
  const exempt = raw.exempt as { tags?: unknown } | undefined;
  const tags = exempt?.tags;
  if (tags === null || typeof tags !== 'object') return {};
  return Object.fromEntries(Object.entries(tags).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

function playbookOf(document: PlaybookDocument, steps: PlaybookStep[], exemptTags: Record<string, string>): Playbook {
  const { customAction, api } = document.triggers;
  return {
    id: document.id,
    title: document.title,
    ...(document.description === undefined ? {} : { description: document.description }),
    triggers: {
      automatic: document.triggers.automatic,
      api: api !== false,
      apiDefault: typeof api === 'object' && api.default,
      ...(customAction === undefined ? {} : { customAction: typeof customAction === 'string' ? { id: customAction, name: customAction } : customAction }),
    },
    exempt: {
      accounts: (document.exempt?.accounts ?? []).map((account) => (typeof account === 'string' ? { id: account } : account)),
      tags: exemptTags,
    },
    steps,
    priority: document.priority,
    mode: document.mode ?? 'default',
    allowSampleFindings: document.allowSampleFindings,
    ...(document.limits === undefined ? {} : { limits: document.limits }),
  };
}

function compileDocument(value: unknown, base: DocumentPath, source: ParsedSource, registry: ActionRegistry): { compiled?: CompiledPlaybook; problems: Problem[] } {
  const problems: Problem[] = [];
  const parsed = playbookSchema.safeParse(value);
  if (!parsed.success) problems.push(...schemaProblems(parsed.error, base));
  // Semantic checks run on the raw document too, so one pass reports everything.
  const raw = (value !== null && typeof value === 'object' ? value : {}) as Record<string, unknown>;
  const match = compileMatch(raw.match, raw.conditions, base);
  problems.push(...match.problems);
  const steps = compileSteps(raw.steps, base, registry, problems);
  const triggers = (raw.triggers ?? {}) as Record<string, unknown>;
  if ((triggers.automatic === true || triggers.customAction !== undefined) && raw.match === undefined && raw.conditions === undefined) {
    problems.push(problem([...base, 'triggers'], 'an automatic or custom-action playbook needs "match" (or "conditions"): without it, it would run on every finding'));
  }
  if (!parsed.success || problems.length > 0) return { problems };

  const playbook = playbookOf(parsed.data, steps, exemptTagsOf(raw));
  // Automatic and custom-action runs act on a product's claim: their match is bound to trusted products.
  const matched = playbook.triggers.automatic || playbook.triggers.customAction !== undefined;
  const bound = matched && match.condition !== undefined ? bindToTrustedProducts(match.condition) : { condition: match.condition, bindings: [] as ImplicitBinding[] };
  // An API request carries only its account, region and instance: the match applies to those facts alone (unbound: products are not a request's).
  const apiMatch = playbook.triggers.api ? apiMatchOf(match.condition) : undefined;
  const rule = ruleOf(playbook, bound.condition, apiMatch);
  const patterns: EventPattern[] = [];
  if (playbook.triggers.automatic && bound.condition !== undefined) patterns.push(...eventPatternsForMatch(bound.condition));
  if (playbook.triggers.customAction !== undefined) patterns.push(customActionEventPattern(playbook.triggers.customAction.id));
  const member = new Set<string>();
  const hosting = new Set<string>();
  for (const step of steps) {
    const action = registry.get(step.action);
    action.permissions.member.forEach((permission) => member.add(permission));
    action.permissions.hosting.forEach((permission) => hosting.add(permission));
  }
  const position = source.locate(base);
  return {
    problems,
    compiled: {
      playbook,
      rule,
      facts: [...factNamesIn(rule.conditions)].sort(),
      ...(apiMatch === undefined ? {} : { apiMatch }),
      eventPatterns: patterns,
      bindings: bound.bindings,
      permissions: { member: [...member].sort(), hosting: [...hosting].sort() },
      source: { file: source.file, ...position },
    },
  };
}

/** Checks across playbooks: unique ids, consistent custom actions, Security Hub's limit of 50. */
function libraryProblems(playbooks: readonly CompiledPlaybook[]): PlaybookProblem[] {
  const problems: PlaybookProblem[] = [];
  const at = (compiled: CompiledPlaybook, path: string, message: string): PlaybookProblem => ({
    file: compiled.source.file,
    line: compiled.source.line,
    column: compiled.source.column,
    path,
    message,
    playbook: compiled.playbook.id,
  });
  const byId = new Map<string, CompiledPlaybook>();
  for (const compiled of playbooks) {
    const first = byId.get(compiled.playbook.id);
    if (first !== undefined) problems.push(at(compiled, 'id', `"${compiled.playbook.id}" is already the id of the playbook at ${first.source.file}:${first.source.line}`));
    else byId.set(compiled.playbook.id, compiled);
  }
  const actions = new Map<string, CompiledPlaybook>();
  for (const compiled of playbooks) {
    const action = compiled.playbook.triggers.customAction;
    if (action === undefined) continue;
    const first = actions.get(action.id);
    if (first === undefined) actions.set(action.id, compiled);
    else if (first.playbook.triggers.customAction?.name !== action.name) {
      problems.push(
        at(compiled, 'triggers.customAction.name', `custom action ${action.id} is named "${first.playbook.triggers.customAction?.name}" by playbook ${first.playbook.id}; one action has one name`),
      );
    }
  }
  if (actions.size > MAX_CUSTOM_ACTIONS) {
    const extra = [...actions.values()][MAX_CUSTOM_ACTIONS] as CompiledPlaybook;
    problems.push(at(extra, 'triggers.customAction', `the playbooks define ${actions.size} custom actions; Security Hub allows at most ${MAX_CUSTOM_ACTIONS} per account and region`));
  }
  return problems;
}

/**
 * Compiles playbook files into rules, event patterns and permissions,
 * reporting every problem in every file in one pass.
 */
export function compilePlaybookFiles(files: readonly PlaybookFile[], registry: ActionRegistry = builtInActions()): CompileResult {
  const playbooks: CompiledPlaybook[] = [];
  const problems: PlaybookProblem[] = [];
  for (const file of files) {
    const source = parseSource(file.path, file.text);
    if (source.syntaxErrors.length > 0) {
      problems.push(...source.syntaxErrors.map((error) => ({ file: file.path, ...error.position, path: '', message: `YAML: ${error.message}` })));
      continue;
    }
    const documents: Array<[unknown, DocumentPath]> = Array.isArray(source.value) ? source.value.map((value, index): [unknown, DocumentPath] => [value, [index]]) : [[source.value, []]];
    if (source.value === undefined || source.value === null) {
      problems.push({ file: file.path, line: 1, column: 1, path: '', message: 'is empty: a playbook file holds one playbook or a list of them' });
      continue;
    }
    for (const [value, base] of documents) {
      const { compiled, problems: found } = compileDocument(value, base, source, registry);
      const id = (value as { id?: unknown } | null)?.id;
      for (const found_ of found) {
        problems.push({
          file: file.path,
          ...source.locate(found_.path, found_.atKey),
          path: formatDocumentPath(found_.path),
          message: found_.message,
          ...(found_.suggestion === undefined ? {} : { suggestion: found_.suggestion }),
          ...(typeof id === 'string' ? { playbook: id } : {}),
        });
      }
      if (compiled !== undefined) playbooks.push(compiled);
    }
  }
  problems.push(...libraryProblems(playbooks));
  return { playbooks, problems };
}

/** Like `compilePlaybookFiles`, but all or nothing. @throws PlaybookCompileError with every problem. */
export function compilePlaybooks(files: readonly PlaybookFile[], registry: ActionRegistry = builtInActions()): CompiledPlaybook[] {
  const { playbooks, problems } = compilePlaybookFiles(files, registry);
  if (problems.length > 0) throw new PlaybookCompileError(problems);
  return [...playbooks];
}

export { formatProblem };
