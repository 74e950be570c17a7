import type {
  DeserializeHandler,
  DeserializeHandlerArguments,
  AbsoluteLocation,
  DeserializeHandlerOptions,
  HandlerOptions,
  DeserializeHandlerOutput,
  HandlerExecutionContext,
  MetadataBearer,
  Pluggable,
} from '@smithy/types';

import { EmulatorUnsupportedOperationError } from './errors.js';

/** `SecurityHubClient` -> `SecurityHub`, `BatchUpdateFindingsCommand` -> `BatchUpdateFindings`. */
const stripSuffix = (name: string | undefined, suffix: string): string =>
  name === undefined ? 'Unknown' : name.endsWith(suffix) ? name.slice(0, -suffix.length) : name;

interface RawHttpResponse {
  statusCode?: number;
  headers?: Record<string, string | undefined>;
  body?: { destroy?: () => void };
}

const isHtmlError = (response: RawHttpResponse | undefined): response is RawHttpResponse => {
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
    if (isHtmlError(response)) {
      response.body?.destroy?.();
      throw new EmulatorUnsupportedOperationError(
        stripSuffix(context.clientName, 'Client'),
        stripSuffix(context.commandName, 'Command'),
        response.statusCode ?? 0,
      );
    }
    return result;
  };

const options: DeserializeHandlerOptions & AbsoluteLocation & HandlerOptions = {
  step: 'deserialize',
  priority: 'low',
  name: 'riposteEmulatorGapMiddleware',
};

/** A client plugin that names operations the emulator lacks; used only with an endpoint override. */
export const emulatorGapPlugin: Pluggable<object, MetadataBearer> = {
  applyToStack(stack) {
    stack.add(emulatorGapMiddleware, options);
  },
};
