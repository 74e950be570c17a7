import { AsyncLocalStorage } from 'node:async_hooks';

import type { HandlerExecutionContext, InitializeHandler, InitializeHandlerArguments, InitializeHandlerOutput, MetadataBearer, Pluggable } from '@smithy/types';

import { isReadOperation } from './read-operation.js';

/*
 * One answer per read until the run changes something.
 *
 * A run resolves its target, passes the guards, plans every step, then
 * starts changing things; until its first change, every step asks the member
 * account the same questions (the instance, its volumes, its interfaces),
 * and nothing the run does can change the answers. Within that window the
 * same read, on the same client with the same parameters, is sent once and
 * its answer shared: the guards, the plan and the first step act on one
 * value, as AWS gave it, and a large playbook does not multiply its calls by
 * its steps. From the run's first change on, every read goes to AWS again:
 * a verification reads what the change left, and a step waiting on a
 * snapshot or a command sees it progress.
 */

interface Window {
  /** Set by the run's first change: from then on nothing is shared. */
  closed: boolean;
  readonly answers: Map<string, Promise<unknown>>;
}

const windows = new AsyncLocalStorage<Window>();

/** Runs `work` as one run: its reads, until its first change, are each sent once. */
export function withRunReadMemo<T>(work: () => Promise<T>): Promise<T> {
  return windows.run({ closed: false, answers: new Map() }, work);
}

/** Stable text for a request's parameters: the same parameters in any key order are one read. */
function keyOf(value: unknown): string {
  return JSON.stringify(value, (_key, field: unknown) =>
    field !== null && typeof field === 'object' && !Array.isArray(field) && !(field instanceof Date) && !(field instanceof Uint8Array)
      ? Object.fromEntries(Object.entries(field as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : field,
  );
}

/**
 * The plugin for one member client (`client`: its service, account and
 * region, as the client cache names it). Outside a run it changes nothing.
 * Each caller gets its own copy of a shared answer, so a step that edits
 * what it read does not edit another's.
 */
export function runReadMemoPlugin(client: string): Pluggable<object, MetadataBearer> {
  return {
    applyToStack(stack) {
      stack.add(
        <Output extends MetadataBearer>(next: InitializeHandler<object, Output>, context: HandlerExecutionContext) =>
          async (args: InitializeHandlerArguments<object>): Promise<InitializeHandlerOutput<Output>> => {
            const window = windows.getStore();
            if (window === undefined || window.closed) return next(args);
            const operation = context.commandName ?? '';
            if (!isReadOperation(operation)) {
              window.closed = true;
              window.answers.clear();
              return next(args);
            }
            const key = `${client} ${operation} ${keyOf(args.input)}`;
            let answer = window.answers.get(key) as Promise<InitializeHandlerOutput<Output>> | undefined;
            if (answer === undefined) {
              answer = next(args);
              window.answers.set(key, answer);
              // A failed read is not shared: the next caller asks again.
              answer.catch(() => window.answers.delete(key));
            }
            const { output } = await answer;
            return { output: structuredClone(output), response: undefined };
          },
        { step: 'initialize', priority: 'high', name: 'riposteRunReadMemo' },
      );
    },
  };
}
