import type { BatchUpdateFindingsCommandInput } from '@aws-sdk/client-securityhub';
import type { MetadataBearer, Pluggable } from '@smithy/types';

import { AwsClientFactory } from '../../src/aws/index.js';

/**
 * The BatchUpdateFindings requests Riposte's own Security Hub clients send, in the order sent.
 * The requests go to the emulator as they are (nothing is answered here): this only keeps
 * a copy, so that a test can say which updates were asked for as well as read back what
 * Security Hub now holds.
 */
export class FindingUpdateLog {
  readonly #requests: BatchUpdateFindingsCommandInput[] = [];

  /** Added to a client's middleware stack: copies each BatchUpdateFindings input before it is serialised. */
  readonly plugin: Pluggable<object, MetadataBearer> = {
    applyToStack: (stack) => {
      stack.add(
        (next, context) => async (args) => {
          if (context.commandName === 'BatchUpdateFindingsCommand') this.#requests.push(structuredClone(args.input as BatchUpdateFindingsCommandInput));
          return next(args);
        },
        { step: 'initialize', name: 'riposteTestFindingUpdateLog' },
      );
    },
  };

  /** A factory making the clients `factory` makes (same settings, credentials and plugins), whose BatchUpdateFindings requests this log keeps. */
  observe(factory: AwsClientFactory): AwsClientFactory {
    return new AwsClientFactory(factory.settings, { ...factory.options, plugins: [...(factory.options.plugins ?? []), this.plugin] });
  }

  /** The requests so far, in order. */
  requests(): BatchUpdateFindingsCommandInput[] {
    return [...this.#requests];
  }
}
