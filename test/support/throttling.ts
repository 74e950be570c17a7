import { EC2ServiceException } from '@aws-sdk/client-ec2';
import { ServiceException } from '@smithy/core/client';
import type { MetadataBearer, Pluggable, RetryStrategyV2, StandardRetryBackoffStrategy } from '@smithy/types';
import { StandardRetryStrategy } from '@smithy/core/retry';

/** What a throttling plugin did, for the test to report and check. */
export interface ThrottleTally {
  /** Attempts that reached the plugin (each retry is an attempt). */
  attempts: number;
  /** Attempts refused with a throttling error, never sent. */
  throttled: number;
}

export interface ThrottlingPlugin {
  readonly plugin: Pluggable<object, MetadataBearer>;
  readonly tally: ThrottleTally;
  /** AWS stops throttling: the test reads back what the burst left. */
  stop(): void;
}

/**
 * AWS throttling a share of the calls: `rate` of the attempts (from a seeded
 * generator, so a failure replays) are refused before they are sent, with the
 * error the service answers (`RequestLimitExceeded` from EC2,
 * `ThrottlingException` from the others), status 400 as AWS sends it.
 *
 * It sits in the deserialize step, inside the SDK's retry middleware: the
 * client's retry strategy sees each refusal as it would see AWS's, backs off
 * and retries, until its attempts or its retry capacity run out, and only
 * then does Riposte get the error.
 */
export function throttlingPlugin(rate: number, seed: number): ThrottlingPlugin {
  const tally: ThrottleTally = { attempts: 0, throttled: 0 };
  let throttling = true;
  // mulberry32: a small, well-distributed generator with a 32-bit state.
  let state = seed >>> 0;
  const random = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const plugin: Pluggable<object, MetadataBearer> = {
    applyToStack: (stack) => {
      stack.add(
        (next, context) => async (args) => {
          if (!throttling) return next(args);
          tally.attempts += 1;
          if (random() >= rate) return next(args);
          tally.throttled += 1;
          const ec2 = context.clientName === 'EC2Client';
          const options = {
            name: ec2 ? 'RequestLimitExceeded' : 'ThrottlingException',
            message: 'Rate exceeded',
            $fault: 'client' as const,
            $metadata: { httpStatusCode: ec2 ? 503 : 400, attempts: 1, totalRetryDelay: 0 },
          };
          throw ec2 ? new EC2ServiceException(options) : new ServiceException(options);
        },
        { step: 'deserialize', name: 'riposteTestThrottling', priority: 'low' },
      );
    },
  };
  return {
    plugin,
    tally,
    stop: () => {
      throttling = false;
    },
  };
}

/**
 * The SDK's standard retry strategy (attempts, retry capacity, what counts
 * as throttling) with its backoff scaled from AWS's seconds to milliseconds:
 * 1 s for a throttle becomes 4 ms, doubled on each retry. Only the waiting is
 * shortened; what is retried and when the strategy gives up are the SDK's.
 */
export function shortBackoffRetryStrategy(maxAttempts: number): RetryStrategyV2 {
  const backoff: StandardRetryBackoffStrategy = {
    computeNextBackoffDelay: (retries: number) => 4 * 2 ** retries,
    setDelayBase: () => undefined,
  };
  return new StandardRetryStrategy({ maxAttempts, backoff, baseDelay: 4 });
}
