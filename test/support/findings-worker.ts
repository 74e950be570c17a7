import { writeSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { text } from 'node:stream/consumers';

import type { MetadataBearer, Pluggable } from '@smithy/types';

import { AwsClientFactory } from '../../src/aws/index.js';
import { loadConfig } from '../../src/config.js';
import { emulatorClientOptions } from '../../src/emulator/index.js';
import { createLambdaRuntime, findingsHandler, MemoryMetricsSink, type LambdaContext, type SqsEvent } from '../../src/lambda/index.js';
import { RiposteLogger } from '../../src/log/index.js';

/*
 * The findings function in a process of its own, for a test that kills it
 * (test/handlers/crash-resume.int.test.ts): started with `node --import tsx`,
 * the lab's environment (RIPOSTE_*: its endpoint, ledger table, queues,
 * bucket, compiled library), and an SQS event as JSON on standard input.
 *
 * It builds the runtime as a deployment's cold start does (createLambdaRuntime
 * from the environment; the emulator's credentials), hands the event to the
 * findings handler, and writes the batch response as JSON on standard output.
 *
 * RIPOSTE_TEST_KILL_AFTER_CALLS=N: the process kills itself with SIGKILL as
 * the answer to its Nth AWS call (every client: member accounts, ledger,
 * Security Hub, SNS, EventBridge) comes back, before any code sees that
 * answer: the call took effect in the emulator, and nothing after it ran.
 * Counting its own calls makes the point independent of the machine's speed.
 * Before dying it writes one line on standard error: `killed after call N:
 * <Command> <what it named>`. Without the variable it counts, and writes
 * `calls: N` on standard error at the end.
 *
 * Logs (info and above, JSON lines) go to standard error.
 */

const KILL_AFTER = process.env.RIPOSTE_TEST_KILL_AFTER_CALLS;
const killAfter = KILL_AFTER === undefined || KILL_AFTER === '' ? undefined : Number(KILL_AFTER);
if (killAfter !== undefined && !(Number.isInteger(killAfter) && killAfter > 0)) throw new Error(`RIPOSTE_TEST_KILL_AFTER_CALLS=${KILL_AFTER} is not a positive integer`);

/** stderr, written synchronously: a line written just before SIGKILL must not be lost in a buffer. */
const stderrLine = (line: string): void => {
  writeSync(2, `${line}\n`);
};

/** A few identifying parameters of a call, for the line that says where the process died. */
function named(input: unknown): string {
  if (typeof input !== 'object' || input === null) return '';
  const keys = ['InstanceId', 'VolumeId', 'NetworkInterfaceId', 'GroupId', 'RoleName', 'AssociationId', 'Key', 'TableName', 'TopicArn'];
  const shown = keys.flatMap((key) => {
    const value = (input as Record<string, unknown>)[key];
    return typeof value === 'string' ? [`${key}=${value}`] : [];
  });
  const { Item, Key } = input as { Key?: unknown; Item?: unknown };
  const item = Item ?? Key;
  if (typeof item === 'object' && item !== null && 'pk' in item) shown.push(`pk=${String(item.pk)}`);
  return shown.join(' ');
}

let calls = 0;
/** Counts each call as its answer (or error) comes back, outside the SDK's retries; at call N, dies. */
const killer: Pluggable<object, MetadataBearer> = {
  applyToStack: (stack) => {
    stack.add(
      (next, context) => async (args) => {
        const settled = (): void => {
          calls += 1;
          if (calls !== killAfter) return;
          stderrLine(`killed after call ${String(calls)}: ${context.commandName ?? 'unknown'} ${named(args.input)}`);
          process.kill(process.pid, 'SIGKILL');
        };
        try {
          const output = await next(args);
          settled();
          return output;
        } catch (error) {
          settled();
          throw error;
        }
      },
      { step: 'initialize', name: 'riposteTestKiller', priority: 'high' },
    );
  },
};

const environment = process.env;
const emulator = emulatorClientOptions();
const runtime = await createLambdaRuntime({
  environment,
  factory: new AwsClientFactory(loadConfig(environment).aws, { ...emulator, plugins: [...(emulator.plugins ?? []), killer] }),
  logger: new RiposteLogger({ logLevel: 'info', stream: { write: (chunk: string) => writeSync(2, chunk) } }),
  metrics: new MemoryMetricsSink(),
});
const event = JSON.parse(await text(process.stdin)) as SqsEvent;
const functionName = 'riposte-test-findings';
const deadline = Date.now() + 900_000;
// A context as the Node.js runtime passes it (more fields than the handler reads).
const context: LambdaContext & Record<string, unknown> = {
  callbackWaitsForEmptyEventLoop: true,
  functionName,
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
  memoryLimitInMB: '1024',
  awsRequestId: randomUUID(),
  logGroupName: `/aws/lambda/${functionName}`,
  logStreamName: `2026/03/14/[$LATEST]${randomUUID().replaceAll('-', '')}`,
  getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
};
const response = await findingsHandler(() => Promise.resolve(runtime))(event, context);
stderrLine(`calls: ${String(calls)}`);
process.stdout.write(`${JSON.stringify(response)}\n`);
