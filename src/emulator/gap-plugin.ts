import { Readable } from 'node:stream';

import type {
  AbsoluteLocation,
  DeserializeHandler,
  DeserializeHandlerArguments,
  DeserializeHandlerOptions,
  DeserializeHandlerOutput,
  HandlerExecutionContext,
  HandlerOptions,
  MetadataBearer,
  Pluggable,
} from '@smithy/types';

import { EmulatorAccessDeniedError, EmulatorUnsupportedOperationError } from './errors.js';

/** `SecurityHubClient` -> `SecurityHub`, `BatchUpdateFindingsCommand` -> `BatchUpdateFindings`. */
const stripSuffix = (name: string | undefined, suffix: string): string => (name === undefined ? 'Unknown' : name.endsWith(suffix) ? name.slice(0, -suffix.length) : name);

interface RawHttpResponse {
  statusCode?: number;
  headers?: Record<string, string | undefined>;
  body?: unknown;
}

async function readBody(body: unknown): Promise<Buffer> {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body === 'string' || Buffer.isBuffer(body)) return Buffer.from(body);
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Buffer | string>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

const isHtmlTyped = (response: RawHttpResponse | undefined): response is RawHttpResponse => {
  if (response?.statusCode === undefined || response.statusCode < 400) return false;
  const contentType = Object.entries(response.headers ?? {}).find(([name]) => name.toLowerCase() === 'content-type')?.[1];
  return contentType?.toLowerCase().startsWith('text/html') ?? false;
};

/**
 * Runs inside the SDK's deserializer (priority `low` in the deserialize step),
 * so it sees the raw HTTP response before the SDK tries to parse an HTML page
 * as XML or JSON and fails with an unreadable error.
 */
const emulatorGapMiddleware =
  <Output extends MetadataBearer>(next: DeserializeHandler<object, Output>, context: HandlerExecutionContext) =>
  async (args: DeserializeHandlerArguments<object>): Promise<DeserializeHandlerOutput<Output>> => {
    const result = await next(args);
    const response = result.response as RawHttpResponse | undefined;
    if (!isHtmlTyped(response)) return result;
    // moto labels some real AWS error documents text/html too (IAM denials under
    // enforcement): only an actual HTML page means "not implemented".
    const body = await readBody(response.body);
    const text = body.toString('utf8');
    const service = stripSuffix(context.clientName, 'Client');
    const operation = stripSuffix(context.commandName, 'Command');
    if (/^\s*<(!doctype html|html)/i.test(text) || text.trim() === '') {
      if (response.statusCode === 403) throw new EmulatorAccessDeniedError(service, operation);
      throw new EmulatorUnsupportedOperationError(service, operation, response.statusCode ?? 0);
    }
    response.body = Readable.from([body]);
    return result;
  };

const options: DeserializeHandlerOptions & AbsoluteLocation & HandlerOptions = {
  step: 'deserialize',
  priority: 'low',
  name: 'riposteEmulatorGapMiddleware',
};

/**
 * A client plugin that names operations the emulator lacks, and bare denials
 * under IAM enforcement. Passed to the client factory by whoever points it at
 * the emulator (the demo, the tests): production clients never carry it.
 */
export const emulatorGapPlugin: Pluggable<object, MetadataBearer> = {
  applyToStack(stack) {
    stack.add(emulatorGapMiddleware, options);
  },
};
