import * as z from 'zod';

/**
 * The highest change limit a playbook may set (10,000 resources an hour):
 * above the number of resources of one kind even a 500-account organisation
 * has changed in an hour, so still a breaker, and small enough that the
 * ledger's slots for one playbook stay a bounded read.
 */
export const MAX_RESOURCES_PER_HOUR = 10_000;

/** Security Hub custom action ids: at most 20 letters and digits. */
export const customActionIdSchema = z.string().regex(/^[A-Za-z0-9]{1,20}$/, 'must be 1–20 letters and digits (a Security Hub custom action id)');

const customActionSchema = z.union([
  customActionIdSchema,
  z.strictObject({
    id: customActionIdSchema,
    name: z.string().min(1).max(20, 'must be at most 20 characters (Security Hub custom action name)'),
    description: z.string().min(1).max(256).optional(),
  }),
]);

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}(T[\d:.]+Z)?$/, 'must be a date such as 2027-01-31');

const exemptAccountSchema = z.union([
  z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id'),
  z.strictObject({
    id: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id'),
    until: isoDate.optional(),
    owner: z.string().min(1).optional(),
  }),
]);

/**
 * One step: an action name as the only key (besides `continueOnError`),
 * with its parameters as the value. Names and parameters are checked against
 * the action registry by the compiler.
 */
export const stepSchema = z
  .looseObject({
    continueOnError: z.boolean().optional(),
  })
  .meta({ id: 'Step', description: 'One action: `- action.name: { parameters }`, optionally with continueOnError' });

/** A condition in the `match` language; checked field by field by the compiler. */
export const matchBlockSchema = z.record(z.string(), z.unknown()).meta({ id: 'MatchBlock', description: 'Fields of the finding and the values they must have' });

export const playbookSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'must be lowercase letters, digits and dashes, at most 64'),
  title: z.string().min(1).max(200),
  description: z.string().optional(),
  triggers: z
    .strictObject({
      /** Run on findings EventBridge delivers, without a human. */
      automatic: z.boolean().default(false),
      /** Also offered as a Security Hub custom action. */
      customAction: customActionSchema.optional(),
      /** May be started by the on-demand API. */
      api: z.boolean().default(false),
    })
    .refine((triggers) => triggers.automatic || triggers.customAction !== undefined || triggers.api, 'must enable at least one of automatic, customAction, api'),
  match: matchBlockSchema.optional(),
  conditions: z.record(z.string(), z.unknown()).optional().meta({ description: 'Raw json-rules-engine conditions (escape hatch), all of which must also hold' }),
  exempt: z
    .strictObject({
      accounts: z.array(exemptAccountSchema).default([]),
      /** Resource tags (read live at run time) that exempt a resource. */
      tags: z.record(z.string(), z.string()).default({}),
    })
    .optional(),
  steps: z.array(stepSchema).min(1, 'must list at least one step'),
  priority: z.number().int().min(1).max(100).default(1),
  /** `plan`: this playbook never changes anything, whatever the deployment allows. */
  mode: z.literal('plan').optional(),
  /** Act on sample findings (GuardDuty's generated samples, Security Hub's sample products) as on real ones. Off: a sample only ever gets a plan. */
  allowSampleFindings: z.boolean().default(false),
  limits: z
    .strictObject({
      /**
       * At most this many resources changed per hour, across all accounts: a
       * circuit breaker. Bounded at MAX_RESOURCES_PER_HOUR: a breaker that
       * lets more through than a large organisation has resources of one kind
       * breaks nothing, and the DynamoDB ledger reads every slot held in the
       * window on each reservation.
       */
      maxResourcesPerHour: z
        .number()
        .int()
        .min(1)
        .max(MAX_RESOURCES_PER_HOUR, `must be at most ${MAX_RESOURCES_PER_HOUR.toLocaleString('en-US')}: a limit above that no longer limits anything (leave "limits" out for none)`),
    })
    .optional(),
});
export type PlaybookDocument = z.infer<typeof playbookSchema>;

/** A playbook file holds one playbook or a list of them. */
export const playbookFileSchema = z.union([playbookSchema, z.array(playbookSchema).min(1)]);
