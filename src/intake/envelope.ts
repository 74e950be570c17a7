import * as z from '../zod.js';

import { accountIdSchema, regionSchema } from '../aws-names.js';
import { MalformedEventError } from './errors.js';
import { parseOrThrow } from './field-path.js';
import type { JsonObject } from './raw-input.js';
import type { EventEnvelope } from './types.js';

/** The EventBridge envelope every AWS event arrives in. AWS adds fields over time: unknown ones are kept, not rejected. */
const envelopeSchema = z.looseObject({
  version: z.optional(z.string()),
  id: z.string().check(z.minLength(1, 'must not be empty')),
  'detail-type': z.string().check(z.minLength(1, 'must not be empty')),
  source: z.string().check(z.minLength(1, 'must not be empty')),
  account: accountIdSchema,
  time: z.optional(z.string()),
  region: regionSchema,
  resources: z._default(z.array(z.string()), []),
  detail: z.record(z.string(), z.unknown()),
});

export interface ParsedEnvelope {
  readonly envelope: EventEnvelope;
  readonly detail: JsonObject;
}

/** Reads the envelope; errors name the field (`account`, `detail-type`, `detail`…) and the event's source when known. */
export function parseEnvelope(event: JsonObject, origin: string): ParsedEnvelope {
  const source = typeof event.source === 'string' && event.source !== '' ? event.source : origin;
  const value = parseOrThrow(envelopeSchema, event, (message, field) => new MalformedEventError(message, source, field));
  return {
    envelope: {
      id: value.id,
      source: value.source,
      detailType: value['detail-type'],
      account: value.account,
      region: value.region,
      ...(value.time === undefined ? {} : { time: value.time }),
      resources: value.resources,
    },
    detail: value.detail,
  };
}
