import * as z from '../zod.js';

/**
 * The highest change limit a playbook may set (10,000 resources an hour):
 * above the number of resources of one kind even a 500-account organisation
 * has changed in an hour, so still a breaker, and small enough that the
 * ledger's slots for one playbook stay a bounded read.
 */
export const MAX_RESOURCES_PER_HOUR = 10_000;

/** Security Hub custom action ids: at most 20 letters and digits. */
export const customActionIdSchema = z.string().check(z.regex(/^[A-Za-z0-9]{1,20}$/, 'must be 1–20 letters and digits (a Security Hub custom action id)'));

const customActionSchema = z.union([
  customActionIdSchema,
  z.strictObject({
    id: customActionIdSchema,
    name: z.string().check(z.minLength(1), z.maxLength(20, 'must be at most 20 characters (Security Hub custom action name)')),
    description: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
  }),
]);

/** `triggers.api` as a mapping: on-demand requests, and whether this playbook is the default among those accepting a request. */
const apiTriggerSchema = z.strictObject({
  /** The one run when an on-demand request names no playbook and several API playbooks' matches accept it. */
  default: z._default(z.boolean(), false),
});

const isoDate = z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}(T[\d:.]+Z)?$/, 'must be a date such as 2027-01-31'));

const exemptAccountSchema = z.union([
  z.string().check(z.regex(/^\d{12}$/, 'must be a 12-digit AWS account id')),
  z.strictObject({
    id: z.string().check(z.regex(/^\d{12}$/, 'must be a 12-digit AWS account id')),
    until: z.optional(isoDate),
    owner: z.optional(z.string().check(z.minLength(1))),
  }),
]);

/**
 * One step: an action name as the only key (besides `continueOnError` and `concurrent`),
 * with its parameters as the value. Names and parameters are checked against
 * the action registry by the compiler.
 */
export const stepSchema = z
  .looseObject({
    continueOnError: z.optional(z.boolean()),
    concurrent: z.optional(z.boolean()),
  })
  .check(z.meta({ id: 'Step', description: 'One action: `- action.name: { parameters }`, optionally with continueOnError and concurrent' }));

/** A condition in the `match` language; checked field by field by the compiler. */
export const matchBlockSchema = z.record(z.string(), z.unknown()).check(z.meta({ id: 'MatchBlock', description: 'Fields of the finding and the values they must have' }));

export const playbookSchema = z.strictObject({
  id: z.string().check(z.regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'must be lowercase letters, digits and dashes, at most 64')),
  title: z.string().check(z.minLength(1), z.maxLength(200)),
  description: z.optional(z.string()),
  triggers: z
    .strictObject({
      /** Run on findings EventBridge delivers, without a human. */
      automatic: z._default(z.boolean(), false),
      /** Also offered as a Security Hub custom action. */
      customAction: z.optional(customActionSchema),
      /**
       * May be started by the on-demand API, for requests its match accepts;
       * `{ default: true }`: also the one run when a request names no
       * playbook and several API playbooks accept it.
       */
      api: z._default(z.union([z.boolean(), apiTriggerSchema]), false),
    })
    .check(z.refine((triggers) => triggers.automatic || triggers.customAction !== undefined || triggers.api !== false, 'must enable at least one of automatic, customAction, api')),
  match: z.optional(matchBlockSchema),
  conditions: z.optional(z.record(z.string(), z.unknown())).check(z.meta({ description: 'Raw json-rules-engine conditions (escape hatch), all of which must also hold' })),
  exempt: z.optional(
    z.strictObject({
      accounts: z._default(z.array(exemptAccountSchema), []),
      /** Resource tags (read live at run time) that exempt a resource. */
      tags: z._default(z.record(z.string(), z.string()), {}),
    }),
  ),
  steps: z.array(stepSchema).check(z.minLength(1, 'must list at least one step')),
  priority: z._default(z.number().check(z.int(), z.minimum(1), z.maximum(100)), 1),
  /** `plan`: this playbook never changes anything, whatever the deployment allows. */
  mode: z.optional(z.literal('plan')),
  /** Act on sample findings (GuardDuty's generated samples, Security Hub's sample products) as on real ones. Off: a sample only ever gets a plan. */
  allowSampleFindings: z._default(z.boolean(), false),
  limits: z.optional(
    z.strictObject({
      /**
       * At most this many resources changed per hour, across all accounts: a
       * circuit breaker. Bounded at MAX_RESOURCES_PER_HOUR: a breaker that
       * lets more through than a large organisation has resources of one kind
       * breaks nothing, and the DynamoDB ledger reads every slot held in the
       * window on each reservation.
       */
      maxResourcesPerHour: z
        .number()
        .check(
          z.int(),
          z.minimum(1),
          z.maximum(MAX_RESOURCES_PER_HOUR, `must be at most ${MAX_RESOURCES_PER_HOUR.toLocaleString('en-US')}: a limit above that no longer limits anything (leave "limits" out for none)`),
        ),
    }),
  ),
});
export type PlaybookDocument = z.infer<typeof playbookSchema>;

/** A playbook file holds one playbook or a list of them. */
export const playbookFileSchema = z.union([playbookSchema, z.array(playbookSchema).check(z.minLength(1))]);
