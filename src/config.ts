import { z } from 'zod';

import { RiposteError } from './errors.js';
import { REGION_PATTERN } from './intake/aws-names.js';

/**
 * How automatic deliveries are handled, as a deployment chooses:
 * `off` ignores them, `plan` (the default) records what would be done,
 * `enforce` makes the changes.
 */
export const AutomaticMode = { Off: 'off', Plan: 'plan', Enforce: 'enforce' } as const;
export type AutomaticMode = (typeof AutomaticMode)[keyof typeof AutomaticMode];


const optionalString = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

/** The environment variables Riposte reads, and how each is validated. */
const environmentSchema = z.object({
  AWS_REGION: z
    .string()
    .regex(REGION_PATTERN, 'must be an AWS region such as us-east-1')
    .optional(),
  AWS_DEFAULT_REGION: z
    .string()
    .regex(REGION_PATTERN, 'must be an AWS region such as us-east-1')
    .optional(),
  RIPOSTE_AWS_ENDPOINT: optionalString.pipe(
    z.url({ protocol: /^https?$/, error: 'must be an http(s) URL such as http://127.0.0.1:5000' }).optional(),
  ),
  RIPOSTE_AUTOMATIC: z.enum(['off', 'plan', 'enforce']).default('plan'),
  RIPOSTE_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
  RIPOSTE_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
});

export interface AwsSettings {
  /** Region of the hosting account; member-account clients name their own. */
  readonly region: string;
  /** Endpoint override (the emulator locally and in tests); unset in production. */
  readonly endpoint?: string;
  /** Attempts per call, including the first, under the SDK's adaptive retry strategy. */
  readonly maxAttempts: number;
}

export interface Config {
  readonly aws: AwsSettings;
  readonly automatic: AutomaticMode;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
}

export class ConfigError extends RiposteError {
  readonly code = 'CONFIG_INVALID';
  constructor(message: string, field: string) {
    super(message, { context: { field } });
  }
}

const DEFAULT_REGION = 'us-east-1';

/**
 * Parses configuration once, from an environment passed in (never read at
 * module scope, so tests and handlers each choose theirs).
 *
 * @throws ConfigError naming the first invalid variable.
 */
export function loadConfig(environment: NodeJS.ProcessEnv = process.env): Config {
  const parsed = environmentSchema.safeParse(environment);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') ?? '(environment)';
    throw new ConfigError(`Invalid configuration: ${field} ${issue?.message ?? 'is invalid'}`, field);
  }
  const env = parsed.data;
  const endpoint = env.RIPOSTE_AWS_ENDPOINT;
  return Object.freeze({
    aws: Object.freeze({
      region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? DEFAULT_REGION,
      maxAttempts: env.RIPOSTE_MAX_ATTEMPTS,
      ...(endpoint === undefined ? {} : { endpoint }),
    }),
    automatic: env.RIPOSTE_AUTOMATIC,
    logLevel: env.RIPOSTE_LOG_LEVEL,
  });
}
