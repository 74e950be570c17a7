import * as z from '../zod.js';

import { builtInActions, TARGET_READ_PERMISSIONS, type ActionDefinition, type ActionRegistry } from '../actions/index.js';
import {
  FIELDS,
  FIELD_NAMES,
  MATCH_OPERATORS,
  MATCHABLE_FIELD_NAMES,
  MAX_ALIAS_COUNT,
  MAX_CUSTOM_ACTIONS,
  MAX_NESTING,
  MAX_RESOURCES_PER_HOUR,
  playbookSchema,
  type FieldSpec,
} from '../playbooks/index.js';

type JsonSchema = Record<string, unknown>;

/** How to regenerate the references: what their header says and the staleness test tells. */
export const REFERENCE_COMMAND = 'npx riposte reference --output docs';

/** The generated files, by name inside the output directory (`docs/` in the repository). */
export const REFERENCE_FILES = { playbook: 'playbook-reference.md', action: 'action-reference.md' } as const;

/**
 * What a reference row says when neither the schema nor the notes below
 * describe a key: visible in the document, and refused by the reference test,
 * so a new key or parameter cannot arrive undocumented.
 */
export const MISSING_DESCRIPTION = '(no description)';

/**
 * Descriptions of the playbook keys the zod schema does not yet carry as
 * `.meta({ description })` (its TSDoc comments are not visible at run
 * time). A description in the schema wins; the reference test fails on an
 * entry naming no key of the schema, so this list cannot drift.
 */
export const PLAYBOOK_KEY_NOTES: ReadonlyMap<string, string> = new Map([
  ['id', 'The playbook’s id, unique in the library: runs, notes, the ledger and an API request’s `playbook` name it'],
  ['title', 'A one-line title for people'],
  ['description', 'Free text for people'],
  ['triggers', 'How the playbook may be started: at least one of `automatic`, `customAction`, `api`'],
  ['triggers.automatic', 'Run on findings EventBridge delivers, without a human, as far as the deployment’s `automatic` setting allows (`off`, `plan` by default, `enforce`)'],
  [
    'triggers.customAction',
    `Also offered as a Security Hub custom action: its id (then also its name), or \`{ id, name, description }\`; one id has one name across the library, and the library defines at most ${MAX_CUSTOM_ACTIONS} (Security Hub’s limit per account and region)`,
  ],
  ['triggers.customAction.id', 'The custom action id: 1–20 letters and digits'],
  ['triggers.customAction.name', 'The name the Security Hub console shows: at most 20 characters'],
  ['triggers.customAction.description', 'The description the Security Hub console shows'],
  [
    'triggers.api',
    'May be started by the on-demand API (`POST /respond`, `riposte respond`) for an EC2 instance, when its `match` accepts the request: only its conditions on `account`, `region`, `partition`, `resource.type` and `resource.id` apply (the facts a request carries); `true`, or `{ default: true }`',
  ],
  [
    'triggers.api.default',
    'The playbook run when a request names no playbook and the matches of several API playbooks accept it; with several accepting and not exactly one of them the default, the request is refused, naming them',
  ],
  ['match', 'Which findings it handles: fields of the finding and the values they must have (see [Match](#match)); an automatic or custom-action playbook needs `match` or `conditions`'],
  ['exempt', 'What this playbook leaves alone, besides the deployment’s exempt tag and excluded accounts'],
  ['exempt.accounts', 'Accounts this playbook never changes: a 12-digit id, or `{ id, until, owner }`'],
  ['exempt.accounts[].id', 'The 12-digit account id'],
  ['exempt.accounts[].until', 'The last day (UTC) the exemption protects, or the instant it ends; once past, the account is no longer exempt; a date that cannot be read keeps the exemption'],
  ['exempt.accounts[].owner', 'Who asked for the exemption: quoted in the reason a run records'],
  ['exempt.tags', 'Resource tags, read live at run time, that exempt a resource (key exact, value ignoring case); `riposte:exempt-until` and `riposte:exempt-owner` tags bound and attribute them'],
  [
    'steps',
    'The actions, in order: `- action.name: { parameters }`, optionally with `continueOnError: true` and `concurrent: true` (see [Steps](#steps) and the [action reference](action-reference.md))',
  ],
  ['priority', 'Order among the playbooks matching one finding: higher runs first'],
  ['mode', '`plan`: this playbook never changes anything, whatever the deployment and the trigger allow'],
  ['allowSampleFindings', 'Act on sample findings (GuardDuty’s generated samples, Security Hub’s sample products) as on real ones; off, a sample only ever gets a plan'],
  ['limits', 'Change limits: a circuit breaker (leave `limits` out for none)'],
  [
    'limits.maxResourcesPerHour',
    `At most this many distinct resources (by the resolved target’s ARN) changed per sliding hour, across all accounts; past it the playbook stops, records why and notifies once per trip; at most ${MAX_RESOURCES_PER_HOUR.toLocaleString('en-US')}`,
  ],
]);

/**
 * Descriptions of action parameters whose zod schemas do not yet carry
 * `.describe()` / `.meta({ description })`, by action then parameter. A
 * description in the schema wins; the reference test fails on an entry
 * naming no action or parameter of the registry.
 */
export const ACTION_PARAM_NOTES: ReadonlyMap<string, ReadonlyMap<string, string>> = new Map([
  [
    'ec2.capture-metadata',
    new Map([
      ['consoleOutput', 'Also capture the console output (`GetConsoleOutput`) as evidence'],
      ['screenshot', 'Also capture a console screenshot (`GetConsoleScreenshot`); one that cannot be taken is recorded as unavailable, with the reason, and never fails the step'],
    ]),
  ],
  ['ec2.isolate', new Map([['allowAllFirst', 'Move every interface to an allow-all group first, so its tracked connections become untracked and stop at once when the quarantine group is applied']])],
  [
    'ec2.revoke-unrestricted-ingress',
    new Map([
      ['ports', 'Ports whose open ingress is revoked: any rule from one of `cidrs` covering one of them (a port range or an all-traffic rule included)'],
      ['cidrs', 'Source ranges that count as unrestricted'],
    ]),
  ],
  [
    'ec2.snapshot-volumes',
    new Map([
      ['copyTags', 'Copy each volume’s own tags to its snapshot, beside Riposte’s evidence tags (`aws:` and `riposte:` keys are not copied)'],
      [
        'shareWithAccount',
        'Share the snapshots with this account through their create-volume permission: a 12-digit account id, or `forensics` for the deployment’s forensics account (`RIPOSTE_FORENSICS_ACCOUNT`; none configured: nothing is shared, and the step says so)',
      ],
      [
        'forensicsKmsKey',
        'With `shareWithAccount`: the customer managed key (alias, key id or ARN) each encrypted snapshot is copied under before the copy is shared; the member template creates `alias/riposte-forensics`. AWS managed keys (`alias/aws/…`) are refused: their snapshots cannot be shared',
      ],
    ]),
  ],
  [
    'finding.update',
    new Map([
      ['workflow', 'Workflow status to set (at least one of `workflow` and `note`)'],
      ['note', 'Note text, written after Riposte’s header (run and playbook), authored `riposte`, cut to Security Hub’s 512 characters'],
    ]),
  ],
  [
    'iam.set-password-policy',
    new Map([
      ['minimumPasswordLength', 'Minimum password length (IAM.15); a longer current minimum is kept'],
      ['requireUppercaseCharacters', 'Require an uppercase letter (IAM.11); a requirement already on stays on'],
      ['requireLowercaseCharacters', 'Require a lowercase letter (IAM.12); a requirement already on stays on'],
      ['requireSymbols', 'Require a symbol (IAM.13); a requirement already on stays on'],
      ['requireNumbers', 'Require a number (IAM.14); a requirement already on stays on'],
      ['passwordReusePrevention', 'Previous passwords that cannot be reused (IAM.16); a larger current count is kept'],
      ['maxPasswordAge', 'Days before a password expires (IAM.17); a shorter current maximum is kept'],
      ['allowUsersToChangePassword', 'Let IAM users change their own password; already allowed stays allowed'],
      ['hardExpiry', 'Users whose password expired cannot set a new one (an administrator must); already on stays on'],
    ]),
  ],
  [
    'notify',
    new Map([
      ['topicArn', 'SNS topic to publish to, instead of the deployment’s (`RIPOSTE_TOPIC_ARN`)'],
      ['subject', 'Subject of the message, made SNS-safe (one line of ASCII, at most 100 characters); by default `Riposte: <playbook> on <severity> finding in <account>`'],
    ]),
  ],
  [
    'ssm.run-command',
    new Map([
      ['document', 'SSM document to run'],
      ['commands', 'Commands passed as the document’s `commands` parameter'],
      ['timeoutSeconds', '`SendCommand`’s `TimeoutSeconds`'],
      ['waitSeconds', 'How long a run waits for the command to end before reporting it still running; the run then pauses and resumes from the resume queue (a Lambda runs at most 900 s)'],
    ]),
  ],
]);

/** What each match operator means, for every operator the compiler knows (the type makes a new one need a line here). */
const OPERATOR_MEANINGS: Readonly<Record<(typeof MATCH_OPERATORS)[number], { readonly value: string; readonly meaning: string }>> = {
  equals: { value: 'a value', meaning: 'the field equals it (a list field contains it); the same as writing the value alone' },
  in: { value: 'a list', meaning: 'the field is one of them (a list field contains any of them); the same as writing the list alone' },
  prefix: { value: 'a text or a list of texts', meaning: 'the field (an item of a list field) starts with one of them; text fields only' },
  gt: { value: 'a number', meaning: 'the field is greater; number fields only' },
  gte: { value: 'a number', meaning: 'the field is greater or equal; number fields only' },
  lt: { value: 'a number', meaning: 'the field is smaller; number fields only' },
  lte: { value: 'a number', meaning: 'the field is smaller or equal; number fields only' },
  exists: { value: '`true` or `false`', meaning: '`true`: the finding has the field; `false`: it has not' },
  not: { value: 'a value, a list or operators', meaning: 'what it holds does not hold' },
};

const TO_JSON_SCHEMA = { target: 'draft-07', io: 'input', unrepresentable: 'any' } as const;

/** One documented key: a playbook key (`triggers.automatic`) or an action parameter. */
export interface ReferenceRow {
  readonly path: string;
  readonly type: string;
  readonly required: boolean;
  readonly default?: unknown;
  readonly description: string;
}

const isSchema = (value: unknown): value is JsonSchema => value !== null && typeof value === 'object' && !Array.isArray(value);
const schemasIn = (value: unknown): JsonSchema[] => (Array.isArray(value) ? value.filter(isSchema) : []);

/** A schema with single-member `allOf` wrappers (how zod writes a described `$ref`) taken off. */
function unwrap(schema: JsonSchema): JsonSchema {
  const allOf = schemasIn(schema.allOf);
  return allOf.length === 1 && allOf[0] !== undefined ? { ...allOf[0], ...Object.fromEntries(Object.entries(schema).filter(([key]) => key !== 'allOf')) } : schema;
}

/** A value as YAML readers know it from JSON: `[22, 3389]`, `{}`, `riposte-quarantine` (a text unquoted on its own). */
const literal = (value: unknown): string => (Array.isArray(value) ? `[${value.map((item) => JSON.stringify(item)).join(', ')}]` : typeof value === 'string' ? value : JSON.stringify(value));
const code = (value: unknown): string => `\`${literal(value)}\``;

function range(min: unknown, max: unknown, unit = ''): string {
  if (typeof min === 'number' && typeof max === 'number') return `${min}–${max}${unit}`;
  if (min === 1 && unit !== '') return 'not empty';
  if (typeof min === 'number') return `at least ${min}${unit}`;
  if (typeof max === 'number') return `at most ${max}${unit}`;
  return '';
}

const withDetail = (base: string, details: readonly string[]): string => (details.length === 0 ? base : `${base} (${details.join(', ')})`);

/** A JSON Schema as a reader says it: `integer (1–100)`, `list of string`, `` `plan` ``. */
export function describeType(input: JsonSchema): string {
  const schema = unwrap(input);
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.split('/').at(-1) ?? schema.$ref;
    return name === 'MatchBlock' ? 'match block' : name === 'Step' ? 'step' : name;
  }
  if (schema.const !== undefined) return code(schema.const);
  if (Array.isArray(schema.enum)) return `one of ${schema.enum.map(code).join(', ')}`;
  const anyOf = schemasIn(schema.anyOf);
  if (anyOf.length > 0) return anyOf.map(describeType).join(', or ');
  switch (schema.type) {
    case 'string': {
      const length = range(schema.minLength, schema.maxLength, ' characters');
      return withDetail('string', [...(length === '' ? [] : [length]), ...(typeof schema.pattern === 'string' ? [`matching ${code(schema.pattern)}`] : [])]);
    }
    case 'integer':
    case 'number': {
      const bounds = range(schema.minimum, schema.maximum);
      return withDetail(schema.type, bounds === '' ? [] : [bounds]);
    }
    case 'boolean':
      return 'boolean';
    case 'array': {
      const items = isSchema(schema.items) ? schema.items : {};
      // A list of alternatives says "each": "list of a, or b" would read as "a list of a, or b".
      const each = schemasIn(unwrap(items).anyOf).length > 0 ? `list, each ${describeType(items)}` : `list of ${describeType(items)}`;
      return typeof schema.minItems === 'number' && schema.minItems > 0 ? `${schema.minItems === 1 ? 'non-empty' : `at least ${schema.minItems} items:`} ${each}` : each;
    }
    case 'object': {
      if (isSchema(schema.properties)) return `mapping of ${Object.keys(schema.properties).map(code).join(', ')}`;
      if (isSchema(schema.additionalProperties) && Object.keys(schema.additionalProperties).length > 0) return `mapping of string to ${describeType(schema.additionalProperties)}`;
      return 'mapping';
    }
    default:
      return 'anything';
  }
}

/** The object schemas a key's value may be, whose keys are documented beneath it (`triggers.customAction.id`, `exempt.accounts[].id`). */
function nested(schema: JsonSchema): { readonly suffix: string; readonly object: JsonSchema }[] {
  const value = unwrap(schema);
  if (isSchema(value.properties)) return [{ suffix: '.', object: value }];
  const alternatives = schemasIn(value.anyOf).flatMap((alternative) => nested(alternative));
  if (alternatives.length > 0) return alternatives;
  if (value.type === 'array' && isSchema(value.items)) return nested(value.items).map(({ object }) => ({ suffix: '[].', object }));
  return [];
}

/** Every key of an object schema, depth first, each followed by the keys of its own mappings. */
export function schemaRows(object: JsonSchema, notes: ReadonlyMap<string, string>, prefix = ''): ReferenceRow[] {
  const properties = isSchema(object.properties) ? object.properties : {};
  const required = new Set(Array.isArray(object.required) ? object.required : []);
  return Object.entries(properties).flatMap(([key, value]) => {
    if (!isSchema(value)) return [];
    const path = `${prefix}${key}`;
    const schema = unwrap(value);
    const row: ReferenceRow = {
      path,
      type: describeType(schema),
      required: required.has(key),
      ...(schema.default === undefined ? {} : { default: schema.default }),
      description: typeof schema.description === 'string' ? schema.description : (notes.get(path) ?? MISSING_DESCRIPTION),
    };
    return [row, ...nested(schema).flatMap(({ suffix, object: inner }) => schemaRows(inner, notes, `${path}${suffix}`))];
  });
}

/**
 * A table cell: one line, with the pipes Markdown would read as cell borders
 * escaped, and outside code spans the angle brackets it would read as HTML
 * (`<company>/<product>` would vanish) written as entities.
 */
const cell = (text: string): string =>
  text
    .replace(/\r?\n/g, ' ')
    .split('`')
    .map((part, index) => (index % 2 === 0 ? part.replace(/</g, '&lt;').replace(/>/g, '&gt;') : part))
    .join('`')
    .replace(/\|/g, '\\|');

function table(head: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`)];
}

const defaultOf = (row: ReferenceRow): string => (row.required ? 'required' : row.default === undefined ? '—' : code(row.default));

/** GitHub's anchor for a heading: lower case, punctuation other than `-` and `_` dropped, spaces as `-`. */
export const anchorOf = (heading: string): string =>
  heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');

const generatedLine = (from: string): string => `> Generated from ${from} by \`${REFERENCE_COMMAND}\`. Do not edit it by hand: \`test/cli/reference.test.ts\` fails when it is stale.`;

/** The playbook keys, as the reference documents them (the schema's, with the notes above where it has no description). */
export function playbookKeyRows(): ReferenceRow[] {
  return schemaRows(z.toJSONSchema(playbookSchema, TO_JSON_SCHEMA), PLAYBOOK_KEY_NOTES);
}

/** An action's parameters, as the reference documents them. */
export function actionParamRows(action: ActionDefinition): ReferenceRow[] {
  return schemaRows(z.toJSONSchema(action.params, TO_JSON_SCHEMA), ACTION_PARAM_NOTES.get(action.name) ?? new Map());
}

const fieldType = (spec: FieldSpec): string => (spec.type === 'string[]' ? 'list of string' : spec.type);
const fieldValues = (spec: FieldSpec): string => (spec.values === undefined ? 'any' : spec.values.map(code).join(', '));

/**
 * The playbook reference (docs/playbook-reference.md): every key of the
 * playbook schema with its type, default and description, the match fields
 * and operators, the steps and the limits, all read from the schema, the
 * field table and the registry the compiler uses.
 */
export function playbookReference(registry: ActionRegistry = builtInActions()): string {
  const keys = playbookKeyRows();
  const internal = FIELD_NAMES.filter((name) => !MATCHABLE_FIELD_NAMES.includes(name));
  const lines = [
    '# Playbook reference',
    '',
    generatedLine('the playbook schema (`src/playbooks/schema.ts`), its match fields (`src/playbooks/fields.ts`) and the action registry (`src/actions`)'),
    '',
    'A playbook file (YAML) holds one playbook or a list of them. `npx riposte validate` checks them all and reports every problem as `file:line:column`; `playbook.schema.json` (`npx riposte schema`) gives an editor the same rules.',
    '',
    '## Keys',
    '',
    ...table(
      ['key', 'type', 'default', 'description'],
      keys.map((row) => [code(row.path), row.type, defaultOf(row), row.description]),
    ),
    '',
    '## Match',
    '',
    '`match` is a mapping of finding fields to conditions; every entry must hold. A condition is a value, a list (any of), or a mapping of operators (all of them must hold). `all`, `any` and `not` combine nested blocks. Every field and value is type-checked when the playbook is compiled: a wrong type is an error, never a rule that silently matches nothing.',
    '',
    '### Operators',
    '',
    ...table(
      ['operator', 'value', 'holds when'],
      MATCH_OPERATORS.map((operator) => [code(operator), OPERATOR_MEANINGS[operator].value, OPERATOR_MEANINGS[operator].meaning]),
    ),
    '',
    ...table(
      ['block', 'value', 'holds when'],
      [
        [code('all'), 'a list of match blocks', 'every block holds'],
        [code('any'), 'a list of match blocks', 'at least one block holds'],
        [code('not'), 'a match block', 'the block does not hold'],
      ],
    ),
    '',
    '### Fields',
    '',
    'On a list field (`list of string`), a value means “contains” and a list “contains any of”.',
    '',
    ...table(
      ['field', 'type', 'values', 'description'],
      MATCHABLE_FIELD_NAMES.map((name) => {
        const spec = FIELDS[name] as FieldSpec;
        return [code(name), fieldType(spec), fieldValues(spec), spec.description];
      }),
    ),
    '',
    `Set by how a run was triggered, not matchable (bind them with \`triggers\`): ${internal.map(code).join(', ')}.`,
    '',
    'Two bindings are added by the compiler (`npx riposte validate --verbose` lists them): conditions on `control.*` hold only for Security Hub’s own findings unless the playbook names a `product.id`, and a playbook that names neither `product.id` nor `product.owner` acts only on findings of AWS services and Riposte’s own.',
    '',
    '## Steps',
    '',
    'Each step names one action, with its parameters as the value (`{}` for the defaults), and may add `continueOnError: true` to go on with the next step when this one fails. Steps run in order, each after the one before it has ended, unless a step adds `concurrent: true`: it then starts with the step before it. Consecutive steps so marked run side by side as one group, and the next step without it waits for the whole group. A failed step stops the steps after its group (unless they have `continueOnError`), never the ones already running beside it; a step that waits on AWS (snapshots, a command) pauses the run once its group has ended, and only that step runs again on resume. Steps of a group must not depend on each other’s changes: a step may or may not see what the steps beside it changed. Until the run’s first change, the same read is sent once and its answer shared; in the first group that changes anything, each step keeps those answers until it changes something itself, which is how evidence captured beside isolation shows the instance as it was before it was isolated. The actions:',
    '',
    ...table(
      ['action', 'does'],
      registry.all().map((action) => [`[${code(action.name)}](action-reference.md#${anchorOf(action.name)})`, action.description]),
    ),
    '',
    '## Limits',
    '',
    ...table(
      ['limit', 'value'],
      [
        ['`limits.maxResourcesPerHour` at most', MAX_RESOURCES_PER_HOUR.toLocaleString('en-US')],
        ['custom actions in one library (Security Hub, per account and region)', String(MAX_CUSTOM_ACTIONS)],
        ['nesting of a playbook file', `${MAX_NESTING} levels`],
        ['YAML alias expansion', `${MAX_ALIAS_COUNT} nodes`],
      ],
    ),
    '',
  ];
  return lines.join('\n');
}

const list = (items: readonly string[]): string => (items.length === 0 ? 'none' : items.map(code).join(', '));
const yesNo = (value: boolean): string => (value ? 'yes' : 'no');
const reversible = (action: ActionDefinition): boolean => action.behaviour.rollback !== undefined;

/**
 * The action reference (docs/action-reference.md): for every registered
 * action its description, target, parameters (type, default, description),
 * the IAM actions it needs in the member account and in Riposte's own, and
 * whether it changes resources and can be rolled back.
 */
export function actionReference(registry: ActionRegistry = builtInActions()): string {
  const actions = registry.all();
  const lines = [
    '# Action reference',
    '',
    generatedLine('the action registry (`src/actions`)'),
    '',
    'A playbook step names an action and gives its parameters (strict: an unknown parameter is a compile error). Each action plans (reads only), runs (idempotent: a second run changes nothing), verifies by reading the state back and, where its change can be undone, rolls back (`npx riposte rollback --run ID`) from what the run recorded it replaced.',
    '',
    ...table(
      ['action', 'target', 'changes resources', 'reversible', 'does'],
      actions.map((action) => [`[${code(action.name)}](#${anchorOf(action.name)})`, action.target, yesNo(action.changesResources), yesNo(reversible(action)), action.description]),
    ),
    '',
    `**Member account** permissions are granted by the role Riposte assumes there (\`npx riposte roles\`: only the actions the playbooks use; \`--all\`: every action), which also holds the reads that resolve a target and its tags: ${list(TARGET_READ_PERMISSIONS.member)}. **Hosting** permissions are Riposte’s own, in the functions’ roles the stack generates.`,
    '',
  ];
  for (const action of actions) {
    const params = actionParamRows(action);
    lines.push(
      `## ${code(action.name)}`,
      '',
      `${action.description}.`,
      '',
      `- Target: ${action.target}`,
      `- Changes resources: ${yesNo(action.changesResources)}`,
      `- Reversible: ${reversible(action) ? 'yes: a rollback undoes it from what the run recorded' : 'no'}`,
      `- Member account permissions: ${list(action.permissions.member)}`,
      `- Hosting permissions: ${list(action.permissions.hosting)}`,
      '',
      ...(params.length === 0
        ? ['No parameters: `{}`.']
        : table(
            ['parameter', 'type', 'default', 'description'],
            params.map((row) => [code(row.path), row.type, defaultOf(row), row.description]),
          )),
      '',
    );
  }
  return lines.join('\n');
}

/** Both references, as `riposte reference` writes them and the test compares them. */
export function referenceDocuments(registry: ActionRegistry = builtInActions()): { readonly file: string; readonly text: string }[] {
  return [
    { file: REFERENCE_FILES.playbook, text: playbookReference(registry) },
    { file: REFERENCE_FILES.action, text: actionReference(registry) },
  ];
}
