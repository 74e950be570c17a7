import * as z from '../zod.js';

import { builtInActions, type ActionRegistry } from '../actions/index.js';
import { FIELDS, MATCHABLE_FIELD_NAMES, type FieldSpec } from './fields.js';
import { matchBlockSchema, playbookFileSchema, stepSchema } from './schema.js';

type JsonSchema = Record<string, unknown>;
const TARGET = 'draft-07';
const MATCH_BLOCK_REF = '#/definitions/MatchBlock';

function fieldValueSchema(name: string, spec: FieldSpec): JsonSchema {
  const scalar: JsonSchema = spec.type === 'number' ? { type: 'number' } : { type: 'string', ...(spec.values === undefined ? {} : { enum: [...spec.values] }) };
  const operators: Record<string, JsonSchema> = {
    equals: scalar,
    in: { type: 'array', items: scalar, minItems: 1 },
    exists: { type: 'boolean' },
    not: {},
  };
  if (spec.type === 'number') Object.assign(operators, { gt: { type: 'number' }, gte: { type: 'number' }, lt: { type: 'number' }, lte: { type: 'number' } });
  else operators.prefix = { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, minItems: 1 }] };
  return {
    description: `${spec.description} (${spec.type === 'string[]' ? 'a list: a value means "contains"' : spec.type})`,
    anyOf: [scalar, { type: 'array', items: scalar, minItems: 1 }, { type: 'object', properties: operators, additionalProperties: false, minProperties: 1 }],
    title: name,
  };
}

/**
 * The JSON Schema of the playbook language, for editors (the YAML language
 * server): every matchable field with its type and values, every action with
 * its parameters. Generated from the same zod schemas and registry the
 * compiler uses; `playbook.schema.json` is this, committed (a test keeps it fresh).
 */
export function playbookJsonSchema(registry: ActionRegistry = builtInActions()): JsonSchema {
  const schema = z.toJSONSchema(playbookFileSchema, {
    target: TARGET,
    io: 'input',
    unrepresentable: 'any',
    override: (ctx) => {
      const json = ctx.jsonSchema as JsonSchema;
      if (ctx.zodSchema === stepSchema) {
        for (const key of Object.keys(json)) if (key !== 'description') delete json[key];
        json.oneOf = registry.all().map((action) => ({
          type: 'object',
          description: action.description,
          properties: {
            [action.name]: { ...(z.toJSONSchema(action.params, { target: TARGET, io: 'input', unrepresentable: 'any' }) as JsonSchema), $schema: undefined },
            continueOnError: { type: 'boolean', description: 'Go on with the next step if this one fails' },
            concurrent: { type: 'boolean', description: 'Start with the step before it instead of after it (independent steps run side by side)' },
          },
          required: [action.name],
          additionalProperties: false,
        }));
      }
      if (ctx.zodSchema === matchBlockSchema) {
        for (const key of Object.keys(json)) if (key !== 'description') delete json[key];
        json.type = 'object';
        json.properties = {
          ...Object.fromEntries(MATCHABLE_FIELD_NAMES.map((name) => [name, fieldValueSchema(name, FIELDS[name] as FieldSpec)])),
          all: { type: 'array', items: { $ref: MATCH_BLOCK_REF }, minItems: 1 },
          any: { type: 'array', items: { $ref: MATCH_BLOCK_REF }, minItems: 1 },
          not: { $ref: MATCH_BLOCK_REF },
        };
        json.additionalProperties = false;
        json.minProperties = 1;
      }
    },
  }) as JsonSchema;
  // JSON.stringify drops the `$schema: undefined` placeholders left in nested action schemas.
  return JSON.parse(JSON.stringify({ ...schema, title: 'Riposte playbook', $id: 'https://riposte.dev/playbook.schema.json' })) as JsonSchema;
}

/** The committed file's text: stable key order, two-space indent, trailing newline. */
export function playbookJsonSchemaText(registry?: ActionRegistry): string {
  return `${JSON.stringify(playbookJsonSchema(registry), null, 2)}\n`;
}
